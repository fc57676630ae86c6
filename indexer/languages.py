"""Lookups in the language registry (`ragls.indexer.lang`) and the grammars, loaded once with their tags queries."""
from __future__ import annotations

import importlib
import logging
import os
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tree_sitter as ts

from .lang import LANGUAGES, LanguageSpec

log = logging.getLogger(__name__)
QUERY_DIR = Path(__file__).parent / "queries"


_BY_EXT = {ext: spec for spec in LANGUAGES for ext in spec.extensions}
_BY_NAME = {spec.name: spec for spec in LANGUAGES}
LANGUAGE_NAMES = frozenset(_BY_NAME)


def language_for(path: str) -> LanguageSpec | None:
    """The language of a path by its extension, or None (the file is chunked by line windows)."""
    return _BY_EXT.get(os.path.splitext(path)[1].lower())  # not Path(path).suffix: 20 us a file of a walk


def spec(name: str) -> LanguageSpec:
    return _BY_NAME[name]


def query_source(s: LanguageSpec) -> str:
    """The tags query of a language: its query files joined."""
    return "\n".join((QUERY_DIR / f).read_text(encoding="utf-8") for f in s.queries or (f"{s.name}.scm",))


@dataclass(frozen=True, slots=True)
class Grammar:
    """A loaded grammar with its compiled tags query."""

    spec: LanguageSpec
    language: ts.Language
    query: ts.Query

    def parser(self) -> ts.Parser:
        return ts.Parser(self.language)

    def parse(self, data: bytes, old_tree: ts.Tree | None = None, parser: ts.Parser | None = None) -> ts.Tree | None:
        """`data` parsed (reusing `old_tree`, edited to match), or None when tree-sitter ran past `parse_seconds`
        and was halted: its error recovery can go exponential on garbage (a 6 KB TypeScript prefix of random tokens
        parsed for minutes), and a parse must never freeze a request or an index worker."""
        parser = parser or self.parser()
        start = time.monotonic()
        deadline = start + parse_seconds(len(data))

        def read(at: int, _point: tuple[int, int]) -> bytes:
            return data[at:at + _READ_CHUNK]

        def past(*_state: object) -> bool:
            return time.monotonic() > deadline

        try:  # a callable source: tree-sitter asks the progress callback only of those
            tree = parser.parse(read, old_tree, progress_callback=past) if old_tree is not None else \
                parser.parse(read, progress_callback=past)
            # the same tree again over the bytes, reused whole (a few percent of the parse): a tree parsed from a
            # callable reads each `node.text` through it, which made extraction 2.5x slower. Not after a parse far
            # slower than its size: error recovery at work (garbage, `->` a thousand times), which reuses nothing
            # and would take as long again, past the limit, which a parse of bytes cannot be given
            if time.monotonic() - start > REPARSE_SECONDS + len(data) / REPARSE_BYTES_PER_SECOND:
                return tree
            return parser.parse(data, tree)
        except ValueError:  # halted
            parser.reset()
            log.warning("%s: parsing %d bytes gave up after %.1f s", self.spec.name, len(data),
                        parse_seconds(len(data)))
            return None


# A parse's time limit: a floor plus what the slowest plausible parse of that many bytes takes (tree-sitter parses
# 5 MB/s a core here; a loaded machine, a tenth of that).
PARSE_FLOOR_SECONDS = 1.0
PARSE_BYTES_PER_SECOND = 500_000
_READ_CHUNK = 1 << 16
# A parse slower than this (at a tenth of tree-sitter's usual speed) is not repeated over the bytes (Grammar.parse)
REPARSE_SECONDS, REPARSE_BYTES_PER_SECOND = 0.02, 500_000


def parse_seconds(size: int) -> float:
    return PARSE_FLOOR_SECONDS + size / PARSE_BYTES_PER_SECOND


@cache
def grammar(name: str) -> Grammar | None:
    """Load a grammar and its query once per process; None (logged) when the wheel is missing."""
    s = _BY_NAME[name]
    try:
        module = importlib.import_module(s.module)
    except ImportError:
        log.warning("no grammar for %s (pip install %s); its files are chunked by lines", name,
                    s.module.replace("_", "-"))
        return None
    language = ts.Language(getattr(module, s.entry)())
    try:
        return Grammar(s, language, ts.Query(language, query_source(s)))
    except (OSError, ts.QueryError) as exc:
        log.error("tags query for %s is unusable (%s); its files are chunked by lines", name, exc)
        return None


@cache
def types_query(name: str) -> ts.Query | None:
    """The language's query of declared types (LanguageSpec.types_query), or None (none, or unusable: logged)."""
    s = _BY_NAME[name]
    g = grammar(name)
    if g is None or s.types_query is None:
        return None
    files = (s.types_query,) if isinstance(s.types_query, str) else s.types_query
    try:
        return ts.Query(g.language, "\n".join((QUERY_DIR / f).read_text(encoding="utf-8") for f in files))
    except (OSError, ts.QueryError) as exc:
        log.error("types query for %s is unusable (%s); receivers are not typed", name, exc)
        return None
