"""Start the real server over stdio with pytest-lsp's client, against the tests' local model server."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

CLIENTS = {"vscode": "visual-studio-code", "neovim": "neovim@v0.11.0"}


async def start_server(root: Path, base_url: str, home: Path, client: str = "vscode",
                       options: dict[str, Any] | None = None, more_folders: tuple[Path, ...] = (),
                       inline: bool = False, configuration: dict[str, Any] | None = None
                       ) -> tuple[LanguageClient, types.InitializeResult]:
    """A client connected to `python -m ragls.server`, initialised with a real client's capabilities (and, with
    `inline`, LSP 3.18's inline completion, which those recorded capabilities predate). `configuration`: the
    `ragls` section the client answers workspace/configuration with, by scope URI ("": without one)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "RAGLS_")) or k in ("RAGLS_LOG_LEVEL", "RAGLS_MODELS")}
    env.update({"RAGLS_HOME": str(home), "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "sk-test-secret",
                "RAGLS_MODEL": "test-chat", "ANONYMIZED_TELEMETRY": "False"})
    lsp = make_test_lsp_client()
    for scope, section in (configuration or {}).items():
        lsp.set_configuration(section, section="ragls", scope_uri=scope or None)
    await lsp.start_io(sys.executable, "-m", "ragls.server", env=env)
    caps = client_capabilities(CLIENTS[client])
    if inline and caps.text_document is not None:
        caps.text_document.inline_completion = types.InlineCompletionClientCapabilities(dynamic_registration=False)
    opts = {"ragls": {"completion": {"debounceMs": 0}, "index": {"debounceMs": 50}, "model": {"timeoutS": 2,
            "maxRetries": 1}, **(options or {})}}
    result = await lsp.initialize_session(types.InitializeParams(
        capabilities=caps, root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(p.as_uri(), p.name) for p in (root, *more_folders)],
        initialization_options=opts))
    return lsp, result


async def wait_indexed(lsp: LanguageClient, timeout: float = 60) -> str:
    """Wait for the server's "indexed ..." log message."""
    async def seen() -> str:
        while True:
            for m in lsp.log_messages:
                if "indexed" in m.message or "indexing failed" in m.message:
                    return m.message
            await asyncio.sleep(0.05)
    return await asyncio.wait_for(seen(), timeout)


def open_doc(lsp: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    lsp.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="python", version=version, text=text if text is not None else path.read_text())))
    return uri


def change_doc(lsp: LanguageClient, uri: str, text: str, version: int) -> None:
    lsp.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
