"""The typed settings tree and its keys: camelCase names, types, defaults, environment variables, who may set them."""
from __future__ import annotations

import difflib
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

SECTION = "ragls"
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _key(default: Any, doc: str, *, env: str | None = None, user_only: bool = False, least: float = 0,
         variable: bool = False, url: bool = False) -> Any:
    """A setting: its default and one-line doc; `env`, the variable of the environment layer; `user_only`, a key a
    project's config may not set (it chooses where code goes, which secret is read, where ragls writes); `least`,
    the smallest number allowed; `variable`, it names an environment variable; `url`, its credentials are hidden."""
    return field(default=default, metadata={"doc": doc, "env": env, "user_only": user_only, "least": least,
                                            "variable": variable, "url": url})


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """Which OpenAI-compatible endpoint and models to call. The API key is read from the environment variable
    named by `api_key_env`, never from a settings file."""

    base_url: str | None = _key(None, "the OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp server, LM "
                                      "Studio); unset: OpenAI's API", env="OPENAI_BASE_URL", user_only=True, url=True)
    api_key_env: str = _key("OPENAI_API_KEY", "the environment variable holding the API key", user_only=True,
                            variable=True)
    chat_model: str | None = _key(None, "the model for fix, explain, ask, next edit and review", env="RAGLS_MODEL")
    completion_model: str | None = _key(None, "the model for completions; unset: the chat model",
                                        env="RAGLS_COMPLETION_MODEL")
    fim_template: str | None = _key(None, "the completion model's fill-in-the-middle family (starcoder, codellama, "
                                          "deepseek, qwen, codestral); unset: chat prompts", env="RAGLS_FIM_TEMPLATE")
    timeout_s: float = _key(30.0, "seconds each model call may take", least=0.001)
    max_retries: int = _key(2, "retries with backoff on 429, 5xx and timeouts (honouring Retry-After)")
    max_concurrency: int = _key(4, "model calls at once", least=1)


@dataclass(frozen=True, kw_only=True)
class CompletionSettings:
    enabled: bool = _key(True, "inline completions")
    debounce_ms: int = _key(150, "wait after a keystroke before asking the model")
    max_tokens: int = _key(128, "of a completion", least=1)
    budget: int = _key(2048, "prompt tokens (cl100k) of a completion: retrieved definitions first, then prefix and "
                             "suffix", least=1)
    context_budget: int = _key(1024, "of them, at most this many for retrieved definitions")
    edits_budget: int = _key(256, "of them, the recent edits away from the cursor and the diagnostics near it (256: "
                                  "the last 2-3 hunks of 75% of real changes)")
    viewed_budget: int = _key(256, "of them, code viewed recently in the editor (other files, or far from the "
                                   "cursor), only where prefix and suffix keep 640 (256: about 20 lines; 0: none)")
    multiline: bool = _key(True, "complete a block, not only a line")
    acceptance: bool = _key(True, "count shown, accepted and dismissed completions, and keep the accepted ones with "
                                  "their prompts, in a local store next to the index (never sent anywhere; read by "
                                  "`ragls.status` and `ragls export-finetune`)")


@dataclass(frozen=True, kw_only=True)
class ChatSettings:
    """Fix, explain and ask."""

    max_tokens: int = _key(1024, "of a reply (a fix's may take twice its code's tokens plus 256: it holds the whole "
                                 "definition)", least=1)
    budget: int = _key(6000, "prompt tokens of fix, explain and ask (and of a review prompt, unless "
                             "--prompt-budget)", least=1)
    context_budget: int = _key(2000, "of them, at most this many for retrieved definitions")
    edits_budget: int = _key(600, "of them, the recent edits and diagnostics (600: the last 3 hunks of 95% of real "
                                  "changes)")
    viewed_budget: int = _key(400, "of them, code viewed recently in the editor, in explain prompts (other files, "
                                   "or away from the selection; 400: about 30 lines; 0: none)")
    hover: bool = _key(False, "explain on hover (a model call per hover; read at start)")


@dataclass(frozen=True, kw_only=True)
class IndexSettings:
    embedder: str | None = _key(None, "`static` (local, nothing leaves the machine) or `openai:MODEL` (the "
                                      "embeddings endpoint); unset: static", env="RAGLS_EMBEDDER", user_only=True)
    embed_base_url: str | None = _key(None, "the embeddings endpoint of `openai:MODEL`; unset: model.baseUrl",
                                      env="RAGLS_EMBED_BASE_URL", user_only=True, url=True)
    embed_api_key_env: str = _key("RAGLS_EMBED_API_KEY", "the variable holding the embeddings key; unset there: "
                                                         "the one model.apiKeyEnv names", user_only=True, variable=True)
    store: str | None = _key(None, "http://HOST:PORT of a shared Chroma server (its token: $RAGLS_STORE_TOKEN); "
                                   "unset: a local store", user_only=True, url=True)
    data_dir: str | None = _key(None, "this repository's index folder; unset: a folder under $RAGLS_HOME",
                                user_only=True)
    debounce_ms: int = _key(300, "wait after an edit before indexing the file again")


@dataclass(frozen=True, kw_only=True)
class NextEditSettings:
    """Next-edit suggestions (`ragls/nextEdit`): where the change goes next, and the edit there."""

    enabled: bool = _key(True, "next-edit suggestions (a model call each time the client asks)")
    max_tokens: int = _key(400, "of the model's edit", least=1)
    budget: int = _key(3000, "prompt tokens: the recent edits, then the region to rewrite", least=1)
    history_chars: int = _key(4000, "of the recent edits shown")


@dataclass(frozen=True, kw_only=True)
class ReviewSettings:
    """Proactive review: a saved file's changed definitions go through the review pipeline (a model call per
    reviewer each time a definition changes): off by default."""

    on_save: bool = _key(False, "review the definitions a save changed (a few model calls each)")
    debounce_ms: int = _key(1000, "saves closer together than this make one review (the latest save's)")


@dataclass(frozen=True, kw_only=True)
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    next_edit: NextEditSettings = field(default_factory=NextEditSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    log_prompts: bool = _key(False, "log each prompt sent and its token count (stderr)")


@dataclass(frozen=True)
class Key:
    """One leaf of the settings tree, named as everywhere outside Python: `model.timeoutS`."""

    name: str
    path: tuple[str, ...]  # the dataclass fields: ("model", "timeout_s")
    type: type  # bool, int, float or str
    optional: bool  # None (unset) is a value
    default: Any
    doc: str
    env: str | None
    user_only: bool
    least: float
    variable: bool
    url: bool


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@cache
def keys() -> dict[str, Key]:
    """Every setting by its name, in the tree's order."""
    out: dict[str, Key] = {}

    def walk(cls: type, path: tuple[str, ...]) -> None:
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            hint, where = hints[f.name], (*path, f.name)
            if is_dataclass(hint):
                walk(hint, where)  # type: ignore[arg-type]
                continue
            args = set(typing.get_args(hint)) or {hint}
            (base,) = args - {type(None)}
            name = ".".join(camel(p) for p in where)
            m = f.metadata
            out[name] = Key(name, where, base, type(None) in args, f.default, m["doc"], m["env"], m["user_only"],
                            m["least"], m["variable"], m["url"])

    walk(Settings, ())
    return out


def lookup(name: str) -> Key | None:
    """The key named `name` (camelCase, or the snake_case of a path: `model.timeout_s`)."""
    return keys().get(".".join(camel(p) for p in name.split(".")))


def suggest(name: str) -> str:
    """", did you mean X?" for a misspelt key, else ""."""
    close = difflib.get_close_matches(name, list(keys()), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


_KINDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def check(key: Key, value: Any) -> Any:
    """`value` as the key's type (an int for a float key becomes a float; an empty string unsets an optional key),
    or ValueError saying what is wrong. The message never holds the value: it might be a secret set by mistake."""
    if key.optional and value == "":
        return None
    expected = key.type
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
        raise ValueError(f"expected {_KINDS[expected]}, got {kind_of(value)}")
    value = typing.cast(Any, value)  # of the key's type now
    if expected in (int, float) and value < key.least:
        raise ValueError(f"expected at least {key.least:g}" if key.least >= 1 or key.least == 0
                         else "expected a number above 0")
    if key.variable and not _VARIABLE.fullmatch(value):
        raise ValueError("expected the name of an environment variable (letters, digits and _), not its value")
    if key.name == "model.fimTemplate" and value not in fim_families():
        raise ValueError(f"expected one of {', '.join(fim_families())}")
    if key.name == "index.embedder" and not (value == "static" or re.fullmatch(r"openai:\S+", value)):
        raise ValueError("expected 'static' or 'openai:MODEL'")
    return value


@cache
def fim_families() -> tuple[str, ...]:
    """The FIM formats prompts/fim.toml defines."""
    return tuple(tomllib.loads((resources.files("ragls.prompts") / "fim.toml").read_text("utf-8")))


def build(values: Mapping[str, Any]) -> Settings:
    """Settings from checked values by key name; the others keep their defaults."""
    def make(cls: Any, path: tuple[str, ...]) -> Any:
        changes: dict[str, Any] = {}
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            where = (*path, f.name)
            if is_dataclass(hints[f.name]):
                changes[f.name] = make(hints[f.name], where)
            elif (name := ".".join(camel(p) for p in where)) in values:
                changes[f.name] = values[name]
        return cls(**changes)

    return make(Settings, ())


def api_key(settings: Settings) -> str | None:
    """The API key, from the environment only."""
    return os.environ.get(settings.model.api_key_env) or None


def embed_key_env(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The variable the embedder's key is read from: index.embedApiKeyEnv when it is set, else the model's."""
    env = os.environ if env is None else env
    return settings.index.embed_api_key_env if env.get(settings.index.embed_api_key_env) \
        else settings.model.api_key_env


def index_options(settings: Settings) -> dict[str, Any]:
    """The index's settings as `Index.open`'s keyword arguments."""
    s = settings.index
    return {"data_dir": Path(s.data_dir) if s.data_dir else None, "embedder": s.embedder, "store_url": s.store,
            "embed_base_url": s.embed_base_url, "embed_api_key_env": embed_key_env(settings)}


def model_configured(settings: Settings) -> bool:
    """A chat model and an endpoint to call it at (a base URL, or OpenAI's own API with a key)."""
    m = settings.model
    return bool(m.chat_model and (m.base_url or api_key(settings)))
