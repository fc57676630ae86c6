"""What came next where the same code was written before: the names that followed the tokens before the cursor in
the repository's other chunks (and earlier in the query's own file), counted; code repeats, and so does what it
calls."""
from __future__ import annotations

import logging
import re
import sqlite3
from collections import Counter

from .store import Store, subtokens

log = logging.getLogger(__name__)

TOKEN = re.compile(r"[A-Za-z_$][\w$]*|\d[\w.]*|\S")
_NAME = re.compile(r"[A-Za-z_$][\w$]*")
_SPACE = re.compile(r"\s")
END_CHARS = 320  # of the text before the cursor, tokenized for the keys when it holds enough tokens
KEY_TOKENS = (8, 6, 5, 4, 3, 2)  # the longest key with matches wins: the last 8 tokens before the cursor, else 6, ...
MAX_CHUNKS = 24  # chunks read a query, of those the lexical index says hold the key's words in order
TAIL_CHARS = 64_000  # of the query's own text, searched for the key
_COMMON = frozenset("""return self this cls if else elif for while def func function const let var new import from class
public private protected static final await async yield not and or in is None nil null true false True False
err""".split())
WINDOW = 160  # characters around each occurrence of a key's longest name in a chunk that are tokenized
# of the query's own text, the occurrences nearest the cursor: a name on every line of a long file (`latex(` in its
# tests) would have the whole 64,000 characters tokenized, 5 ms of a deep query, for counts the nearest ones give
OWN_OCCURRENCES = 64


def key_of(tokens: list[str], n: int) -> tuple[str, ...] | None:
    """The last `n` tokens, when they name something: a key of only punctuation and short names matches anywhere."""
    key = tuple(tokens[-n:])
    if len(key) < n or not any(len(t) > 2 and _NAME.fullmatch(t) for t in key):
        return None
    return key


def _last_tokens(text: str, n: int) -> list[str]:
    """Tokens of the end of `text`, its last `n` as all of it would be tokenized: those after a whitespace in its
    last END_CHARS characters (a token never holds one, so they are the whole text's) when they are `n` or more, else
    those of its last 2,000 characters (Django's cursors: 6x fewer characters read)."""
    tail = text[-END_CHARS:]
    if (space := _SPACE.search(tail)) is not None and len(tokens := TOKEN.findall(tail, space.end())) >= n:
        return tokens
    return TOKEN.findall(text[-2000:])


def _joined(text: str) -> str:
    """The text's tokens with one space around each: a key then occurs as a substring, whatever the spacing."""
    return " " + " ".join(TOKEN.findall(text)) + " "


def _around(text: str, anchor: str, last: int | None = None) -> list[str]:
    """The stretches of `text` within WINDOW characters of an occurrence of `anchor` (overlapping ones merged): a
    key holding the anchor lies inside one, and only they are tokenized. With `last`, of the last `last`
    occurrences only."""
    first = 0
    if last is not None:
        at = len(text)
        for _ in range(last):
            if (found := text.rfind(anchor, 0, at)) < 0:
                break
            at = found
        else:
            first = at
    out, at, find = [], text.find(anchor, first), text.find
    while at >= 0:
        lo, hi = max(0, at - WINDOW), at + len(anchor) + WINDOW
        while (at := find(anchor, at + 1)) >= 0 and at - WINDOW <= hi:
            hi = at + len(anchor) + WINDOW
        out.append(text[lo:hi])
    return out


def _stretches(cache: dict[tuple[str, str, int | None], list[str]], anchor: str, text: str,
               last: int | None = None) -> list[str]:
    """`_around(text, anchor, last)`, once a query: the keys of one query often share an anchor."""
    if (got := cache.get((anchor, text, last))) is None:
        got = cache[(anchor, text, last)] = _around(text, anchor, last)
    return got


def _follows(joined: str, key: str) -> list[str]:
    """The names right after each occurrence of `key` (tokens joined as `_joined` does, with its spaces) in
    `joined`."""
    out, find, at = [], joined.find, joined.find(key)
    while at >= 0:
        start = at + len(key)
        nxt = joined[start:joined.find(" ", start)]
        if _NAME.fullmatch(nxt):
            out.append(nxt)
        at = find(key, at + 1)
    return out


class NextNames:
    """Answers `names` for one index: the other chunks' text comes from the catalog (no file is read, and an editor's
    unsaved buffer, indexed by `update_file`, counts as it reads)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def names(self, path: str, before: str) -> Counter[str]:
        """The names that followed the last tokens of `before` (the text before the cursor of file `path`)
        elsewhere: in the chunks of other files whose words the lexical index finds in that order, and earlier in
        `before` itself. Counted for the longest key (KEY_TOKENS) that occurs at all; empty when none does."""
        tokens = _last_tokens(before, max(KEY_TOKENS))
        own = before[-TAIL_CHARS:]  # the key at its very end has no name after it
        # the keys are suffixes of each other: often with the same words (they differ in punctuation) and the same
        # rarest name, so the chunks found and the stretches tokenized for one serve the next
        found: dict[str, list[str]] = {}
        near: dict[tuple[str, str], list[str]] = {}
        stretches: dict[tuple[str, str, int | None], list[str]] = {}  # (anchor, a text, last) -> its stretches
        joined: dict[str, str] = {}  # a stretch -> its tokens joined (`_joined`), tokenized once a query
        bare: dict[str, str] = {}  # a stretch -> its text without whitespace
        for n in KEY_TOKENS:
            key = key_of(tokens, n)
            if key is None:
                continue
            joined_key = " " + " ".join(key) + " "
            anchor = max((t for t in key if _NAME.fullmatch(t)), key=lambda t: (t not in _COMMON, len(t)))
            words = [w for t in key for w in subtokens(t)]
            phrase = '"' + " ".join(words) + '"' if words else ""
            if (phrase, anchor) not in near:
                if phrase not in found:
                    found[phrase] = self._chunks(phrase, path) if words else []
                near[(phrase, anchor)] = [*_stretches(stretches, anchor, own, OWN_OCCURRENCES),
                                          *(s for chunk in found[phrase] for s in _stretches(stretches, anchor, chunk))]
            # a stretch holds the key only if it holds each of its tokens (a third of them on Django's cursors do
            # not: the key's words, not its punctuation), and only if its text without whitespace holds the tokens
            # written together (only whitespace parts the tokens of a stretch): 3 in 5 of the others do not. Neither
            # kind is tokenized.
            parts, together = set(key), "".join(key)
            counts: Counter[str] = Counter()
            for stretch in near[(phrase, anchor)]:
                if all(t in stretch for t in parts):
                    if (b := bare.get(stretch)) is None:
                        b = bare[stretch] = "".join(stretch.split())
                    if together not in b:
                        continue
                    if (j := joined.get(stretch)) is None:
                        j = joined[stretch] = _joined(stretch)
                    counts.update(_follows(j, joined_key))
            if counts:
                return counts
        return Counter()

    def _chunks(self, phrase: str, path: str) -> list[str]:
        """The text of up to MAX_CHUNKS chunks of other files holding the phrase's words in order."""
        try:
            return self.store.phrase_texts(phrase, path, MAX_CHUNKS)
        except sqlite3.Error as exc:  # the lexical index unreadable: the query goes on without this evidence
            log.warning("searching the lexical index for what came next failed: %s", exc)
            return []
