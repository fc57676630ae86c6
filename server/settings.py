"""The server's typed settings: from initializationOptions and workspace/configuration, with env fallbacks."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

log = logging.getLogger(__name__)
SECTION = "ragls"


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """Which OpenAI-compatible endpoint and models to call. The API key is read from the environment variable
    named by `api_key_env`, never from a settings file."""

    base_url: str | None = None  # default: $OPENAI_BASE_URL
    api_key_env: str = "OPENAI_API_KEY"
    chat_model: str | None = None  # default: $RAGLS_MODEL
    completion_model: str | None = None  # default: $RAGLS_COMPLETION_MODEL, else the chat model
    fim_template: str | None = None  # starcoder, codellama, deepseek, qwen, codestral; None: chat prompts
    timeout_s: float = 30.0
    max_retries: int = 2
    max_concurrency: int = 4


@dataclass(frozen=True, kw_only=True)
class CompletionSettings:
    enabled: bool = True
    debounce_ms: int = 150
    max_tokens: int = 128
    budget: int = 2048  # prompt tokens: retrieved definitions first, the rest to prefix and suffix
    context_budget: int = 1024  # of which retrieved definitions may take at most this much
    edits_budget: int = 256  # ...and the recent edits elsewhere (the last 2-3 hunks of real commits: p75 253 tokens)
    multiline: bool = True


@dataclass(frozen=True, kw_only=True)
class ChatSettings:
    """Fix, explain and ask."""

    max_tokens: int = 1024
    budget: int = 6000
    context_budget: int = 2000
    edits_budget: int = 600  # the recent edits (the last 3 hunks of real commits: p95 555 tokens)
    hover: bool = False  # hover explanations cost a model call each: off by default


@dataclass(frozen=True, kw_only=True)
class IndexSettings:
    embedder: str | None = None  # "static" (default) or "openai:MODEL"
    store: str | None = None  # http://HOST:PORT of a shared chroma server
    data_dir: str | None = None
    debounce_ms: int = 300


@dataclass(frozen=True, kw_only=True)
class NextEditSettings:
    """Next-edit suggestions (`ragls/nextEdit`): where the change goes next, and the edit there."""

    enabled: bool = True
    max_tokens: int = 400
    budget: int = 3000  # prompt tokens: the recent edits, then the region to rewrite
    history_chars: int = 4000  # of the recent edits shown


@dataclass(frozen=True, kw_only=True)
class ReviewSettings:
    """Proactive review: a saved file's changed definitions go through the review pipeline (a model call per
    reviewer each time a definition changes): off by default."""

    on_save: bool = False
    debounce_ms: int = 1000  # saves closer together than this make one review (the latest save's)


@dataclass(frozen=True, kw_only=True)
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    next_edit: NextEditSettings = field(default_factory=NextEditSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    log_prompts: bool = False


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _merge(obj: Any, data: dict[str, Any], where: str, problems: list[str]) -> Any:
    """A copy of a settings dataclass with camelCase (or snake_case) keys of `data` applied; bad values are
    reported in `problems` and keep their defaults."""
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        name = _snake(key)
        if name not in known:
            continue  # unknown keys are ignored: clients send whole sections
        current = getattr(obj, name)
        if is_dataclass(current):
            if isinstance(value, dict):
                changes[name] = _merge(current, value, f"{where}.{key}", problems)
            elif value is not None:
                problems.append(f"{where}.{key} should be an object")
            continue
        if value is None:
            changes[name] = None if current is None or known[name].default is None else current
            continue
        expected = type(current) if current is not None else str
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problems.append(f"{where}.{key}: expected {expected.__name__}, got {type(value).__name__}")
            continue
        changes[name] = value
    return replace(obj, **changes)


def parse(data: Any) -> tuple[Settings, list[str]]:
    """Settings from a client's options (the `ragls` section, or an object containing it), and what was wrong
    with them. Never raises: invalid values fall back to defaults."""
    problems: list[str] = []
    if not isinstance(data, dict):
        if data is not None:
            problems.append("settings should be an object")
        data = {}
    if isinstance(data.get(SECTION), dict):
        data = data[SECTION]
    settings = _merge(Settings(), data, SECTION, problems)
    for p in problems:
        log.warning("invalid setting ignored: %s", p)
    return settings, problems


def with_env(settings: Settings, env: dict[str, str] | None = None) -> Settings:
    """Fill what settings leave open from the environment: OPENAI_BASE_URL, RAGLS_MODEL, RAGLS_COMPLETION_MODEL,
    RAGLS_FIM_TEMPLATE."""
    env = dict(os.environ) if env is None else env
    m = settings.model
    chat = m.chat_model or env.get("RAGLS_MODEL")
    model = replace(m, base_url=m.base_url or env.get("OPENAI_BASE_URL"), chat_model=chat,
                    completion_model=m.completion_model or env.get("RAGLS_COMPLETION_MODEL") or chat,
                    fim_template=m.fim_template or env.get("RAGLS_FIM_TEMPLATE") or None)
    return replace(settings, model=model)


def api_key(settings: Settings) -> str | None:
    """The API key, from the environment only."""
    return os.environ.get(settings.model.api_key_env) or None


def model_configured(settings: Settings) -> bool:
    """A chat model and an endpoint to call it at (a base URL, or OpenAI's own API with a key)."""
    m = settings.model
    return bool(m.chat_model and (m.base_url or api_key(settings)))
