"""The model client: chat, streamed chat and FIM completion over an OpenAI-compatible endpoint, bounded retries."""
from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import os
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import httpx2
import openai
import pydantic

from ragls.indexer import tokens

from .schema import ReplySchema
from ..settings import Settings, api_key

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

log = logging.getLogger(__name__)

# The openai SDK looks a loaded `httpx` up in sys.modules, without the import lock; chromadb imports httpx lazily on
# a worker thread, and a completion once met it half-initialized ("partially initialized module 'httpx'"). Imported
# here, on the main thread before any worker starts, it is whole whenever the SDK looks.
with contextlib.suppress(ImportError):
    import httpx  # noqa: F401

T = TypeVar("T")
ErrorKind = Literal["not_configured", "auth", "rate_limited", "server", "timeout", "unreachable", "interrupted",
                    "bad_response"]
RETRYABLE: frozenset[str] = frozenset({"rate_limited", "server", "timeout", "unreachable", "interrupted"})
MAX_REPLY_BYTES = 256 * 1024  # a chat reply is cut here (UTF-8 bytes): an endpoint gone wrong cannot flood a client
NOT_CONFIGURED = ("no model configured: set ragls.model.baseUrl/chatModel in your editor settings, model.baseUrl "
                  "and model.chatModel in ~/.config/ragls/config.toml, or OPENAI_BASE_URL and RAGLS_MODEL "
                  "(RAGLS_COMPLETION_MODEL for completions); `ragls config` shows what is set")
Message = Mapping[str, Any]
# How a reply's JSON schema is asked for, most specific first: OpenAI's structured outputs (OpenAI, llama.cpp's
# server, vLLM, Ollama), then JSON mode with the schema alongside (llama-cpp-python's server, llama.cpp, Anyscale),
# then not at all (the caller's prompt asks for JSON and its parser copes).
FORMATS = ("json_schema", "json_object", None)
_REFUSAL_WORDS = ("response_format", "json_schema", "json_object", "schema", "grammar")


class ModelError(Exception):
    """A model call that failed, with what kind of failure it was and how to fix it."""

    def __init__(self, kind: ErrorKind, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after  # seconds the endpoint asked us to wait (429, 503)

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    def __repr__(self) -> str:
        return f"ModelError({self.kind!r}, {self.message!r})"


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Which endpoint and models to call, and how patiently. The API key never shows in repr or logs."""

    base_url: str | None = None  # None: OpenAI's own API (then an api_key is required)
    api_key: str | None = None
    chat_model: str | None = None
    completion_model: str | None = None  # None: the chat model
    fim_family: str | None = None  # a name in prompts/fim.toml; None: complete through chat prompts
    timeout_s: float = 30.0  # per attempt
    max_retries: int = 2
    max_concurrency: int = 4
    temperature: float = 0.2
    max_tokens: int = 512
    backoff_s: float = 0.5  # first retry waits about this long, doubling each time
    max_backoff_s: float = 8.0
    retry_after_cap_s: float = 10.0  # a longer Retry-After is waited only this long

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.max_retries < 0 or self.max_concurrency < 1:
            raise ValueError("ModelConfig needs timeout_s > 0, max_retries >= 0 and max_concurrency >= 1")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> "ModelConfig":
        """The model settings (and the key from the environment), with `overrides` on top."""
        m = settings.model
        return replace(cls(base_url=m.base_url, api_key=api_key(settings), chat_model=m.chat_model,
                           completion_model=m.completion_model, fim_family=m.fim_template, timeout_s=m.timeout_s,
                           max_retries=m.max_retries, max_concurrency=m.max_concurrency), **overrides)

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={'***' if f.name == 'api_key' and self.api_key else getattr(self, f.name)!r}"
                          for f in fields(self))
        return f"ModelConfig({shown})"

    @property
    def completion(self) -> str | None:
        """The model for FIM completions."""
        return self.completion_model or self.chat_model

    def with_env(self, env: Mapping[str, str] | None = None) -> ModelConfig:
        """Fill what is unset from OPENAI_BASE_URL, OPENAI_API_KEY, RAGLS_MODEL and RAGLS_COMPLETION_MODEL."""
        env = os.environ if env is None else env
        chat = self.chat_model or env.get("RAGLS_MODEL") or None
        return replace(self, base_url=self.base_url or env.get("OPENAI_BASE_URL") or None,
                       api_key=self.api_key or env.get("OPENAI_API_KEY") or None, chat_model=chat,
                       completion_model=self.completion_model or env.get("RAGLS_COMPLETION_MODEL") or chat)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **given: Any) -> ModelConfig:
        """A config from `given` fields, the rest from the environment."""
        return cls(**given).with_env(env)


class ModelClient:
    """Calls one OpenAI-compatible endpoint: at most `max_concurrency` calls at once, each retried on rate limits,
    server errors, timeouts and connection failures; every failure is a ModelError; cancellation propagates."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self._limit = asyncio.Semaphore(config.max_concurrency)
        self._openai: openai.AsyncOpenAI | None = None
        self._formats: dict[tuple[str | None, str], int] = {}  # (base_url, model) -> index in FORMATS it accepts

    def __repr__(self) -> str:
        return f"ModelClient({self.config!r})"

    @property
    def configured(self) -> bool:
        return bool(self.config.chat_model and (self.config.base_url or self.config.api_key))

    async def aclose(self) -> None:
        if self._openai is not None:
            await self._openai.close()
            self._openai = None

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def chat(self, messages: Sequence[Message], *, max_tokens: int | None = None,
                   stop: Sequence[str] | None = None, allow_empty: bool = False,
                   schema: ReplySchema | None = None) -> str:
        """The assistant's reply to `messages`; an empty reply is a bad_response unless `allow_empty`. With a
        `schema` the reply is constrained to it where the endpoint can (see `reply_format`); elsewhere it is plain
        text, which the caller must still parse with care."""
        model = self._model(self.config.chat_model)
        kwargs = self._params(max_tokens, stop)

        async def call() -> str:
            while True:  # a refused response_format is asked again in the next form, within this attempt
                form = self.reply_format(model) if schema else None
                params = {**kwargs, "response_format": schema.response_format(form)} if schema and form else kwargs
                try:
                    reply = await self._client().chat.completions.create(model=model, messages=_wire(messages),
                                                                         **params)
                except openai.APIStatusError as exc:
                    if form is None or not _refuses_format(exc):
                        raise
                    self._refused(model, form, exc)
                    continue
                if form is not None:
                    self._formats.setdefault((self.config.base_url, model), FORMATS.index(form))
                break
            choice = _first_choice(reply)
            content = getattr(getattr(choice, "message", None), "content", None)
            return capped(_text(content, allow_empty), MAX_REPLY_BYTES)

        text = await self._run("chat", model, _prompt_tokens(messages), call, prompt=list(messages))
        log.debug("chat reply: %s", text)
        return text

    async def stream_chat(self, messages: Sequence[Message], *, max_tokens: int | None = None,
                          stop: Sequence[str] | None = None, allow_empty: bool = False,
                          max_chars: int = MAX_REPLY_BYTES) -> AsyncGenerator[str, None]:
        """The reply to `messages`, piece by piece, ending after `max_chars` characters. Retries happen only before
        the first piece. Closing or cancelling the iteration closes the HTTP request (wrap it in
        contextlib.aclosing to close it at once)."""
        model = self._model(self.config.chat_model)
        kwargs = self._params(max_tokens, stop)
        prompt_tokens = _prompt_tokens(messages)

        async def open_stream() -> openai.AsyncStream[Any]:
            stream = await self._client().chat.completions.create(model=model, messages=_wire(messages),
                                                                   stream=True, **kwargs)
            return cast("openai.AsyncStream[Any]", stream)  # stream=True (kwargs are _params: no stream among them)

        async with self._limit:
            stream = await self._run("stream", model, prompt_tokens, open_stream, limit=False,
                                     prompt=list(messages))
            start, outcome, pieces, room = time.monotonic(), "ok", 0, max_chars
            try:
                async for chunk in stream:
                    choices = getattr(chunk, "choices", None)
                    if not isinstance(choices, list):
                        raise ModelError("bad_response", _bad("a streamed chunk has no choices", self.config))
                    for choice in choices[:1]:
                        piece = getattr(getattr(choice, "delta", None), "content", None)
                        if piece and isinstance(piece, str):
                            pieces += 1
                            room -= len(piece)
                            yield piece if room >= 0 else piece[:len(piece) + room]
                    if room <= 0:
                        outcome = f"cut at {max_chars} characters"
                        log.warning("the model's streamed reply passed %d characters; the rest is not read", max_chars)
                        break
                if not pieces and not allow_empty:
                    raise ModelError("bad_response", _bad("the model streamed an empty reply", self.config))
            except (asyncio.CancelledError, GeneratorExit):
                outcome = "cancelled"
                raise
            except Exception as exc:
                error = _classify(exc, self.config)
                if error is None:
                    outcome = f"error {type(exc).__name__}"
                    raise
                outcome = error.kind
                if error is exc:
                    raise
                raise error from exc
            finally:
                await asyncio.shield(stream.close())  # close the upstream request even when cancelled
                log.info("stream done model=%s pieces=%d latency_ms=%.0f outcome=%s",
                         model, pieces, (time.monotonic() - start) * 1000, outcome)

    async def complete(self, prompt: str, *, max_tokens: int | None = None, stop: Sequence[str] | None = None,
                       max_chars: int = MAX_REPLY_BYTES) -> str:
        """A legacy /v1/completions call (for FIM prompts), at most `max_chars` characters of its text; an empty
        text is a valid answer."""
        model = self._model(self.config.completion)
        kwargs = self._params(max_tokens, stop)

        async def call() -> str:
            reply = await self._client().completions.create(model=model, prompt=prompt, **kwargs)
            text = _text(getattr(_first_choice(reply), "text", None), allow_empty=True)
            if len(text) > max_chars:
                log.warning("the model's completion was %d characters; kept the first %d", len(text), max_chars)
                text = text[:max_chars]
            return text

        text = await self._run("complete", model, tokens.count(prompt), call, prompt=prompt)
        log.debug("completion: %s", text)
        return text

    def reply_format(self, model: str | None = None) -> str | None:
        """How a JSON schema is asked of `model` (default: the chat model) at this endpoint: a form in FORMATS,
        the first until the endpoint refuses it; None once it refused them all."""
        key = (self.config.base_url, model or self.config.chat_model or "")
        return FORMATS[self._formats.get(key, 0)]

    def _refused(self, model: str, form: str, exc: openai.APIStatusError) -> None:
        """Remember that the endpoint refused `form` for `model`: later calls use the next form at once."""
        key = (self.config.base_url, model)
        step = FORMATS.index(form) + 1
        if self._formats.get(key, 0) >= step:
            return  # a concurrent call saw the same refusal first
        self._formats[key] = step
        after = FORMATS[step]
        log.warning("the endpoint at %s refused response_format %r for %s (HTTP %d: %s); %s", _safe_url(
            self.config.base_url), form, model, exc.status_code, _server_message(exc),
            f"trying {after!r}" if after else "replies are asked for as JSON in the prompt only")

    # -- plumbing -------------------------------------------------------------------------------------------------

    def _model(self, model: str | None) -> str:
        if not model or not (self.config.base_url or self.config.api_key):
            raise ModelError("not_configured", NOT_CONFIGURED)
        return model

    def _client(self) -> openai.AsyncOpenAI:
        if self._openai is None:  # local servers need no key, but the library insists on one
            self._openai = openai.AsyncOpenAI(base_url=self.config.base_url, api_key=self.config.api_key or "none",
                                              timeout=self.config.timeout_s, max_retries=0)
        return self._openai

    def _params(self, max_tokens: int | None, stop: Sequence[str] | None) -> dict[str, Any]:
        params: dict[str, Any] = {"max_tokens": max_tokens or self.config.max_tokens,
                                  "temperature": self.config.temperature}
        if stop:
            params["stop"] = list(stop)
        return params

    async def _run(self, op: str, model: str, prompt_tokens: int, call: Callable[[], Awaitable[T]], *,
                   limit: bool = True, prompt: object = None) -> T:
        """`call()` under the concurrency limit and a per-attempt deadline, retried with backoff."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s prompt: %s", op, prompt if isinstance(prompt, str) else
                      json.dumps(prompt, ensure_ascii=False, default=str))
        start = time.monotonic()
        attempt = 0
        async with self._limit if limit else contextlib.nullcontext():
            while True:
                try:
                    async with asyncio.timeout(self.config.timeout_s):
                        result = await call()
                except asyncio.CancelledError:
                    self._log(op, model, prompt_tokens, start, attempt, "cancelled")
                    raise
                except Exception as exc:
                    error = _classify(exc, self.config)
                    if error is None:
                        self._log(op, model, prompt_tokens, start, attempt, f"error {type(exc).__name__}")
                        raise
                    if error.retryable and attempt < self.config.max_retries:
                        delay = self._delay(attempt, error.retry_after)
                        log.info("%s model=%s attempt %d failed (%s: %s); retrying in %.2fs",
                                 op, model, attempt + 1, error.kind, error.message, delay)
                        attempt += 1
                        await asyncio.sleep(delay)
                        continue
                    self._log(op, model, prompt_tokens, start, attempt, error.kind)
                    if error is exc:
                        raise
                    raise error from exc
                self._log(op, model, prompt_tokens, start, attempt, "ok")
                return result

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.config.retry_after_cap_s)
        ceiling = min(self.config.max_backoff_s, self.config.backoff_s * 2 ** attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    @staticmethod
    def _log(op: str, model: str, prompt_tokens: int, start: float, attempt: int, outcome: str) -> None:
        log.info("%s model=%s prompt_tokens=%d latency_ms=%.0f attempts=%d outcome=%s",
                 op, model, prompt_tokens, (time.monotonic() - start) * 1000, attempt + 1, outcome)


def _wire(messages: Sequence[Message]) -> list[ChatCompletionMessageParam]:
    """The messages as a list, typed as the openai SDK's (a Message is any mapping of role and content)."""
    return cast("list[ChatCompletionMessageParam]", list(messages))


def _prompt_tokens(messages: Sequence[Message]) -> int:
    total = 0
    for m in messages:
        content = m.get("content")
        total += tokens.count(content if isinstance(content, str) else json.dumps(content, default=str))
    return total


def _first_choice(reply: object) -> object:
    choices = getattr(reply, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise ModelError("bad_response", _bad("the reply has no choices", None))
    return choices[0]


def _text(content: object, allow_empty: bool) -> str:
    if not isinstance(content, str):
        raise ModelError("bad_response", _bad("the reply has no text content", None))
    if not content and not allow_empty:
        raise ModelError("bad_response", "the model returned an empty reply: try again, or try another model")
    return content


def capped(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` UTF-8 bytes (at a character boundary), with a warning when cut."""
    if len(text) * 4 <= max_bytes:
        return text
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return text
    log.warning("the model's reply was %d bytes; kept the first %d", len(data), max_bytes)
    return data[:max_bytes].decode("utf-8", "ignore")


def _safe_url(url: str | None) -> str:
    """The endpoint's URL without any user:password part."""
    if not url:
        return "the OpenAI API"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


def _bad(what: str, config: ModelConfig | None) -> str:
    where = f" from {_safe_url(config.base_url)}" if config else ""
    return (f"{what}{where}: check that ragls.model.baseUrl (OPENAI_BASE_URL) points at an OpenAI-compatible API, "
            f"usually ending in /v1, and that the model serves this kind of request")


def _retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds from Retry-After-Ms, or Retry-After in seconds or as an HTTP date."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        with contextlib.suppress(ValueError):
            return float(value) * scale
        with contextlib.suppress(ValueError, TypeError):  # an HTTP date, or junk: then no hint
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        log.debug("ignoring unreadable %s header %r", name, value)
    return None


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return str(message)[:300]
    return exc.message[:300]


def _refuses_format(exc: openai.APIStatusError) -> bool:
    """Whether an error answers a request's response_format (unknown, or its schema unusable) rather than its
    messages: a 400 or 422 from most servers, a 500 from llama-cpp-python's, whose text names it."""
    status, text = exc.status_code, f"{exc.message} {exc.body}".lower()
    if status in (400, 422):
        return any(word in text for word in _REFUSAL_WORDS)
    return status == 500 and any(word in text for word in _REFUSAL_WORDS[:2])


def _classify(exc: BaseException, config: ModelConfig) -> ModelError | None:
    """The ModelError for a failure, or None when it is not a model failure (a bug: let it raise)."""
    url = _safe_url(config.base_url)
    if isinstance(exc, ModelError):
        return exc
    if isinstance(exc, TimeoutError | openai.APITimeoutError | httpx2.TimeoutException):
        return ModelError("timeout", f"the model endpoint at {url} did not answer within {config.timeout_s:g}s: "
                                     "raise model.timeoutS (--timeout on the command line), or use a faster "
                                     "model or server")
    cause = exc.__cause__ if isinstance(exc, openai.APIConnectionError) and exc.__cause__ is not None else exc
    if isinstance(cause, httpx2.RemoteProtocolError | httpx2.ReadError) and "without sending a response" not in str(
            cause):
        return ModelError("interrupted", f"the model server at {url} broke off its reply before the end ({cause}): "
                                         "try again; if it persists, check the server's logs")
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        return ModelError("unreachable", f"cannot reach the model endpoint at {url} ({cause}): is the server "
                                         "running? check ragls.model.baseUrl or OPENAI_BASE_URL")
    if isinstance(exc, openai.APIStatusError):
        status, detail = exc.status_code, _server_message(exc)
        if status in (401, 403):
            return ModelError("auth", f"the endpoint at {url} refused the API key (HTTP {status}: {detail}): "
                                      "set OPENAI_API_KEY (or the variable named by ragls.model.apiKeyEnv)")
        if status == 429:
            return ModelError("rate_limited", f"the endpoint at {url} is rate-limiting requests (HTTP 429: "
                                              f"{detail}): wait, lower ragls.model.maxConcurrency, or raise "
                                              "your quota", retry_after=_retry_after(exc.response.headers))
        if status == 408:
            return ModelError("timeout", f"the endpoint at {url} timed out the request (HTTP 408): retry later")
        if status >= 500:
            return ModelError("server", f"the model server at {url} failed (HTTP {status}: {detail}); if this "
                                        "persists, check the server's logs",
                              retry_after=_retry_after(exc.response.headers))
        if status == 404:
            return ModelError("not_configured", f"the endpoint at {url} has no such model or route (HTTP 404: "
                                                f"{detail}): check ragls.model.baseUrl (usually ending in /v1) "
                                                "and the model names")
        return ModelError("bad_response", f"the endpoint at {url} rejected the request (HTTP {status}: {detail}): "
                                          "the prompt may be too long for the model (lower the budget settings) "
                                          "or the endpoint does not support this request")
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError | pydantic.ValidationError
                  | openai.APIResponseValidationError):
        return ModelError("bad_response", _bad(f"the reply is not valid JSON of the expected shape ({exc})", config))
    if isinstance(exc, openai.APIError):
        return ModelError("server", f"the model server at {url} reported an error: {exc.message}")
    if isinstance(exc, openai.OpenAIError):
        return ModelError("bad_response", _bad(f"the OpenAI client failed ({exc})", config))
    return None
