"""Document sync (didOpen, didChange, didSave, didClose), watched files, workspace folders and configuration."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from .. import documents
from ..layers import PROJECT_FILE
from ..review import editor as review
from ..settings import SECTION

if TYPE_CHECKING:
    from ..app import RaglsServer
    from ..folders import Folder

PROJECT_FILES = (PROJECT_FILE, "pyproject.toml")  # at a folder's root: its settings file
BULK_CHANGES = 50  # more watched-file events than this at once (a branch switch): refresh the whole index


def register(server: RaglsServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_workspace_folders(ls: RaglsServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed:
            if (path := to_fs_path(removed.uri)) is not None:
                ls.remove_folder(Path(path))
        added = [(Path(path).resolve(), a.name) for a in params.event.added if (path := to_fs_path(a.uri)) is not None]
        if added:  # their own settings first: a folder's index is opened with them
            await ls.pull_configuration([root for root, _ in added])
            for root, name in added:
                ls.add_folder(root, name)
            ls.apply_settings()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: RaglsServer, params: types.DidChangeConfigurationParams) -> None:
        if isinstance(params.settings, dict) and isinstance(params.settings.get(SECTION), dict):
            ls.editor, ls.scoped = params.settings, {}  # what a client sends applies to every folder
        else:
            await ls.pull_configuration()
        ls.apply_settings()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: RaglsServer, params: types.DidOpenTextDocumentParams) -> None:
        _buffer_changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: RaglsServer, params: types.DidChangeTextDocumentParams) -> None:
        _buffer_changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: RaglsServer, params: types.DidSaveTextDocumentParams) -> None:
        _buffer_changed(ls, params.text_document.uri)
        if (hit := ls.folder(params.text_document.uri)) is not None and _rules_file(hit[1]):
            ls.reindex(hit[0])  # files the new rules ignore leave the index (clients without file watchers)
        if hit is not None and hit[1] in PROJECT_FILES:
            ls.apply_settings()
        review.saved(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: RaglsServer, params: types.DidCloseTextDocumentParams) -> None:
        if (hit := ls.folder(params.text_document.uri)) is not None:
            folder, rel = hit
            folder.session.buffers.pop(rel, None)
            folder.session.schedule_update(rel, None)  # back to the disk's text
        review.closed(ls, params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: RaglsServer, params: types.DidChangeWatchedFilesParams) -> None:
        by_folder: dict[Folder, list[str]] = {}
        for change in params.changes:
            if (hit := ls.folder(change.uri)) is not None:
                by_folder.setdefault(hit[0], []).append(hit[1])
        if any(rel in PROJECT_FILES for paths in by_folder.values() for rel in paths):
            ls.apply_settings()  # a project's settings file changed
        for folder, paths in by_folder.items():
            rules = any(_rules_file(rel) for rel in paths)
            if rules:
                folder.session.forget_refusals()
            if len(paths) > BULK_CHANGES or rules:  # a branch switch, or ignore rules that may drop indexed files
                ls.reindex(folder)
                continue
            for rel in paths:
                if rel not in folder.session.buffers:
                    folder.session.schedule_update(rel, None)


def _buffer_changed(ls: RaglsServer, uri: str) -> None:
    if (hit := ls.folder(uri)) is None or (doc := documents.opened(ls.workspace, uri)) is None:
        return
    folder, rel = hit
    text = documents.clean(doc.source)
    if _rules_file(rel):
        folder.session.forget_refusals()
    if (old := folder.session.buffers.get(rel)) is not None:
        folder.editing.changed(rel, old, text)
    folder.session.buffers[rel] = text
    folder.session.schedule_update(rel, text)


def _rules_file(rel: str) -> bool:
    """A file whose change may change what the confinement rule lets through (ignore rules)."""
    return rel.rsplit("/", 1)[-1] in (".gitignore", ".raglsignore") or rel == ".git/info/exclude"
