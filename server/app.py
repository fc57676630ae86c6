"""The ragls language server: its state, initialize, initialized and shutdown, settings, indexing progress, and the
wiring of the handler modules (server/handlers/)."""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from . import errors, positions, protocol, records
from .acceptance import summarize
from .features.completion import Timings
from .folders import Folder
from .handlers import actions, completion, hover, nextedit, sync, viewed
from .model.client import ModelClient, ModelConfig
from .review import editor as review
from .layers import Resolved, resolve
from .settings import SECTION, Settings, model_configured
from .version import VERSION

log = logging.getLogger(__name__)


class RaglsServer(LanguageServer):
    """Holds one Folder per workspace folder once they are known; handlers reach everything through it."""

    def __init__(self) -> None:
        super().__init__("ragls", VERSION, protocol_cls=protocol.RaglsProtocol, converter_factory=records.converter)
        self.initial: Any = None  # the editor's `ragls` section in initializationOptions
        self.editor: Any = None  # ...and as workspace/configuration answers it, on top (a key it leaves out stays)
        self.scoped: dict[Path, Any] = {}  # ...and as it answers for each folder (its scopeUri), instead of that
        self.settings: Settings = resolve().settings  # outside every folder (no project's file)
        self.clients: dict[ModelConfig, ModelClient] = {}  # one per model configuration in use
        self.roots: list[tuple[Path, str]] = []  # from initialize: (folder, name)
        self.folders: list[Folder] = []
        self.timings = Timings()
        self._shown: set[str] = set()  # settings problems shown to the user (each once while it lasts)

    def resolved(self, root: Path | None) -> Resolved:
        """The settings of a folder (None: outside every folder) from their layers, the editor's on top: its
        section for that folder where the client answered one (a multi-root workspace's folder settings)."""
        live = self.scoped.get(root, self.editor) if root is not None else self.editor
        return resolve(root, editor=(self.initial, live))

    def model_client(self, settings: Settings) -> ModelClient:
        config = ModelConfig.from_settings(settings)
        if config not in self.clients:
            self.clients[config] = ModelClient(config)
        return self.clients[config]

    def apply_settings(self, report: bool = True) -> None:
        """Settings again from their layers (the editor's changed, or a project's file): each folder its own, and
        a model client for each model configuration (an index setting change needs a restart). With `report`, each
        problem found is shown to the user once."""
        resolved = self.resolved(None)
        self.settings = resolved.settings
        problems = list(resolved.problems)
        for f in self.folders:
            r = self.resolved(f.root)
            problems += [p for p in r.problems if p not in problems]
            f.use(r.settings, self.model_client(r.settings))
        used = {ModelConfig.from_settings(f.session.settings) for f in self.folders}
        for config in [c for c in self.clients if c not in used]:
            _close_later(self.clients.pop(config))
        review.settings_changed(self)
        if report:
            self.report(problems)
        m = (self.folders[0].session.settings if self.folders else self.settings).model
        log.info("settings: model %s at %s, fim %s", m.chat_model, m.base_url or "(default)", m.fim_template)

    def report(self, problems: list[str]) -> None:
        """A warning for each settings problem not shown yet; one that went away may be shown again if it returns."""
        for p in problems:
            if p not in self._shown:
                log.warning("%s", p)
                self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, f"ragls: {p}"))
        self._shown = set(problems)

    def folder(self, uri: str) -> tuple[Folder, str] | None:
        """The folder holding a document URI (the innermost, when folders nest) and the document's path in it;
        None outside every folder (such files are never read)."""
        try:
            path = to_fs_path(uri)
            resolved = Path(path).resolve() if path is not None else None
        except (ValueError, OSError):  # a name no file system holds (an embedded NUL), a loop of links
            return None
        if resolved is None:
            return None
        best: tuple[Folder, str] | None = None
        for f in self.folders:
            rel = f.session.relative(resolved)
            if rel is not None and (best is None or len(f.root.parts) > len(best[0].root.parts)):
                best = (f, rel)
        return best

    def rel(self, uri: str) -> str | None:
        """The document's path in its workspace folder, or None outside every folder."""
        hit = self.folder(uri)
        return hit[1] if hit else None

    def status(self) -> dict[str, object]:
        """What `ragls.status` answers: each folder's index state and the last completions' timings; the model of
        the first folder (a project's file may choose another in each)."""
        settings = self.folders[0].session.settings if self.folders else self.settings
        m = settings.model
        states = [f.state for f in self.folders]
        rows = [f.acceptance.rows() for f in self.folders]  # read once: a folder's figures, then all folders' sum
        state = next((s for s in ("error", "indexing", "starting") if s in states), "ready" if states else "starting")
        return {"state": state, "folders": [{"root": str(f.root), "name": f.name, "state": f.state,
                                             "index": f.summary, "acceptance": summarize(r)}
                                            for f, r in zip(self.folders, rows, strict=True)],
                "acceptance": summarize([row for r in rows for row in r]),
                "model": {"configured": model_configured(settings),
                          "baseUrl": m.base_url, "chatModel": m.chat_model, "completionModel": m.completion_model,
                          "fimTemplate": m.fim_template},
                "completion": self.timings.summary(), "review": review.status(self)}

    def add_folder(self, root: Path, name: str = "") -> Folder | None:
        root = root.resolve()
        if any(f.root == root for f in self.folders):
            return None
        resolved = self.resolved(root)
        f = Folder.open(root, resolved.settings, self.model_client(resolved.settings), name)
        self.folders.append(f)
        self.report([*self._shown, *resolved.problems])
        f.indexing = asyncio.ensure_future(_index(self, f))
        return f

    def remove_folder(self, root: Path) -> None:
        root = root.resolve()
        for f in [f for f in self.folders if f.root == root]:
            self.folders.remove(f)
            f.close()

    def reindex(self, folder: Folder) -> None:
        """Refresh the whole folder's index in the background, unless that is under way."""
        if folder.indexing is None or folder.indexing.done():
            folder.indexing = asyncio.ensure_future(_index(self, folder))

    async def pull_configuration(self, more: Sequence[Path] = ()) -> None:
        """The editor's `ragls` section asked with workspace/configuration, when the client answers it: once
        without a scope, and once for each workspace folder (those open, those given at start, and `more`), whose
        answer is that folder's (VS Code's folder settings in a multi-root workspace)."""
        caps = self.client_capabilities.workspace
        if not (caps and caps.configuration):
            return
        roots = list(dict.fromkeys([*(f.root for f in self.folders), *(r for r, _ in self.roots), *more]))
        items = [types.ConfigurationItem(section=SECTION),
                 *(types.ConfigurationItem(scope_uri=r.as_uri(), section=SECTION) for r in roots)]
        try:
            result = await asyncio.wait_for(self.workspace_configuration_async(types.ConfigurationParams(items)),
                                            timeout=5)
        except (asyncio.TimeoutError, Exception) as exc:  # a client that cannot answer keeps the current settings
            log.warning("workspace/configuration failed: %s", exc)
            return
        if not isinstance(result, (list, tuple)):  # pygls hands the answer over as a tuple
            return
        if result and isinstance(result[0], dict):
            self.editor = result[0]
        self.scoped = {r: v for r, v in zip(roots, result[1:], strict=False) if isinstance(v, dict)}

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A bug in a notification handler (pygls reports it out of band; a request's is its error response): its one
        line, shown once, instead of pygls's "Error in server: ..."."""
        if source is FeatureRequestError:
            return
        self.show_error(errors.message(error))

    def show_error(self, message: str) -> None:
        """An error nobody waits for (errors.shown): one window/showMessage, said once with the "ragls: " prefix."""
        self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"ragls: {message}"))


def _close_later(client: ModelClient) -> None:
    """Close a replaced model client once its requests are done (it may be serving one now)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    loop.call_later(60, lambda: asyncio.ensure_future(client.aclose()))


def _roots(params: types.InitializeParams) -> list[tuple[Path, str]]:
    folders = [(f.uri, f.name) for f in params.workspace_folders or []]
    if not folders and params.root_uri:
        folders = [(params.root_uri, "")]
    elif not folders and params.root_path:
        folders = [(Path(params.root_path).as_uri(), "")]
    out = []
    for uri, name in folders:
        path = to_fs_path(uri)
        if path is not None:
            out.append((Path(path).resolve(), name))
    return out


def create_server() -> RaglsServer:
    server = RaglsServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: RaglsServer, params: types.InitializeParams) -> None:
        positions.install(ls.workspace)
        ls.initial = params.initialization_options
        ls.apply_settings(report=False)  # problems are shown once the client is initialized
        ls.roots = _roots(params)
        hovers = ls.settings.chat.hover or any(ls.resolved(root).settings.chat.hover for root, _ in ls.roots)
        if hovers and types.TEXT_DOCUMENT_HOVER not in ls.protocol.fm.features:
            hover.register(ls)
        if completion.supports_inline(ls):  # completions come inline: no textDocument/completion to call a model twice
            ls.protocol.fm.features.pop(types.TEXT_DOCUMENT_COMPLETION, None)
            ls.protocol.fm.feature_options.pop(types.TEXT_DOCUMENT_COMPLETION, None)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: RaglsServer, params: types.InitializedParams) -> None:
        if not ls.roots:
            ls.show_error("no workspace folder: open a folder to get repository context")
            ls.apply_settings()
            return
        await ls.pull_configuration()
        ls.apply_settings()
        for root, name in ls.roots:
            ls.add_folder(root, name)
        await _watch_files(ls)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: RaglsServer, params: None) -> None:
        for folder in ls.folders:
            folder.close()
        for client in ls.clients.values():
            await client.aclose()

    sync.register(server)
    completion.register(server)
    actions.register(server)
    nextedit.register(server)
    viewed.register(server)
    protocol.install(server)
    return server


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


async def _index(ls: RaglsServer, folder: Folder) -> None:
    """Index a workspace folder in the background, reporting work-done progress when the client supports it."""
    title = "ragls: indexing" + (f" {folder.name}" if len(ls.folders) > 1 else "")
    window = ls.client_capabilities.window
    token: str | None = None
    if window and window.work_done_progress:
        token = str(uuid.uuid4())
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, percentage=0,
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
        line = await folder.session.index_workspace(progress)
    except Exception as exc:
        errors.shown(ls, "indexing failed", exc)
        line = f"indexing failed: {errors.message(exc)}"
    folder.summary = line
    if token is not None:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=line))
    ls.window_log_message(types.LogMessageParams(types.MessageType.Info, f"ragls: {line}"))
