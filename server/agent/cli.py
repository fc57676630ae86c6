"""`ragls mcp`: serve a repository's index to coding agents as an MCP server (stdio, or streamable HTTP)."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ragls.indexer.cli import Commands

log = logging.getLogger("ragls.mcp")


def register(commands: Commands) -> None:
    s = commands.add_parser("mcp", help="serve the repository's index to coding agents (MCP; stdio by default)",
                       description="An MCP server with the tools context, search, definition and review over one "
                                   "repository's index (the one `ragls index` and `ragls serve` use). It refreshes "
                                   "the index when it can take its write lock, else uses it as it is.")
    s.add_argument("-v", "--verbose", action="count", default=0, help="log more (to stderr)")
    s.add_argument("--repo", help="repository root (default: the git work tree of the current folder)")
    s.add_argument("--http", metavar="HOST:PORT", help="serve streamable HTTP at http://HOST:PORT/mcp instead of "
                                                       "stdio (no authentication: keep HOST a loopback address)")
    s.add_argument("--data-dir", help="index folder (default: a per-repository folder under ~/.cache/ragls)")
    s.add_argument("--store", metavar="URL", help="use a Chroma server (chroma run) at http://HOST:PORT")
    s.add_argument("--embedder", help="'static' (default, offline) or 'openai:MODEL' (OPENAI_BASE_URL)")
    s.set_defaults(func=main)


def _address(spec: str) -> tuple[str, int] | None:
    """HOST:PORT (or [IPv6]:PORT) -> (host, port); None when it is neither."""
    host, _, port = spec.rpartition(":")
    host = host.removeprefix("[").removesuffix("]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def main(args: argparse.Namespace) -> int:
    """Serve until the client leaves (stdin closed) or an interrupt; then end the process at once, as `ragls serve`
    does (every index write is a committed transaction, the write lock is released by the kernel)."""
    import asyncio

    from ragls.indexer.cli import repo_dir

    address = _address(args.http) if args.http else None
    if args.http and address is None:
        print(f"ragls mcp: --http wants HOST:PORT (e.g. 127.0.0.1:8765), got {args.http!r}", file=sys.stderr)
        return 2
    root = repo_dir(args.repo)
    status = 0
    try:
        asyncio.run(_serve(root, args, address))
    except KeyboardInterrupt:
        status = 130
    finally:
        sys.stderr.flush()
        logging.shutdown()
        os._exit(status)
    return status


async def _serve(root: Path, args: argparse.Namespace, address: tuple[str, int] | None) -> None:
    import asyncio

    from ..flags import settings_for
    from ..review.cli import TIMEOUT_S
    from ..session import Session
    from .server import create_server, serve_http
    from .tools import AgentTools

    # the layers of every command (files, environment, flags); a review waits for a busy model as `ragls review` does
    settings = settings_for(args, root, {"model.timeoutS": TIMEOUT_S}, "ragls mcp")
    # a refresh with much to do runs in a child process, as in the language server: this one keeps none of the
    # memory indexing takes
    session = Session(root, settings, refresh_in_process=False)
    tools = AgentTools(session)
    server = create_server(tools)
    first = asyncio.ensure_future(tools.freshen(force=True))  # the calls wait for it; the handshake does not
    log.info("serving %s", root)
    try:
        if address is None:
            await server.run_stdio_async()
        else:
            await serve_http(server, *address, str(root))
    finally:
        first.cancel()
        session.close()
