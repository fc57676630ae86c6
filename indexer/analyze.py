"""Read one file and turn it into symbols, imports, references and chunks (runs in worker processes)."""
from __future__ import annotations

import errno
import functools
import hashlib
import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .chunks import chunk_file, windows
from .files import Limits, NotRegular, check_content, read_regular
from .languages import Grammar, grammar, language_for
from .model import ParsedFile
from .store import subtoken_text
from .symbols import extract
from .tokens import count_many

log = logging.getLogger(__name__)
# The code whose change changes what a file's analysis holds (symbols, chunks, imports, what is skipped): an index
# made by another version of it is re-read (not re-embedded: vectors are cached by chunk text).
_EXTRACTOR_FILES = ("analyze.py", "chunks.py", "files.py", "languages.py", "model.py", "symbols.py", "tokens.py",
                    "lang/*.py", "queries/*.scm")
# The catalog's own format: a new value re-reads every file, as a change of those files does (2: each chunk's text is
# kept, which what came next reads instead of the files)
CATALOG_FORMAT = 2


@functools.cache
def extractor_version() -> str:
    """A hash of the analysis code: what an index records, and re-reads its files when it differs."""
    here = Path(__file__).parent
    h = hashlib.sha256(f"catalog {CATALOG_FORMAT}\0".encode())
    for pattern in _EXTRACTOR_FILES:
        for p in sorted(here.glob(pattern)):
            h.update(p.relative_to(here).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


RACY_NS = 2_000_000_000  # mtimes this recent may be shared by a later write (coarse clocks, FAT's 2 s)


@dataclass(slots=True)
class Analysis:
    """The outcome for one file: unchanged (same hash), skipped (with reason), or parsed."""

    path: str
    hash: str = ""
    size: int = 0
    mtime_ns: int = 0
    skip_reason: str | None = None
    unchanged: bool = False
    parsed: ParsedFile | None = None
    tokens: list[int] = field(default_factory=list)  # per chunk: whole chunk
    head_tokens: list[int] = field(default_factory=list)  # per chunk: collapsed view
    terms: list[str] = field(default_factory=list)  # per chunk: lexical terms
    text_hashes: list[str] = field(default_factory=list)


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def split_lines(data: bytes) -> list[str]:
    """Lines as tree-sitter counts them (only \\n ends a line)."""
    text = data.decode("utf-8", "replace")
    if "\r" not in text:
        return text.split("\n")
    return [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]


Known = dict[tuple[str, str, int], tuple[int, int, str]]  # (text hash, symbol, head lines) -> tokens, head's, terms


def analyze_bytes(path: str, data: bytes, limits: Limits, known: Known | None = None,
                  extract: Callable[[Grammar, str, bytes], ParsedFile] = extract) -> Analysis:
    """A file's analysis; `known`: what the catalog holds for this file's chunks, not counted again (an edit
    changes a chunk or two of a long file); `extract`: symbols.extract, or a Reextractor's for a file being edited."""
    out = Analysis(path, hash=content_hash(data), size=len(data))
    out.skip_reason = check_content(data, limits)
    if out.skip_reason:
        return out
    lines = split_lines(data)
    spec = language_for(path)
    g = grammar(spec.name) if spec else None
    if g is not None:
        try:
            parsed = extract(g, path, spec.prepare(data) if spec is not None and spec.prepare else data)
            parsed.chunks = chunk_file(path, lines, parsed.symbols)
        except Exception as exc:  # a parser failure must not stop the run: fall back to line windows
            log.warning("%s: could not extract symbols (%s); indexing it by lines", path, exc)
            parsed = ParsedFile(path, spec.name if spec else "text", has_errors=True)
            parsed.chunks = windows(path, lines, [(1, len(lines))], "text")
    else:
        parsed = ParsedFile(path, "text")
        parsed.chunks = windows(path, lines, [(1, len(lines))], "text")
    out.parsed = parsed
    texts = [c.text for c in parsed.chunks]
    out.text_hashes = [content_hash(t.encode()) for t in texts]
    keys = [(h, c.symbol, c.head_end - c.start_line) for h, c in zip(out.text_hashes, parsed.chunks, strict=True)]
    new = [i for i, k in enumerate(keys) if not known or k not in known]
    heads = ["\n".join(lines[parsed.chunks[i].start_line - 1:parsed.chunks[i].head_end]) for i in new]
    counts = count_many([texts[i] for i in new] + heads) if new else []
    stem = os.path.splitext(os.path.basename(path))[0]
    found = {i: (counts[j], counts[len(new) + j], subtoken_text(f"{parsed.chunks[i].symbol} {stem} {texts[i]}"))
             for j, i in enumerate(new)}
    rows = [found[i] if i in found else known[k] for i, k in enumerate(keys)]  # type: ignore[index]
    out.tokens, out.head_tokens, out.terms = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    return out


def stable_mtime(st: os.stat_result) -> int:
    """The mtime to record, or 0 for a file written too recently to trust it: a second write in the same clock
    tick keeps size and mtime, so such a file is hashed again by the next refresh (git's "racily clean" rule)."""
    return st.st_mtime_ns if time.time_ns() - st.st_mtime_ns >= RACY_NS else 0


def analyze_path(job: tuple[str, str, str | None, Limits]) -> Analysis:
    """Worker entry: (root, path, known hash, limits). Never raises: a read error becomes a skip reason."""
    root, path, known, limits = job
    full = os.path.join(root, path)
    try:
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):  # its target is indexed under its own path, or is not the repository's
            return Analysis(path, size=st.st_size, mtime_ns=stable_mtime(st), skip_reason="symbolic link")
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the read forever; a device never ends
            return Analysis(path, size=st.st_size, mtime_ns=stable_mtime(st), skip_reason="not a regular file")
        data, st = read_regular(full, limits.max_file_bytes + 1)
    except NotRegular as exc:
        return Analysis(path, skip_reason="symbolic link" if exc.errno == errno.ELOOP else "not a regular file")
    except OSError as exc:
        return Analysis(path, skip_reason=f"unreadable: {exc.strerror or exc}")
    h = content_hash(data)  # of a too-large file: of its head, enough to tell that it is still the same
    if h == known:
        return Analysis(path, hash=h, size=st.st_size, mtime_ns=stable_mtime(st), unchanged=True)
    if len(data) > limits.max_file_bytes:
        return Analysis(path, hash=h, size=st.st_size, mtime_ns=stable_mtime(st),
                        skip_reason=f"larger than {limits.max_file_bytes} bytes")
    try:
        out = analyze_bytes(path, data, limits)
    except Exception as exc:  # one bad file never aborts a run; it is reported as skipped
        log.exception("%s: analysis failed", path)
        return Analysis(path, hash=h, size=st.st_size, mtime_ns=stable_mtime(st), skip_reason=f"failed: {exc}")
    out.size, out.mtime_ns = st.st_size, stable_mtime(st)
    return out
