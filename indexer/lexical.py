"""BM25 over identifier sub-tokens: an in-memory index of the catalog, kept exact across single-file edits.

FTS5 holds the same terms on disk, but ranking its matches costs milliseconds a query (it scores every row of the
OR-query); NumPy arrays (a few MB for a Django-size index) score the same query in a fraction of that: the postings
of the rare terms, which find the best chunks, and each chunk's own terms, which score the common ones.
Files changed since the postings were read (an editor's edits, logged in `changes`) are masked out of them and
their current chunks scored from the catalog, so an edit is searchable at once.
"""
from __future__ import annotations

import math
from array import array
from collections import Counter

import numpy as np

from .store import Store

K1, B = 1.2, 0.75
COMMON_DF = 0.05  # terms in more than this share of chunks are too common to search by (still scored)
SEARCH_TERMS = 16  # the rarest terms find the best chunks; all terms score them
REBUILD_AFTER = 200  # files changed since the postings were read: past this many, read them again


class _Overlay:
    """The chunks of files changed since the postings were read: their CSR rows masked, their terms in memory."""

    def __init__(self, lex: "Lexical", seq: int) -> None:
        paths = lex.store.changed_since(lex.seq)
        self.seq, self.paths = seq, len(paths)
        stale = [lex.docs_of_path[p] for p in paths if p in lex.docs_of_path]
        self.mask = np.concatenate(stale) if stale else np.zeros(0, dtype=np.int64)
        self.docs: dict[int, Counter[str]] = {}
        self.lengths: dict[int, int] = {}
        for rowid, text in lex.store.postings_of(paths):
            tokens = text.split()
            self.docs[rowid] = Counter(tokens)
            self.lengths[rowid] = len(tokens)


class Lexical:
    """Scores are comparable across the best hits and the graph's candidates of one query."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seq = store.change_seq()
        terms: dict[str, int] = {}
        post_term, post_tf = array("i"), array("H")  # each chunk's terms, chunk after chunk (the forward index)
        rowids, lengths, starts = array("q"), array("i"), array("q")
        for rowid, text in store.postings():
            tokens = text.split()
            rowids.append(rowid)
            lengths.append(len(tokens))
            starts.append(len(post_term))
            for t, tf in Counter(tokens).items():
                post_term.append(terms.setdefault(t, len(terms)))
                post_tf.append(min(tf, 65535))
        starts.append(len(post_term))
        self.rowids = np.frombuffer(rowids, dtype=np.int64)
        self.n_docs = max(1, len(self.rowids))
        self.fwd_term = np.frombuffer(post_term, dtype=np.int32)
        self.fwd_tf = np.frombuffer(post_tf, dtype=np.uint16)
        self.fwd_start = np.frombuffer(starts, dtype=np.int64)
        df = np.bincount(self.fwd_term, minlength=len(terms))
        self.terms = {t: (i, int(df[i])) for t, i in terms.items()}  # term -> (its id, its document frequency)
        # the inverted index holds only the terms rare enough to search by: a common term's postings, most of all
        # postings, are read for the few chunks a query scores through the forward index instead
        self.rare_df = max(3.0, COMMON_DF * self.n_docs)
        doc = np.repeat(np.arange(len(self.rowids), dtype=np.int32), np.diff(self.fwd_start))
        keep = np.flatnonzero(df[self.fwd_term] <= self.rare_df)
        order = keep[np.argsort(self.fwd_term[keep], kind="stable")]
        self.post_doc = doc[order]
        self.post_tf = self.fwd_tf[order].astype(np.float32)
        counts = np.bincount(self.fwd_term[order], minlength=len(terms))
        bounds = np.concatenate(([0], np.cumsum(counts)))
        self.span = {t: (int(bounds[i]), int(bounds[i + 1])) for t, i in terms.items() if counts[i]}
        length = np.frombuffer(lengths, dtype=np.int32).astype(np.float32)
        self.avgdl = max(1.0, float(length.mean()) if len(length) else 1.0)
        self.norm = K1 * (1 - B + B * length / self.avgdl)
        by_path: dict[str, list[int]] = {}
        index = {int(r): n for n, r in enumerate(self.rowids)}
        for rowid, path in store.chunk_paths():
            if (at := index.get(rowid)) is not None:
                by_path.setdefault(path, []).append(at)
        self.docs_of_path: dict[str, np.ndarray] = {p: np.asarray(v, dtype=np.int64) for p, v in by_path.items()}
        self._overlay: _Overlay | None = None

    def stale(self) -> bool:
        """True when so many files changed since the postings were read that reading them again is cheaper."""
        o = self._current_overlay()
        return o is not None and o.paths > REBUILD_AFTER

    def _current_overlay(self) -> _Overlay | None:
        seq = self.store.change_seq()
        if seq == self.seq:
            return None
        if self._overlay is None or self._overlay.seq != seq:
            self._overlay = _Overlay(self, seq)
        return self._overlay

    def df(self, term: str) -> int:
        return self.terms.get(term, (0, 0))[1]

    def scores(self, terms: list[str], candidates: list[int], top_n: int = 50) -> dict[int, float]:
        """BM25 of the chunks best matching the rarest of `terms` (top_n) and of every candidate chunk, all terms
        counted."""
        qtf = Counter(terms)
        if not qtf:
            return {}
        overlay = self._current_overlay()
        df = {t: self.df(t) or 1 for t in qtf}  # a term new since the postings were read counts as rare
        weight = {t: math.log(1 + (self.n_docs - d + 0.5) / (d + 0.5)) * (1 + math.log(qtf[t])) * (K1 + 1)
                  for t, d in df.items()}
        rare = sorted((t for t, d in df.items() if d <= self.rare_df), key=df.__getitem__)
        rare = rare[:SEARCH_TERMS]

        dense = np.zeros(len(self.rowids), dtype=np.float32)  # the rare terms' part of every chunk's score
        for t in rare:
            start, end = self.span.get(t, (0, 0))
            if end > start:
                d, tf = self.post_doc[start:end], self.post_tf[start:end]
                dense[d] += weight[t] * tf / (tf + self.norm[d])
        if overlay is not None and len(overlay.mask):
            dense[overlay.mask] = 0.0
        wanted = set(candidates)
        floor = 0.0
        if rare:
            n_best = min(top_n, int(np.count_nonzero(dense)))
            if n_best:
                best = np.argpartition(-dense, n_best - 1)[:n_best]
                wanted.update(self.rowids[best].tolist())
                floor = float(dense[best].min()) if n_best == top_n else 0.0
        extra = self._overlay_scores(overlay, qtf, weight) if overlay is not None else {}
        # the changed files' chunks compete for the best hits on the rare terms alone (no overlay: extra is empty)
        if rare and extra and overlay is not None:
            rare_only = self._overlay_scores(overlay, Counter({t: qtf[t] for t in rare}), weight)
            wanted.update(r for r, s in rare_only.items() if s > floor)

        out = {r: s for r, s in extra.items() if r in wanted}
        rows = np.fromiter(wanted if not extra else (r for r in wanted if r not in extra), dtype=np.int64)
        if len(rows) and len(self.rowids):
            at = np.minimum(np.searchsorted(self.rowids, rows), len(self.rowids) - 1)
            known = self.rowids[at] == rows
            rows, ids = rows[known], at[known]
            total = dense[ids].astype(np.float64)
            searched = set(rare)
            if others := {self.terms[t][0]: weight[t] for t in qtf if t not in searched and t in self.terms}:
                total += self._forward(ids, others)
            if overlay is not None and len(overlay.mask):
                total[np.isin(ids, overlay.mask)] = 0.0
            scored = total > 0
            out.update(zip(rows[scored].tolist(), total[scored].tolist(), strict=True))
        return out

    def _forward(self, docs: np.ndarray, weights: dict[int, float]) -> np.ndarray:
        """Each of `docs`' (positions) part of its score from the terms `weights` holds (term id -> weight), read off
        those chunks' own terms: a common term's postings are about as many as the chunks, a chunk's terms a few
        dozen."""
        starts, ends = self.fwd_start[docs], self.fwd_start[docs + 1]
        sizes = ends - starts
        at = np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(starts - (np.cumsum(sizes) - sizes), sizes)
        ids = np.fromiter(weights, dtype=np.int32, count=len(weights))
        order = np.argsort(ids)
        ids, w = ids[order], np.fromiter(weights.values(), dtype=np.float32, count=len(weights))[order]
        terms = self.fwd_term[at]
        found = np.minimum(np.searchsorted(ids, terms), len(ids) - 1)
        hit = ids[found] == terms
        of = np.repeat(np.arange(len(docs)), sizes)[hit]
        tf = self.fwd_tf[at[hit]].astype(np.float32)
        part = w[found[hit]] * tf / (tf + self.norm[docs[of]])
        return np.bincount(of, weights=part, minlength=len(docs))

    def _overlay_scores(self, overlay: _Overlay, qtf: Counter[str], weight: dict[str, float]) -> dict[int, float]:
        out = {}
        for rowid, tf in overlay.docs.items():
            norm = K1 * (1 - B + B * overlay.lengths[rowid] / self.avgdl)
            s = sum(weight[t] * tf[t] / (tf[t] + norm) for t in qtf if t in tf)
            if s > 0:
                out[rowid] = s
        return out
