"""JSON-RPC hygiene for the language server: every request answered, framing errors handled, logs bounded."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import RaglsServer


def install(server: "RaglsServer") -> None:
    """Harden `server`'s protocol handling (called once by create_server)."""
