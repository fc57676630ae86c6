"""The model client against a local OpenAI-compatible server: replies, streams, retries, faults and cancellation."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import subprocess
import sys
import time

import pytest

from ragls.prompts.render import load, render
from ragls.server.model.client import NOT_CONFIGURED, ModelClient, ModelConfig, ModelError, ReplySchema

from .fake_openai import FakeOpenAI

KEY = "sk-test-SECRET-4242"
MESSAGES = [{"role": "system", "content": "You write code."}, {"role": "user", "content": "Say pass."}]
ANSWER = ReplySchema("answer", {"type": "object", "additionalProperties": False, "required": ["answer"],
                                "properties": {"answer": {"type": "string"}}},
                     {"type": "object", "additionalProperties": False, "required": ["answer"],
                      "properties": {"answer": {"type": "string", "maxLength": 80}}})


@pytest.fixture
def api():
    with FakeOpenAI() as server:
        yield server


def config(api: FakeOpenAI, **overrides) -> ModelConfig:
    fields = dict(base_url=api.base_url, api_key=KEY, chat_model="test-chat", completion_model="test-fim",
                  timeout_s=5.0, max_retries=2, backoff_s=0.01, max_backoff_s=0.05)
    return ModelConfig(**{**fields, **overrides})


@pytest.mark.asyncio
async def test_chat_returns_the_reply_and_sends_the_request(api):
    api.replies.append("return a + b")
    async with ModelClient(config(api)) as client:
        assert await client.chat(MESSAGES, max_tokens=64, stop=["\n\n"]) == "return a + b"
    (path, body), = api.requests
    assert path == "/v1/chat/completions"
    assert body["model"] == "test-chat" and body["messages"] == MESSAGES
    assert body["max_tokens"] == 64 and body["stop"] == ["\n\n"] and not body.get("stream")
    assert api.headers[0]["authorization"] == f"Bearer {KEY}"


@pytest.mark.asyncio
async def test_stream_chat_yields_pieces_in_order(api):
    api.replies.append("def add(a, b):\n    return a + b\n")
    async with ModelClient(config(api)) as client:
        pieces = [p async for p in client.stream_chat(MESSAGES, max_tokens=32)]
    assert len(pieces) > 3 and "".join(pieces) == "def add(a, b):\n    return a + b\n"
    assert api.requests[0][1]["stream"] is True


@pytest.mark.asyncio
async def test_fim_completion_uses_the_completions_endpoint(api):
    out = render(load("complete_fim"), {"language": "python", "path": "m.py", "context": [], "edits": "",
                                        "prefix": "def add(a, b):\n    ", "suffix": "\n"}, 500,
                 fim_family="starcoder")
    api.replies.append("return a + b")
    async with ModelClient(config(api)) as client:
        assert await client.complete(out.text, max_tokens=16, stop=out.stop) == "return a + b"
    (path, body), = api.requests
    assert path == "/v1/completions" and body["model"] == "test-fim"
    assert body["prompt"] == out.text and body["stop"] == out.stop


@pytest.mark.asyncio
async def test_empty_completion_is_valid_but_empty_chat_is_a_bad_response(api):
    api.replies.extend(["", "", ""])
    async with ModelClient(config(api)) as client:
        assert await client.complete("x", max_tokens=4, stop=None) == ""
        assert await client.chat(MESSAGES, allow_empty=True) == ""
        with pytest.raises(ModelError) as err:
            await client.chat(MESSAGES)
    assert err.value.kind == "bad_response"


@pytest.mark.asyncio
async def test_rate_limit_is_retried_after_retry_after(api):
    api.fail_next.append((429, {"Retry-After": "1"}))
    async with ModelClient(config(api)) as client:
        start = time.monotonic()
        assert await client.chat(MESSAGES) == "pass"
        waited = time.monotonic() - start
    assert len(api.requests) == 2
    assert 0.9 <= waited < 3


@pytest.mark.asyncio
async def test_retry_after_is_capped(api):
    api.fail_next.append((429, {"Retry-After": "3600"}))
    async with ModelClient(config(api, retry_after_cap_s=0.2)) as client:
        start = time.monotonic()
        assert await client.chat(MESSAGES) == "pass"
    assert time.monotonic() - start < 2


@pytest.mark.asyncio
async def test_server_errors_are_retried_then_reported(api):
    api.fail_next.extend([500, 502, 503, 500])
    async with ModelClient(config(api, max_retries=2)) as client:
        with pytest.raises(ModelError) as err:
            await client.chat(MESSAGES)
    assert err.value.kind == "server" and "HTTP 503" in err.value.message
    assert len(api.requests) == 3  # one try and two retries
    assert api.fail_next == [500]


@pytest.mark.asyncio
async def test_auth_failure_is_not_retried_and_says_how_to_fix(api):
    api.fail_next.append(401)
    async with ModelClient(config(api)) as client:
        with pytest.raises(ModelError) as err:
            await client.chat(MESSAGES)
    assert err.value.kind == "auth" and "OPENAI_API_KEY" in err.value.message
    assert len(api.requests) == 1


@pytest.mark.asyncio
async def test_timeout(api):
    api.delay_s = 2.0
    async with ModelClient(config(api, timeout_s=0.2, max_retries=0)) as client:
        start = time.monotonic()
        with pytest.raises(ModelError) as err:
            await client.chat(MESSAGES)
    assert err.value.kind == "timeout" and "timeoutS" in err.value.message
    assert time.monotonic() - start < 1.5


@pytest.mark.asyncio
@pytest.mark.parametrize("junk", ["garbage", "no_choices", "null_content"])
async def test_junk_replies_are_bad_responses(api, junk):
    if junk == "garbage":
        api.garbage_next = 1
    elif junk == "no_choices":
        api.json_next.append({"id": "x", "object": "chat.completion"})
    else:
        api.json_next.append({"id": "x", "choices": [{"index": 0, "message": {"role": "assistant"}}]})
    async with ModelClient(config(api)) as client:
        with pytest.raises(ModelError) as err:
            await client.chat(MESSAGES)
    assert err.value.kind == "bad_response" and "/v1" in err.value.message
    assert len(api.requests) == 1  # junk is not retried


@pytest.mark.asyncio
async def test_junk_stream_is_a_bad_response(api):
    api.garbage_next = 1
    async with ModelClient(config(api)) as client:
        with pytest.raises(ModelError) as err:
            _ = [p async for p in client.stream_chat(MESSAGES)]
    assert err.value.kind == "bad_response"


@pytest.mark.asyncio
async def test_connection_refused_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = ModelConfig(base_url=f"http://127.0.0.1:{port}/v1", chat_model="m", max_retries=1, backoff_s=0.01)
    async with ModelClient(cfg) as client:
        with pytest.raises(ModelError) as err:
            await client.chat(MESSAGES)
    assert err.value.kind == "unreachable" and f"127.0.0.1:{port}" in err.value.message
    assert "baseUrl" in err.value.message


@pytest.mark.asyncio
async def test_not_configured_says_how_to_fix(monkeypatch):
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "RAGLS_MODEL", "RAGLS_COMPLETION_MODEL"):
        monkeypatch.delenv(name, raising=False)
    client = ModelClient(ModelConfig.from_env())
    assert not client.configured
    for call in (client.chat(MESSAGES), client.complete("x", max_tokens=4, stop=None)):
        with pytest.raises(ModelError) as err:
            await call
        assert err.value.kind == "not_configured" and str(err.value) == NOT_CONFIGURED
    assert "ragls.model.baseUrl" in NOT_CONFIGURED and "RAGLS_MODEL" in NOT_CONFIGURED
    with pytest.raises(ModelError, match="OPENAI_BASE_URL"):
        _ = [p async for p in client.stream_chat(MESSAGES)]


def test_config_from_env_and_explicit_values_win():
    env = {"OPENAI_BASE_URL": "http://h/v1", "OPENAI_API_KEY": KEY, "RAGLS_MODEL": "chat-m"}
    cfg = ModelConfig.from_env(env)
    assert (cfg.base_url, cfg.api_key, cfg.chat_model, cfg.completion_model) == ("http://h/v1", KEY, "chat-m",
                                                                                 "chat-m")
    cfg = ModelConfig.from_env({**env, "RAGLS_COMPLETION_MODEL": "fim-m"}, chat_model="mine")
    assert (cfg.chat_model, cfg.completion_model) == ("mine", "fim-m")


@pytest.mark.asyncio
async def test_cancelling_a_stream_closes_the_upstream_request(api):
    api.replies.append(" ".join(f"word{i}" for i in range(400)))
    api.stream_chunk_delay_s = 0.05
    first = asyncio.Event()
    got: list[str] = []

    async def consume(client: ModelClient) -> None:
        async for piece in client.stream_chat(MESSAGES):
            got.append(piece)
            first.set()

    async with ModelClient(config(api)) as client:
        task = asyncio.create_task(consume(client))
        await asyncio.wait_for(first.wait(), 5)
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - cancelled_at < 0.5  # propagates at once
        assert await asyncio.to_thread(api.wait_aborted, 1, 5.0)  # the server saw the client go
        assert time.monotonic() - cancelled_at < 2
        assert 0 < len(got) < 400
        assert await client.chat(MESSAGES) == "pass"  # the semaphore slot was released


@pytest.mark.asyncio
async def test_closing_a_stream_early_closes_the_upstream_request(api):
    api.replies.append(" ".join(f"word{i}" for i in range(400)))
    api.stream_chunk_delay_s = 0.05
    async with ModelClient(config(api)) as client:
        async with contextlib.aclosing(client.stream_chat(MESSAGES)) as stream:
            async for _ in stream:
                break
        assert await asyncio.to_thread(api.wait_aborted, 1, 5.0)


@pytest.mark.asyncio
async def test_cancelling_a_call_propagates_without_retrying(api):
    api.delay_s = 1.0
    async with ModelClient(config(api)) as client:
        task = asyncio.create_task(client.chat(MESSAGES))
        while not api.requests:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(api.requests) == 1


@pytest.mark.asyncio
async def test_concurrency_is_bounded(api):
    api.delay_s = 0.2
    async with ModelClient(config(api, max_concurrency=2)) as client:
        replies = await asyncio.gather(*(client.chat(MESSAGES) for _ in range(5)))
    assert replies == ["pass"] * 5 and api.max_active == 2


@pytest.mark.asyncio
async def test_requests_are_logged_without_the_key(api, caplog):
    caplog.set_level(logging.DEBUG)
    api.fail_next.append(401)
    cfg = config(api)
    async with ModelClient(cfg) as client:
        with pytest.raises(ModelError) as err:
            await client.chat(MESSAGES)
        await client.chat(MESSAGES)
        _ = [p async for p in client.stream_chat(MESSAGES)]
        await client.complete("def f():", max_tokens=8, stop=None)
        assert KEY not in repr(client)
    info = [r.getMessage() for r in caplog.records
            if r.name == "ragls.server.model.client" and r.levelno == logging.INFO]
    assert any("model=test-chat" in m and "prompt_tokens=" in m and "latency_ms=" in m and "outcome=ok" in m
               for m in info)
    assert any("outcome=auth" in m for m in info)
    assert not any("Say pass." in m for m in info)  # prompt text only at DEBUG
    assert any("Say pass." in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    assert KEY not in caplog.text
    assert KEY not in repr(cfg) and KEY not in str(cfg) and "***" in repr(cfg)
    assert KEY not in str(err.value) and KEY not in repr(err.value)


@pytest.mark.asyncio
async def test_a_reply_broken_off_midway_is_interrupted_not_unreachable(api):
    async with ModelClient(config(api, max_retries=0)) as client:
        for call in (lambda: client.chat(MESSAGES), lambda: client.complete("def f(")):
            api.cut_next, api.replies[:] = 1, ["one two three four five six seven eight"]
            with pytest.raises(ModelError) as err:
                await call()
            assert err.value.kind == "interrupted" and "broke off its reply" in err.value.message
        api.cut_next, api.replies[:] = 1, ["one two three four five six seven eight"]
        pieces = []
        with pytest.raises(ModelError) as err:
            async for piece in client.stream_chat(MESSAGES):
                pieces.append(piece)
        assert err.value.kind == "interrupted" and pieces  # some pieces came, then the stream broke
    async with ModelClient(config(api, max_retries=1)) as client:  # nothing streamed yet: asked again
        api.cut_next, api.replies[:] = 1, ["first", "second"]
        assert await client.chat(MESSAGES) == "second"


@pytest.mark.asyncio
async def test_replies_are_capped(api):
    huge = "x = 1\n" * 900_000  # 5.4 MB
    async with ModelClient(config(api)) as client:
        api.replies[:] = [huge, huge, huge[:200_000]]  # the test server streams word by word: a smaller one
        reply = await client.chat(MESSAGES)
        assert len(reply.encode()) == 256 * 1024 and huge.startswith(reply)
        assert len(await client.complete("def f(", max_chars=2048)) == 2048
        streamed = "".join([p async for p in client.stream_chat(MESSAGES, max_chars=3000)])
        assert len(streamed) == 3000 and huge.startswith(streamed)
    assert api.wait_aborted()  # the capped stream was closed, not read to its end


def formats(api: FakeOpenAI) -> list[str | None]:
    """The response_format type of each request, in order."""
    return [(body.get("response_format") or {}).get("type") for _, body in api.requests]


@pytest.mark.asyncio
async def test_response_format_is_sent_where_supported(api):
    api.replies.extend(['{"answer": "pass"}'] * 2 + ["plain"])
    async with ModelClient(config(api)) as client:
        assert await client.chat(MESSAGES, schema=ANSWER) == '{"answer": "pass"}'
        assert await client.chat(MESSAGES, schema=ANSWER) == '{"answer": "pass"}'
        assert await client.chat(MESSAGES) == "plain"
        assert client.reply_format() == "json_schema"
    assert formats(api) == ["json_schema", "json_schema", None], "only calls that give a schema ask for one"
    assert api.requests[0][1]["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "answer", "schema": ANSWER.schema, "strict": True}}


@pytest.mark.asyncio
@pytest.mark.parametrize("refused, status, sent, then", [
    ({"json_schema"}, 422, ["json_schema", "json_object"], "json_object"),  # llama-cpp-python's server
    ({"json_schema", "json_object"}, 400, ["json_schema", "json_object", None], None),
    ({"json_schema", "json_object"}, 500, ["json_schema", "json_object", None], None)])
async def test_a_refused_response_format_falls_back_once_and_is_remembered(api, caplog, refused, status, sent, then):
    api.refuse_formats = dict.fromkeys(refused, status)
    api.replies.extend(["one", "two"])
    with caplog.at_level(logging.WARNING, logger="ragls.server.model.client"):
        async with ModelClient(config(api, max_retries=0)) as client:
            assert await client.chat(MESSAGES, schema=ANSWER) == "one", "a refusal spends no retry"
            assert await client.chat(MESSAGES, schema=ANSWER) == "two"
            assert client.reply_format() == then
    assert formats(api) == [*sent, then], "the second call goes straight to what the endpoint accepts"
    assert api.requests[-1][1].get("response_format") == (
        {"type": "json_object", "schema": ANSWER.bounded} if then else None), "json_object carries the limits"
    warned = [r.getMessage() for r in caplog.records if "refused response_format" in r.getMessage()]
    assert len(warned) == len(refused) and f"HTTP {status}" in warned[0]


@pytest.mark.asyncio
async def test_other_errors_are_not_taken_for_a_refused_response_format(api):
    api.fail_next.extend([400, 500])
    async with ModelClient(config(api, max_retries=1, backoff_s=0.01)) as client:
        with pytest.raises(ModelError) as err:
            await client.chat(MESSAGES, schema=ANSWER)
        assert err.value.kind == "bad_response" and "HTTP 400" in err.value.message
        assert await client.chat(MESSAGES, schema=ANSWER) == "pass", "a 500 is retried, with the same format"
        assert client.reply_format() == "json_schema"
    assert formats(api) == ["json_schema"] * 3


def test_the_model_package_loads_no_language_server():
    """ragls.server.model is the model client alone: importing it loads neither pygls nor lsprotocol."""
    code = ("import json, sys\nimport ragls.server.model.client, ragls.server.model.schema\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'pygls', 'lsprotocol'})))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr[-2000:]
