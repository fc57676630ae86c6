"""BM25 over identifier sub-tokens: FTS5 finds the best chunks, exact Okapi scores come from the stored terms."""
from __future__ import annotations

import math
from collections import Counter

from .store import Store

K1, B = 1.2, 0.75
COMMON_DF = 0.05  # terms in more than this share of chunks are too common to search by (still scored)
SEARCH_TERMS = 16  # the rarest terms find the FTS hits; all terms score them


class Lexical:
    """Scores are comparable across the FTS hits and the graph's candidates of one query."""

    def __init__(self, store: Store) -> None:
        self.db = store.db
        self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab USING fts5vocab(main, 'chunks_fts', 'row')")
        self.df: dict[str, int] = dict(self.db.execute("SELECT term, doc FROM temp.chunks_vocab"))
        n, total = self.db.execute("SELECT count(*), total(length(terms) - length(replace(terms, ' ', '')) + 1) "
                                   "FROM chunks_fts").fetchone()
        self.n_docs = max(1, n)
        self.avgdl = max(1.0, total / self.n_docs)

    def scores(self, terms: list[str], candidates: list[int], top_n: int = 50) -> dict[int, float]:
        """BM25 of the chunks best matching `terms` (top_n by FTS5) and of every candidate chunk."""
        qtf = Counter(terms)
        df = {t: self.df.get(t, 1) for t in qtf}  # a term new since the stats were read counts as rare
        if not df:
            return {}
        idf = {t: math.log(1 + (self.n_docs - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        rare = [t for t, d in df.items() if d <= max(3.0, COMMON_DF * self.n_docs)]
        ids = set(candidates)
        if rare:
            match = " OR ".join(f'"{t}"' for t in sorted(rare, key=lambda t: df[t])[:SEARCH_TERMS])
            ids.update(r[0] for r in self.db.execute(
                "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?", (match, top_n)))
        out: dict[int, float] = {}
        ordered = list(ids)
        for i in range(0, len(ordered), 900):
            part = ordered[i:i + 900]
            for rowid, text in self.db.execute(
                    f"SELECT rowid, terms FROM chunks_fts WHERE rowid IN ({','.join('?' * len(part))})", part):
                tokens = text.split()
                tf = Counter(tokens)
                norm = K1 * (1 - B + B * len(tokens) / self.avgdl)
                s = sum(idf[t] * tf[t] * (K1 + 1) / (tf[t] + norm) * (1 + math.log(q)) for t, q in qtf.items()
                        if t in tf and t in idf)
                if s > 0:
                    out[rowid] = s
        return out
