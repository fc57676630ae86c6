"""The ragls language server: lifecycle, settings and document sync (features register from their modules)."""
from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from . import actions, inline
from .features.chat import ChatFeatures
from .features.completion import Completer, Timings
from .llm import ModelClient, ModelConfig
from .session import Session
from .settings import SECTION, Settings, api_key, parse, with_env

log = logging.getLogger(__name__)
VERSION = "0.1.0"
BULK_CHANGES = 50  # more watched-file events than this at once (a branch switch): refresh the whole index


class RaglsServer(LanguageServer):
    """Holds the session once the workspace is known; handlers reach everything through it."""

    def __init__(self) -> None:
        super().__init__("ragls", VERSION)
        self.settings: Settings = with_env(Settings())
        self.session: Session | None = None
        self.client: ModelClient | None = None
        self.completer: Completer | None = None
        self.chat: ChatFeatures | None = None
        self.root: Path | None = None
        self.indexing: asyncio.Task | None = None
        self.index_summary: str | None = None  # the last indexing run's one-line summary, or why it failed
        self.timings = Timings()

    def apply_settings(self, settings: Settings) -> None:
        """New settings: a new model client (an index setting change needs a restart)."""
        self.settings = with_env(settings)
        m = self.settings.model
        config = ModelConfig(base_url=m.base_url, api_key=api_key(self.settings), chat_model=m.chat_model,
                             completion_model=m.completion_model, fim_family=m.fim_template, timeout_s=m.timeout_s,
                             max_retries=m.max_retries, max_concurrency=m.max_concurrency)
        self.client = ModelClient(config)
        if self.session is not None:
            self.session.settings = self.settings
            self.completer = Completer(self.session, self.client)
            self.chat = ChatFeatures(self.session, self.client)
        log.info("settings: model %s at %s, fim %s", m.chat_model, m.base_url or "(default)", m.fim_template)

    def rel(self, uri: str) -> str | None:
        """Workspace-relative path of a document URI; None outside the workspace (such files are never read)."""
        path = to_fs_path(uri)
        if self.session is None or path is None:
            return None
        return self.session.relative(Path(path))

    def status(self) -> dict[str, object]:
        """What `ragls.status` answers: the index's state and the last completions' timings."""
        m = self.settings.model
        if self.session is None:
            state = "starting"
        elif self.indexing is not None and not self.indexing.done():
            state = "indexing"
        else:
            state = "error" if (self.index_summary or "").startswith("indexing failed") else "ready"
        return {"state": state, "root": str(self.root) if self.root else None, "index": self.index_summary,
                "model": {"configured": bool(m.chat_model and (m.base_url or api_key(self.settings))),
                          "baseUrl": m.base_url, "chatModel": m.chat_model, "completionModel": m.completion_model,
                          "fimTemplate": m.fim_template},
                "completion": self.timings.summary()}

    def show_error(self, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"ragls: {message}"))


def create_server() -> RaglsServer:
    server = RaglsServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: RaglsServer, params: types.InitializeParams) -> None:
        settings, problems = parse(params.initialization_options)
        ls.apply_settings(settings)
        folders = params.workspace_folders or []
        uri = folders[0].uri if folders else params.root_uri
        root = to_fs_path(uri) if uri else params.root_path
        ls.root = Path(root).resolve() if root else None
        for p in problems:
            log.warning("initializationOptions: %s", p)
        if ls.settings.chat.hover and types.TEXT_DOCUMENT_HOVER not in ls.protocol.fm.features:
            actions.register_hover(ls)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: RaglsServer, params: types.InitializedParams) -> None:
        if ls.root is None:
            ls.show_error("no workspace folder: open a folder to get repository context")
            return
        await _pull_configuration(ls)
        ls.session = Session(ls.root, ls.settings)
        ls.apply_settings(ls.settings)
        await _watch_files(ls)
        ls.indexing = asyncio.ensure_future(_index(ls))

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: RaglsServer, params: types.DidChangeConfigurationParams) -> None:
        if isinstance(params.settings, dict) and isinstance(params.settings.get(SECTION), dict):
            settings, problems = parse(params.settings)
            for p in problems:
                ls.show_error(f"invalid setting ignored: {p}")
            ls.apply_settings(settings)
        else:
            await _pull_configuration(ls)
            ls.apply_settings(ls.settings)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: RaglsServer, params: types.DidOpenTextDocumentParams) -> None:
        _buffer_changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: RaglsServer, params: types.DidChangeTextDocumentParams) -> None:
        _buffer_changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: RaglsServer, params: types.DidSaveTextDocumentParams) -> None:
        _buffer_changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: RaglsServer, params: types.DidCloseTextDocumentParams) -> None:
        rel = ls.rel(params.text_document.uri)
        if rel is not None and ls.session is not None:
            ls.session.buffers.pop(rel, None)
            ls.session.schedule_update(rel, None)  # back to the disk's text

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: RaglsServer, params: types.DidChangeWatchedFilesParams) -> None:
        if ls.session is None:
            return
        if len(params.changes) > BULK_CHANGES:
            if ls.indexing is None or ls.indexing.done():
                ls.indexing = asyncio.ensure_future(_index(ls))
            return
        for change in params.changes:
            rel = ls.rel(change.uri)
            if rel is not None and rel not in ls.session.buffers:
                ls.session.schedule_update(rel, None)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: RaglsServer, params: None) -> None:
        if ls.session is not None:
            ls.session.close()
        if ls.client is not None:
            await ls.client.aclose()

    inline.register(server)
    actions.register(server)
    return server


def _buffer_changed(ls: RaglsServer, uri: str) -> None:
    rel = ls.rel(uri)
    if rel is None or ls.session is None:
        return
    text = ls.workspace.get_text_document(uri).source
    ls.session.buffers[rel] = text
    ls.session.schedule_update(rel, text)


async def _pull_configuration(ls: RaglsServer) -> None:
    caps = ls.client_capabilities.workspace
    if not (caps and caps.configuration):
        return
    try:
        result = await asyncio.wait_for(ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])), timeout=5)
    except (asyncio.TimeoutError, Exception) as exc:  # a client that cannot answer keeps the current settings
        log.warning("workspace/configuration failed: %s", exc)
        return
    if result and isinstance(result[0], dict):
        settings, problems = parse(result[0])
        for p in problems:
            ls.show_error(f"invalid setting ignored: {p}")
        ls.settings = settings


async def _watch_files(ls: RaglsServer) -> None:
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps else None
    if not (watched and watched.dynamic_registration):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(watchers=[types.FileSystemWatcher(glob_pattern="**/*")])
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[types.Registration(
            id=str(uuid.uuid4()), method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)]))
    except Exception as exc:  # the client declined: edits inside the editor still reach the index
        log.warning("could not register file watchers: %s", exc)


async def _index(ls: RaglsServer) -> None:
    """Index the workspace in the background, reporting work-done progress when the client supports it."""
    assert ls.session is not None
    window = ls.client_capabilities.window
    token: str | None = None
    if window and window.work_done_progress:
        token = str(uuid.uuid4())
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title="ragls: indexing", percentage=0,
                                                                           cancellable=False))
        except Exception as exc:
            log.warning("no work-done progress: %s", exc)
            token = None
    loop = asyncio.get_running_loop()

    def progress(done: int, total: int) -> None:
        if token is not None:
            pct = int(100 * done / max(1, total))
            loop.call_soon_threadsafe(ls.work_done_progress.report, token, types.WorkDoneProgressReport(
                message=f"{done}/{total} files", percentage=pct))

    try:
        line = await ls.session.index_workspace(progress)
    except Exception as exc:
        log.exception("indexing failed")
        ls.show_error(f"indexing failed: {exc}")
        line = f"indexing failed: {exc}"
    ls.index_summary = line
    if token is not None:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=line))
    ls.window_log_message(types.LogMessageParams(types.MessageType.Info, f"ragls: {line}"))
