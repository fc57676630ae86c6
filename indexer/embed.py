"""Embedders: an offline static model by default, or any OpenAI-compatible /v1/embeddings endpoint."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)
STATIC_NAME = "static-64-ascii"  # the static model's vector space (see static_vectors.py)
MAX_EMBED_CHARS = 1_000  # the head of a chunk says what it is; the static model averages anyway


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors. `name` identifies the vector space (model and dimension)."""

    @property
    def name(self) -> str: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


def unit_length(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


class StaticEmbedder:
    """tokenlearn-static-model: a 64-dimension static model whose weights ship in the wheel (no download)."""

    name = STATIC_NAME

    def __init__(self) -> None:
        from .static_vectors import StaticVectors

        self._model = StaticVectors()

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._model.embed([t[:MAX_EMBED_CHARS] for t in texts])

    def warm(self) -> None:
        """Load what an edit's few new words are segmented with (55-80 ms), before the first edit needs it."""
        self._model.segmenter(1)


@dataclass
class OpenAIEmbedder:
    """Any OpenAI-compatible embeddings endpoint (OpenAI, Ollama, vLLM, LM Studio), chosen by base URL."""

    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never in a log line
    batch_size: int = 128
    timeout_s: float = 60.0  # per request: an endpoint that stops answering fails the batch instead of hanging it
    max_retries: int = 3
    _client: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    def client(self) -> Any:
        """One client for the embedder's life (its connections are reused across batches)."""
        if self._client is None:
            import openai

            self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "unused",
                                         max_retries=self.max_retries, timeout=self.timeout_s)
        return self._client

    def embed(self, texts: list[str]) -> np.ndarray:
        import openai

        from .secrets import redact

        client = self.client()
        out: list[list[float]] = []
        where = f"the embeddings endpoint {self.base_url or '(OPENAI_BASE_URL)'} (model {self.model})"
        for i in range(0, len(texts), self.batch_size):  # texts leave the machine: their secrets are redacted
            batch = [redact(t[:MAX_EMBED_CHARS * 4])[0] or " " for t in texts[i:i + self.batch_size]]
            try:
                reply = client.embeddings.create(model=self.model, input=batch)
                data = sorted(reply.data, key=lambda d: d.index)
            except (openai.OpenAIError, ValueError, TypeError, AttributeError) as exc:  # down, refused, not JSON
                raise EmbeddingError(f"{where} failed: {exc}") from exc
            if [d.index for d in data] != list(range(len(batch))):
                raise EmbeddingError(f"{where} answered {len(data)} vectors for {len(batch)} texts")
            if len({len(d.embedding) for d in data} | ({len(out[0])} if out else set())) != 1:
                raise EmbeddingError(f"{where} answered vectors of different lengths")
            out.extend(d.embedding for d in data)
        return unit_length(np.asarray(out, dtype=np.float32).reshape(len(texts), -1))


class EmbeddingError(RuntimeError):
    """An embeddings endpoint failed or answered something that is not one vector per text: one clear line."""


def make_embedder(spec: str | None = None, base_url: str | None = None, api_key_env: str | None = None) -> Embedder:
    """"static" (default) or "openai:MODEL" at `base_url`, its key read from the environment variable `api_key_env`
    (the caller's settings choose both: see ragls.server.layers)."""
    spec = spec or "static"
    if spec == "static":
        return StaticEmbedder()
    if spec.startswith("openai:"):
        return OpenAIEmbedder(spec.split(":", 1)[1], base_url, os.environ.get(api_key_env) if api_key_env else None)
    raise ValueError(f"unknown embedder {spec!r}: use 'static' or 'openai:MODEL'")
