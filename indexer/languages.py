"""Lookups in the language registry (`ragls.indexer.lang`) and the grammars, loaded once with their tags queries."""
from __future__ import annotations

import importlib
import logging
import os
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
    try:
        return ts.Query(g.language, (QUERY_DIR / s.types_query).read_text(encoding="utf-8"))
    except (OSError, ts.QueryError) as exc:
        log.error("types query for %s is unusable (%s); receivers are not typed", name, exc)
        return None
