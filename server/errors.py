"""The one error adapter: a failure as the one clean line the user reads, sent once, a bug's traceback to the log.

Which channel carries it depends on what the client waits for; each failure goes through exactly one:

- a request the user asked for (`workspace/executeCommand`, `codeAction/resolve`): the error response, its message
  `message(exc)` (no exception class, no "ragls: "; the client says which action failed). No window/showMessage.
- a request made while typing (completion, inline completion, hover, `ragls/nextEdit`): nothing is shown; the
  failure is logged (`logged`), and the handler answers nothing (next edit: `{"error": message}`).
- work nobody waits for (indexing, a notification handler's bug): one window/showMessage, "ragls: " + `message`
  (`shown`).
- the command line: "ragls: " + `message` on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ragls.indexer.embed import EmbeddingError
from ragls.indexer.lock import IndexLocked
from ragls.indexer.vectors import VectorStoreError
from ragls.prompts.render import BudgetError

from .documents import Unreadable
from .indexer_process import IndexingFailed
from .model.client import ModelError

if TYPE_CHECKING:
    from .app import RaglsServer

log = logging.getLogger(__name__)
MAX_CHARS = 500  # a prompt budget's message names what cannot be trimmed
PREFIX = "ragls: "
# the setting that sets a prompt's budget, by template (the others: chat.budget; a review's: --prompt-budget too)
BUDGET_KEYS = {"complete_chat": "completion.budget", "complete_fim": "completion.budget",
               "next_edit": "nextEdit.budget"}


class CommandError(Exception):
    """Bad input to a request or command (arguments, a range), or a file ragls may not read: its message says why
    and how to fix it."""


def expected(exc: BaseException) -> bool:
    """A failure the user can act on (its message says how), as opposed to a bug (which the log explains)."""
    from pygls.exceptions import JsonRpcException  # the server has it loaded; the command line may not

    return isinstance(exc, (ModelError, BudgetError, IndexLocked, IndexingFailed, VectorStoreError, EmbeddingError,
                            Unreadable, CommandError, JsonRpcException))


def message(exc: BaseException) -> str:
    """The one line the user reads: the failure's own words (which say how to fix it), never the exception's class
    for an expected failure, never a "ragls: " prefix (a client adds its own), at most MAX_CHARS characters."""
    if isinstance(exc, ModelError):
        text = exc.message
    elif isinstance(exc, BudgetError):
        text = f"the prompt does not fit its budget ({BUDGET_KEYS.get(exc.template, 'chat.budget')}): {exc}"
    elif expected(exc):
        text = str(getattr(exc, "message", None) or exc)  # pygls's JsonRpcException keeps its words in .message
    else:
        text = f"{type(exc).__name__}: {exc}"
    return clip(_unprefixed(text)) or type(exc).__name__


def logged(what: str, exc: BaseException) -> None:
    """Log a failure: an expected one as one warning line, a bug with its traceback (stderr)."""
    if expected(exc):
        log.warning("%s: %s", what, message(exc))
    else:
        log.error("%s: %s", what, message(exc), exc_info=exc)


def shown(ls: RaglsServer, what: str, exc: BaseException) -> None:
    """A failure of work nobody waits for: logged, and shown once as "ragls: WHAT: MESSAGE"."""
    logged(what, exc)
    ls.show_error(f"{what}: {message(exc)}")


@contextmanager
def quiet(what: str) -> Iterator[None]:
    """Around the work of a request made while typing: an expected failure or a bug is logged, never shown (the
    handler then answers nothing); a cancellation goes on."""
    try:
        yield
    except Exception as exc:  # asyncio.CancelledError is a BaseException: it passes
        logged(what, exc)


def _unprefixed(text: str) -> str:
    text = text.strip()
    while text.startswith(PREFIX):
        text = text[len(PREFIX):].lstrip()
    return text


def clip(text: str, n: int = MAX_CHARS) -> str:
    """`text` on one line (its whitespace runs made one space), at most `n` characters."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
