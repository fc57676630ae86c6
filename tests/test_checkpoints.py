"""Deferred checkpoints: the writer's commits never checkpoint the WAL themselves; a background thread does, once the
commits pause (or the WAL passes its cap), on a connection of its own, and survives its failures."""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ragls.indexer.store import Store

BLOB = 20_000  # bytes per commit: five pages


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "index.db")
    yield opened
    opened.close()


def wal_bytes(store: Store) -> int:
    path = Path(f"{store.path}-wal")
    return path.stat().st_size if path.exists() else 0


def commit(store: Store, n: int, tag: str = "") -> list[int]:
    """`n` commits of one vector each; the WAL's size after each."""
    sizes = []
    for _ in range(n):
        with store.transaction() as db:
            db.execute("INSERT INTO vectors VALUES(?, ?)", (f"{tag}{os.urandom(8).hex()}", os.urandom(BLOB)))
        sizes.append(wal_bytes(store))
    return sizes


def wait_for(cond: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.02)


def recording(store: Store, monkeypatch: pytest.MonkeyPatch, fail_first: bool = False) -> list[tuple[int, int, int]]:
    """The results of the background checkpoints from now on (the first raises, with `fail_first`)."""
    done: list[tuple[int, int, int]] = []
    calls: list[int] = []
    real = store._checkpoint

    def checkpoint() -> tuple[int, int, int]:
        calls.append(1)
        if fail_first and len(calls) == 1:
            raise sqlite3.OperationalError("disk I/O error (from the test)")
        done.append(result := real())
        return result

    monkeypatch.setattr(store, "_checkpoint", checkpoint)
    return done


def checkpoint_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "ragls-checkpoint"}


def test_commits_never_checkpoint_inline(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Store, "CHECKPOINT_QUIET_S", 60.0)  # the background thread stays out of this test
    page = store.db.execute("PRAGMA page_size").fetchone()[0]
    store.defer_checkpoints()
    sizes = commit(store, 400)  # about 2,000 pages
    assert sizes == sorted(sizes) and sizes[-1] > 1.5 * 1000 * page  # never restarted: no checkpoint ran
    inline = Store(tmp_path / "inline" / "index.db")  # SQLite's autocheckpoint: the WAL stops near 1000 pages
    try:
        assert max(commit(inline, 400)) < 1.5 * 1000 * page
    finally:
        inline.close()


def test_the_thread_checkpoints_once_the_commits_pause(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Store, "CHECKPOINT_QUIET_S", 0.2)
    done = recording(store, monkeypatch)
    store.defer_checkpoints()
    commit(store, 400)
    assert wal_bytes(store) > Store.CHECKPOINT_BYTES
    wait_for(lambda: done)
    busy, frames, checkpointed = done[0]
    assert busy == 0 and checkpointed == frames > 1000
    commit(store, 1)  # the WAL starts over, cut back to its limit
    assert wal_bytes(store) <= Store.CHECKPOINT_BYTES
    other = sqlite3.connect(store.path)
    try:
        assert other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1] < 10  # frames: the last commit's
    finally:
        other.close()


def test_a_wal_past_its_cap_is_checkpointed_while_commits_go_on(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Store, "CHECKPOINT_QUIET_S", 2.0)
    monkeypatch.setattr(Store, "CHECKPOINT_BYTES", 256 << 10)
    monkeypatch.setattr(Store, "CHECKPOINT_CAP_BYTES", 1 << 20)
    done = recording(store, monkeypatch)
    store.defer_checkpoints()
    deadline = time.monotonic() + 10.0
    while not done:  # a commit every 10 ms: the commits never pause for CHECKPOINT_QUIET_S
        assert time.monotonic() < deadline, "no checkpoint while the commits went on"
        commit(store, 1)
        time.sleep(0.01)
    assert done[0][2] > 0


def test_deferral_survives_a_reopen(store: Store, tmp_path: Path) -> None:
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # SQLite's default until deferred
    store.defer_checkpoints()
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    store.reopen()
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0


def test_close_stops_the_thread_and_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Store, "CHECKPOINT_QUIET_S", 60.0)
    before = checkpoint_threads()
    store = Store(tmp_path / "index.db")
    store.defer_checkpoints()
    store.defer_checkpoints()  # once is enough
    started = checkpoint_threads() - before
    assert len(started) == 1 and all(t.daemon for t in started)  # never holds the process at exit
    commit(store, 10)
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    store.close()
    assert not any(t.is_alive() for t in started)
    assert statements == ["PRAGMA wal_checkpoint(PASSIVE)"]  # a clean exit leaves a small WAL


def test_a_read_only_store_has_no_checkpoints_to_defer(store: Store) -> None:
    reader = Store(store.path, readonly=True)
    try:
        with pytest.raises(ValueError, match="read-only"):
            reader.defer_checkpoints()
    finally:
        reader.close()


def test_a_failed_checkpoint_is_logged_and_the_next_one_happens(store: Store, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(Store, "CHECKPOINT_QUIET_S", 0.1)
    monkeypatch.setattr(Store, "CHECKPOINT_BYTES", 64 << 10)
    done = recording(store, monkeypatch, fail_first=True)
    caplog.set_level(logging.WARNING, logger="ragls.indexer.store")
    store.defer_checkpoints()
    commit(store, 20)
    wait_for(lambda: "disk I/O error (from the test)" in caplog.text)
    assert not done and "could not be checkpointed" in caplog.text
    commit(store, 20, tag="again")  # the next commits bring the next try
    wait_for(lambda: done)
    assert done[0][0] == 0 and done[0][2] > 0
