"""The text a request is made in: the editor's buffer, or the disk read safely (never pygls's own read)."""
from __future__ import annotations

import os
from urllib.parse import unquote

from pygls.workspace import TextDocument, Workspace

from ragls.indexer.files import read_regular

MAX_DISK_BYTES = 2_000_000  # a document read from disk (not open in the editor) for a command: at most this much


class Unreadable(Exception):
    """A document that is neither open in the editor nor a readable regular file; the message says why."""


def clean(text: str) -> str:
    """`text` with lone UTF-16 surrogates (a client's broken JSON escapes) replaced by U+FFFD, so that it can be
    encoded, indexed and sent; the same number of code points, so positions stay."""
    if text.isascii():  # most documents: a flag, no scan
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def opened(workspace: Workspace, uri: str) -> TextDocument | None:
    """The document if the client opened it (pygls's get_text_document would read an unopened file from disk on
    the event loop: a FIFO blocks it forever, a non-UTF-8 file raises)."""
    return workspace.text_documents.get(unquote(uri))


def text(workspace: Workspace, uri: str, path: str) -> str:
    """The open document's text, else the file at `path` (a regular file, at most MAX_DISK_BYTES, decoded with
    replacement characters); Unreadable when there is neither."""
    doc = opened(workspace, uri)
    if doc is not None:
        return clean(doc.source)
    try:
        data, _ = read_regular(path, MAX_DISK_BYTES + 1)
    except OSError as exc:
        raise Unreadable(f"cannot read {os.path.basename(path)}: {exc.strerror or exc}") from None
    if len(data) > MAX_DISK_BYTES:
        raise Unreadable(f"{os.path.basename(path)} is larger than {MAX_DISK_BYTES} bytes: open it in the editor")
    return data.decode("utf-8", "replace")
