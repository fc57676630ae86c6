"""Acceptance counts: which inline completions were shown, accepted or dismissed, kept in a local store next to the
index (never sent anywhere), with each accepted completion's prompt for `ragls export-finetune`."""
from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragls.indexer.secrets import redact

log = logging.getLogger(__name__)

FILE = "acceptance.db"
MAX_EXAMPLES = 5000  # accepted completions kept with their prompts (the oldest go first)
MAX_PENDING = 256  # shown completions waiting to be accepted or dismissed (in memory only)
LOCK_WAIT_S = 0.2
FLUSH_EVERY = 16  # counts kept in memory until this many (or an accept, a dismissal, a summary, close)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (language TEXT PRIMARY KEY, shown INTEGER NOT NULL DEFAULT 0,
                                   accepted INTEGER NOT NULL DEFAULT 0, dismissed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS accepted (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, ts REAL NOT NULL,
                                     language TEXT NOT NULL, path TEXT NOT NULL, prompt TEXT NOT NULL,
                                     completion TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Shown:
    """A completion shown in the editor: its prompt's variables as sent (redacted, trimmed) and its text."""

    id: str
    path: str
    language: str
    values: Mapping[str, Any]
    text: str


@dataclass(frozen=True, slots=True)
class Example:
    """An accepted completion as the store keeps it."""

    id: str
    ts: float
    language: str
    path: str
    values: dict[str, Any]
    completion: str


class AcceptanceStore:
    """The counts per language and the accepted completions of one repository, in `acceptance.db` in its data
    folder. A completion is dismissed when the next one for the same document is shown without it being accepted
    (or the client says so). A failing store is logged and otherwise ignored: completions never depend on it."""

    def __init__(self, folder: Path, max_examples: int = MAX_EXAMPLES) -> None:
        self.path = folder / FILE
        self.max_examples = max_examples
        self._db: sqlite3.Connection | None = None
        self._pending: OrderedDict[str, Shown] = OrderedDict()
        self._last: dict[str, str] = {}  # document path -> the id of the completion last shown in it
        self._unsaved: Counter[tuple[str, str]] = Counter()  # (language, column) -> counts not yet written
        self._warned = False

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # written on the server's event loop: another editor's server on the same repository holds the write
            # lock for a few milliseconds at most; past LOCK_WAIT_S the write fails (logged: its counts are kept
            # for the next one), never waited for
            db = sqlite3.connect(self.path, timeout=LOCK_WAIT_S, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # no fsync per count: a crash may lose the last few, no more
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def _failed(self, exc: BaseException) -> None:
        """Log a store that cannot be used: a warning the first time, then at debug level (it is tried again on
        every accept and every FLUSH_EVERY completions; a read-only data folder would say so each time)."""
        log.log(logging.DEBUG if self._warned else logging.WARNING, "acceptance store %s: %s (acceptance counts "
                "are kept in memory meanwhile)", self.path, exc)
        self._warned = True

    def _count(self, language: str, column: str) -> None:
        """Count one event in memory: a completion's path costs no write (they go out FLUSH_EVERY at a time)."""
        assert column in ("shown", "accepted", "dismissed")
        self._unsaved[(language, column)] += 1

    def _write(self, accepted: Shown | None = None) -> bool:
        """Write the counts kept in memory, and an `accepted` completion with its prompt (the oldest past
        `max_examples` dropped), in one transaction; False (logged) when the store cannot take them: the counts
        stay kept for the next write, the completion is not kept."""
        try:
            db = self._conn()
            with db:
                db.execute("BEGIN")
                for (language, column), n in sorted(self._unsaved.items()):
                    db.execute(f"INSERT INTO counts(language, {column}) VALUES (?, ?) ON CONFLICT(language) "
                               f"DO UPDATE SET {column} = {column} + ?", (language, n, n))
                if accepted is not None:
                    db.execute("INSERT INTO accepted(id, ts, language, path, prompt, completion) "
                               "VALUES (?, ?, ?, ?, ?, ?)", (accepted.id, time.time(), accepted.language,
                                                             accepted.path, json.dumps(dict(accepted.values)),
                                                             redact(accepted.text)[0]))
                    db.execute("DELETE FROM accepted WHERE seq <= (SELECT MAX(seq) FROM accepted) - ?",
                               (self.max_examples,))
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)
            return False
        self._unsaved.clear()
        return True

    def flush(self) -> bool:
        """Write the counts kept in memory now; False (logged) when the store cannot take them."""
        return not self._unsaved or self._write()

    def shown(self, path: str, language: str, values: Mapping[str, Any], text: str) -> str:
        """Record a completion shown in `path`; its id (the item's command argument). The completion shown before it
        in the same document, if not accepted, counts as dismissed; the same text at the same place again keeps its
        id. Counted in memory: a store that fails is logged when the counts are written, never here."""
        previous = self._pending.get(self._last.get(path, ""))
        if previous is not None and previous.text == text and previous.values.get("prefix") == values.get("prefix"):
            return previous.id  # the same suggestion asked for again (after an index update): shown once
        item = Shown(uuid.uuid4().hex, path, language, values, text)
        if previous is not None:
            self._count(self._pending.pop(previous.id).language, "dismissed")
        self._count(language, "shown")
        if sum(self._unsaved.values()) >= FLUSH_EVERY:
            self.flush()
        self._pending[item.id] = item
        self._last[path] = item.id
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)
        return item.id

    def accepted(self, id: str) -> bool:
        """Record that the completion `id` was accepted; False when it is unknown (shown before a restart, or long
        ago) or was dismissed already."""
        return self._settle(id, "accepted")

    def dismissed(self, id: str) -> bool:
        """Record that the completion `id` was dismissed (a client that knows); False when it is unknown."""
        return self._settle(id, "dismissed")

    def _settle(self, id: str, outcome: str) -> bool:
        """Count a pending completion's outcome and write the counts (`_write`; an accepted one with its prompt);
        False when it is not pending, or when the store failed."""
        item = self._pending.pop(id, None)
        if item is None:
            return False
        if self._last.get(item.path) == id:
            del self._last[item.path]
        self._count(item.language, outcome)
        return self._write(item if outcome == "accepted" else None)

    def rows(self) -> list[tuple[str, int, int, int]]:
        """(language, shown, accepted, dismissed) per language: those written and those kept in memory."""
        rows: list[tuple[str, int, int, int]] = []
        if self._db is not None or self.path.is_file():
            try:
                rows = self._conn().execute("SELECT language, shown, accepted, dismissed FROM counts").fetchall()
            except (sqlite3.Error, OSError) as exc:
                self._failed(exc)
        for (language, column), n in self._unsaved.items():
            rows.append((language, n if column == "shown" else 0, n if column == "accepted" else 0,
                         n if column == "dismissed" else 0))
        return rows

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None


def summarize(rows: list[tuple[str, int, int, int]]) -> dict[str, Any]:
    """{shown, accepted, dismissed, rate, languages: {name: {shown, accepted, dismissed, rate}}} from the rows of
    one store or several (summed per language); `rate` is accepted / shown, None before anything was shown."""
    def figures(shown: int, accepted: int, dismissed: int) -> dict[str, Any]:
        return {"shown": shown, "accepted": accepted, "dismissed": dismissed,
                "rate": round(accepted / shown, 3) if shown else None}
    per: dict[str, list[int]] = {}
    for language, *counts in rows:
        per[language] = [a + b for a, b in zip(per.get(language, [0, 0, 0]), counts, strict=True)]
    total = [sum(c[i] for c in per.values()) for i in range(3)]
    return {**figures(*total), "languages": {name: figures(*per[name]) for name in sorted(per)}}


def examples(folder: Path, since: float | None = None) -> Iterator[Example]:
    """The accepted completions kept in `folder`'s store, oldest first (none when there is no store)."""
    path = folder / FILE
    if not path.is_file():
        return
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
    try:
        rows = db.execute("SELECT id, ts, language, path, prompt, completion FROM accepted WHERE ts >= ? "
                          "ORDER BY seq", (since or 0.0,)).fetchall()
    except sqlite3.OperationalError:  # an SQLite file without the table, or one too busy to read: nothing to export
        rows = []
    finally:
        db.close()
    for id_, ts, language, rel, prompt, completion in rows:
        yield Example(id_, ts, language, rel, json.loads(prompt), completion)
