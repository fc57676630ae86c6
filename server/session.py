"""A workspace's state in the server: settings, the index (one writer thread, a child process for full refreshes)
and retrieval (one reader thread)."""
from __future__ import annotations

import asyncio
import logging
import math
import os
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ragls.indexer.files import Limits, discover, read_regular, read_text, refusal
from ragls.indexer.index import Index
from ragls.indexer.languages import language_for
from ragls.indexer.nextedit import Corpus, ScanCache
from ragls.indexer.assemble import Item
from ragls.indexer.retrieve import Query, Retriever

from .indexer_process import IndexerProcess
from .settings import Settings, index_options

log = logging.getLogger(__name__)
T = TypeVar("T")
LINES_CACHE = 64  # files whose lines are kept for prompt context
MAX_FILE_BYTES = 2_000_000  # a cited file is read up to here (indexed files are at most 1 MB)
REFUSALS_TTL_S = 10.0  # how long a file's confinement verdict is trusted (ignore-file changes clear them at once)
REFUSALS_CACHE = 512
NEXT_EDIT_FILES = 200  # files a next-edit query reads at most (beside the open ones), those using its rarer names
NEXT_EDIT_COMMON = 0.05  # a name used in more of the files than this points nowhere in particular
NEXT_EDIT_LINES = 150_000  # lines of scanned text kept for next-edit queries (about 110 MB with their windows)
NEXT_EDIT_CHARS = 16_000_000  # ...and characters (code has about 40 a line: this bounds files of long lines)
VECTORS_PAUSED = "the vector store is being refreshed by the indexer"
# The retrieval thread primes the graph (Retriever.prime) in slices this long, between requests: one that arrives
# meanwhile waits for at most one slice
PRIME_SLICE_S = 0.01
SMALL_REFRESH = 100  # files to read again or drop that a refresh in the server itself handles (else a child does)


class Session:
    """Writes (refresh, per-file updates) run in order on one thread; retrieval runs on another with its own
    database connection, so requests are answered while the workspace is being indexed (SQLite WAL). With
    `refresh_in_process` false (the language server), a first build or a refresh of more than SMALL_REFRESH files
    runs in a child process that holds the write lock meanwhile (the writer thread waits for it, so per-file updates
    queue behind it), and the server keeps none of the memory indexing takes; its readers follow the new generation
    the child stores."""

    def __init__(self, root: Path, settings: Settings, refresh_in_process: bool = True) -> None:
        self.root = root.resolve()
        self.settings = settings
        self.refresh_in_process = refresh_in_process
        self._indexer: IndexerProcess | None = None
        self._closed = False
        self._priming = False  # a slice of priming is queued on the retrieval thread
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ragls-index")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="ragls-retrieve")
        self._pending: dict[str, tuple[asyncio.TimerHandle, bytes | None]] = {}
        self.buffers: dict[str, str] = {}  # open documents' text, by relative path (may be unsaved)
        self._next_edit_scans = ScanCache(NEXT_EDIT_LINES, NEXT_EDIT_CHARS)  # next-edit scans of texts, by their hash
        self._lines: OrderedDict[str, tuple[tuple[int, int], list[str]]] = OrderedDict()
        self._refusals: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self.indexed = asyncio.Event()
        self.version = 0  # bumped after every index write: caches of retrieved context key on it
        self._write_index = self._open()
        # the writer's commits leave WAL checkpoints to a background thread (a checkpoint inside an update's commit
        # costs it 40-150 ms); queued first on the writer thread, which opens the catalog there, off the event loop
        self._writer.submit(self._defer_checkpoints)
        self._read_index = self._open()
        self._retriever = Retriever(self._read_index)

    def _open(self) -> Index:
        return Index.open(self.root, **index_options(self.settings))

    @property
    def data_dir(self) -> Path:
        """The repository's index folder (local stores such as the acceptance counts live next to the catalog)."""
        return self._write_index.data_dir

    def _defer_checkpoints(self) -> None:
        try:
            store = self._write_index.store
            store.defer_checkpoints()
            if self._closed:  # closed meanwhile, perhaps before it found the store to stop
                store.stop_checkpoints()
        except Exception as exc:  # noqa: BLE001 -- a catalog that cannot be opened: the first refresh says why
            log.warning("the index's checkpoints stay in its commits: %s", exc)

    def next_edit_corpus(self) -> Corpus:
        """The indexed files (open documents as edited) for next-edit ranking, read only where the index says a
        name of the query is used or defined; call on the retrieval thread."""
        store = self._read_index.store
        indexed = store.indexed_paths()
        paths = sorted(p for p in indexed | set(self.buffers) if language_for(p) is not None)

        limit = Limits().max_file_bytes

        def read(rel: str) -> str | None:
            return self.buffers[rel] if rel in self.buffers else read_text(self.root / rel, limit)

        def candidates(names: set[str]) -> list[str]:
            # the files using the query's rarer names, those using more of them (rarer ones counting more) first
            todo = sorted(names)
            df = store.name_file_counts(todo)
            useful = [w for w in todo if 0 < df.get(w, 0) <= max(20, NEXT_EDIT_COMMON * len(indexed))]
            score: dict[str, float] = {}
            for path, name in store.files_and_names(useful):
                score[path] = score.get(path, 0.0) + math.log(1 + len(indexed) / df[name])
            ranked = sorted(score, key=lambda p: (-score[p], p))[:NEXT_EDIT_FILES]
            return [*self.buffers, *ranked]

        return Corpus(paths, read, candidates, cache=self._next_edit_scans)

    def relative(self, path: Path) -> str | None:
        """The workspace-relative POSIX path of a resolved path (symbolic links followed: the caller resolves it
        once for every folder), or None for files outside the workspace (never indexed or read)."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return None

    async def _on(self, pool: ThreadPoolExecutor, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` on the retrieval thread: prompt assembly (reading files, counting tokens) never runs on the
        event loop."""
        return await self._on(self._reader, fn, *args)

    async def refusal(self, rel: str) -> str | None:
        """Why the document at `rel` must never reach a model (secret, ignored, not a regular file, ...), or None:
        the confinement rule of `ragls.indexer.files.refusal`, remembered for a few seconds (it may ask git)."""
        now = time.monotonic()
        hit = self._refusals.get(rel)
        if hit is not None and now - hit[0] < REFUSALS_TTL_S:
            return hit[1]
        reason = await asyncio.to_thread(refusal, self.root, rel)
        self._refusals[rel] = (now, reason)
        self._refusals.move_to_end(rel)
        while len(self._refusals) > REFUSALS_CACHE:
            self._refusals.popitem(last=False)
        return reason

    def forget_refusals(self) -> None:
        """An ignore file changed: every verdict is asked again."""
        self._refusals.clear()

    async def index_workspace(self, progress: Callable[[int, int], None] | None = None) -> str:
        """Refresh the whole index (in the background of the event loop); returns the summary line."""
        try:
            if self.refresh_in_process:
                line = (await self._on(self._writer, lambda: self._write_index.refresh(progress=progress or False))
                        ).line()
            else:
                line = await self._on(self._writer, self._refresh_in_child, progress)
            self.version += 1
            log.info("%s", line)
            if not self._closed:
                self._reader.submit(self._warm_reader)  # queued behind any request already waiting
            return line
        finally:
            self.indexed.set()

    def _warm_reader(self) -> None:
        """On the retrieval thread: load the graph, the lexical postings and the languages' queries now, so that
        the first completion does not wait for them (seconds at 750k lines)."""
        try:
            self._read_index.heal(self._retriever.warm)
        except Exception as exc:  # noqa: BLE001 -- a damaged or missing index: the first request says why
            log.warning("retrieval could not be prepared: %s", exc)
            return
        self._prime_soon()

    def _prime_soon(self) -> None:
        """Queue a slice of priming on the retrieval thread unless one is queued, or the graph is primed."""
        if not self._priming and not self._closed and not self._retriever.primed:
            self._priming = True
            try:
                self._reader.submit(self._prime_slice)
            except RuntimeError:  # closed meanwhile
                self._priming = False

    def _prime_slice(self) -> None:
        """On the retrieval thread: prime the graph for PRIME_SLICE_S, and queue the next slice behind any request
        that came meanwhile. A patch (an edit) starts priming over: the request that patched queues it again."""
        self._priming = False
        try:
            if not self._read_index.heal(lambda: self._retriever.prime(PRIME_SLICE_S)):
                self._prime_soon()
        except Exception as exc:  # noqa: BLE001 -- priming only saves later requests time: never fatal (a
            log.debug("retrieval could not be primed: %s", exc)  # damaged index: the request says why)

    def _refresh_in_child(self, progress: Callable[[int, int], None] | None) -> str:
        """On the writer thread: run the indexer process to its end. A local vector store is closed in this process
        first and reopened afterwards, from the files the child left. A built index with at most SMALL_REFRESH
        files to read again or drop (an ignore rule saved, a few files changed outside the editor) is refreshed
        here: that takes little memory, and a child would cost a process start."""
        changed = self._changed_files()
        if changed is not None and changed <= SMALL_REFRESH:
            line = self._write_index.refresh(progress=progress or False).line()
            self._warm_writer(vectors=True)
            return line
        c = self._write_index.config
        indexer = IndexerProcess(self.root, self._write_index.data_dir, c.embedder, c.store_url, c.embed_base_url,
                                 c.embed_api_key_env)
        self._indexer = indexer
        if self._closed:
            indexer.stop()
        local = not c.store_url
        if local:
            self._pause_vectors()
        try:
            indexer.start()
            # while the child works; the embedder only where it was used before (a new machine's child derives
            # the model files first: deriving them twice at once would slow both)
            self._warm_writer(vectors=False, embedder=changed is not None)
            line = indexer.wait(progress)
        finally:
            self._indexer = None
            if local:
                self._resume_vectors()
        self._warm_writer(vectors=True)
        return line

    def _changed_files(self) -> int | None:
        """How many files a refresh would read again or drop (their size or mtime differ from the catalog's), or
        None when the index was never fully built."""
        index = self._write_index
        try:
            if not index.exists() or index.store.meta("generation") is None:
                return None
            catalog = index.store.catalog()
        except sqlite3.Error as exc:  # damaged, locked, unreadable: the indexer process repairs or says why
            log.info("the catalog could not be compared with the files (%s): indexing in a child process", exc)
            return None
        changed = 0
        for rel in discover(self.root).files:
            known = catalog.pop(rel, None)
            try:
                st = os.lstat(self.root / rel)
            except OSError:
                continue
            if known is None or known[1] != st.st_size or known[2] != st.st_mtime_ns:
                changed += 1
        return changed + len(catalog)

    def _warm_writer(self, vectors: bool, embedder: bool = True) -> None:
        """Load the embedder (and chroma's code, or open the vector store) for the per-file updates that follow, as
        an in-process refresh leaves them: the first edit does not then load them (seconds of holding the GIL)
        while completions wait. Vectors built on demand need neither for updates: nothing is loaded (a search loads
        them when it first needs vectors)."""
        if self._write_index.vectors_on_demand:
            return
        try:
            if embedder and (warm := getattr(self._write_index.embedder, "warm", None)) is not None:
                warm()  # the static model's segmenter too: the first edit's new words need it
            if vectors:
                _ = self._write_index.vectors
            else:
                import chromadb  # noqa: F401  (the store is opened once the child has written it)
        except Exception as exc:  # a store down or damaged: the first update tries again and says why
            log.warning("the index is not ready for updates yet: %s", exc)

    def _pause_vectors(self) -> None:
        """Close this process's local vector store (writer's and reader's) before an indexer process writes it."""
        opened = self._write_index.close_vectors()
        try:  # searches go on without vectors meanwhile (chroma's files are not shared between processes writing them)
            opened |= self._reader.submit(self._read_index.pause_vectors, VECTORS_PAUSED).result()
        except RuntimeError:  # the session is closing: the reader pool is shut down
            pass
        if opened:  # chroma keeps one system per path: the next open must read the files the child leaves
            from ragls.indexer.vectors import forget_client

            forget_client(self._write_index.data_dir / "chroma")

    def _resume_vectors(self) -> None:
        try:
            self._reader.submit(self._read_index.resume_vectors).result()
        except RuntimeError:
            pass

    def schedule_update(self, rel: str, text: str | None, delay_s: float | None = None) -> None:
        """Re-index one file after a quiet period (per file): an editor buffer's text, or the disk when None."""
        loop = asyncio.get_running_loop()
        if (old := self._pending.pop(rel, None)) is not None:
            old[0].cancel()
        delay = self.settings.index.debounce_ms / 1000 if delay_s is None else delay_s
        data = text.encode("utf-8") if text is not None else None
        self._pending[rel] = (loop.call_later(delay, lambda: self._start_update(rel, data)), data)

    def _start_update(self, rel: str, data: bytes | None) -> None:
        self._pending.pop(rel, None)
        fut = asyncio.ensure_future(self._on(self._writer, self._write_index.update_file, rel, data))
        fut.add_done_callback(lambda f: self._updated(rel, f))

    def _updated(self, rel: str, fut: asyncio.Future) -> None:
        self.version += 1
        if not fut.cancelled() and fut.exception() is not None:
            log.error("update of %s failed: %s", rel, fut.exception())

    async def flush(self) -> None:
        """Run the pending debounced updates now and wait for them (tests, shutdown)."""
        for rel, (handle, data) in list(self._pending.items()):
            handle.cancel()
            self._pending.pop(rel, None)
            await self._on(self._writer, self._write_index.update_file, rel, data)
        await self._on(self._writer, lambda: None)

    async def context(self, query: Query, source: str, k: int, budget: int, same_file: bool = False) -> list[Item]:
        return await self.with_index(lambda _, retriever: retriever.context(
            query, k=k, budget=budget, source=source, same_file=same_file))

    async def with_index(self, fn: Callable[[Index, Retriever], T]) -> T:
        """`fn(index, retriever)` on the retrieval thread, with its own connection. heal: a catalog found damaged is
        rebuilt (the writer's next update builds it again) and `fn` asked once more."""
        try:
            return await self._on(self._reader, lambda: self._read_index.heal(lambda: fn(self._read_index,
                                                                                        self._retriever)))
        finally:
            self._prime_soon()  # the request may have patched the graph

    async def search(self, text: str, k: int, budget: int) -> list[Item]:
        return await self.with_index(lambda _, retriever: retriever.search(text, k=k, budget=budget))

    def read_lines(self, item: Item) -> str:
        """The text of a retrieved item: the open buffer's, else the disk's (an item never comes from a secret or
        ignored file)."""
        return "\n".join(self.lines(item.path)[item.start_line - 1:item.end_line])

    def lines(self, rel: str) -> list[str]:
        """A file's lines: the open buffer's, else the disk's ([] when unreadable). Not to be changed."""
        text = self.buffers.get(rel)
        return text.split("\n") if text is not None else self._disk_lines(rel)

    def _disk_lines(self, rel: str) -> list[str]:
        """A file's lines, remembered while its size and mtime stay the same (prompts cite the same files). Read
        without following a symbolic link or opening anything but a regular file (it may have changed since it was
        indexed)."""
        path = self.root / rel
        try:
            st = path.lstat()
            key = (st.st_mtime_ns, st.st_size)
            if (hit := self._lines.get(rel)) is not None and hit[0] == key:
                self._lines.move_to_end(rel)
                return hit[1]
            data, _ = read_regular(path, MAX_FILE_BYTES)
        except OSError:
            return []
        lines = data.decode("utf-8", "replace").split("\n")
        self._lines[rel] = (key, lines)
        while len(self._lines) > LINES_CACHE:
            self._lines.popitem(last=False)
        return lines

    def close(self) -> None:
        self._closed = True
        if (indexer := self._indexer) is not None:
            indexer.stop()
        for handle, _ in self._pending.values():
            handle.cancel()
        for index in (self._write_index, self._read_index):
            index.close_vectors()
        self._writer.shutdown(wait=False, cancel_futures=True)
        self._reader.shutdown(wait=False, cancel_futures=True)
        # the catalog stays open (an update may still be running on it): only its checkpointer stops
        if self._write_index.store_open:
            self._write_index.store.stop_checkpoints()

