"""A local OpenAI-compatible HTTP server for tests: records requests, serves embeddings and canned replies."""
from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Any

Fault = int | tuple[int, dict[str, str]]


def fake_vector(text: str, dim: int = 8) -> list[float]:
    """A deterministic vector from the words of a text (shared words -> similar vectors)."""
    v = [0.0] * dim
    for word in text.lower().split():
        h = hashlib.sha1(word.encode()).digest()
        v[h[0] % dim] += 1.0
    return v if any(v) else [1.0] + [0.0] * (dim - 1)


def _pieces(text: str) -> list[str]:
    """A reply split as a model streams it: words with their trailing whitespace."""
    return re.findall(r"\S+\s*|\s+", text) or [""]


_REGION_LINE = re.compile(r"^\s*\d+ \|(?: (.*))?$")


def next_edit_rewriter(old: str, new: str) -> Callable[[str, dict[str, Any]], str | None]:
    """A `responder` for next-edit prompts: the prompt's region with `old` replaced by `new`, as a model answers
    (None for every other prompt: the next of `replies` answers it)."""
    def respond(path: str, body: dict[str, Any]) -> str | None:
        prompt = body["messages"][-1]["content"] if path.endswith("/chat/completions") else ""
        if "Region of " not in prompt:
            return None
        region = prompt.split("Region of ", 1)[1].split("<<<BEGIN REPOSITORY TEXT>>>", 1)[1]
        region = region.split("<<<END REPOSITORY TEXT>>>", 1)[0].strip("\n")
        lines = [m.group(1) or "" for line in region.split("\n") if (m := _REGION_LINE.match(line))]
        return "```\n" + "\n".join(lines).replace(old, new) + "\n```"
    return respond


class FakeOpenAI:
    """Start with `with FakeOpenAI() as api:`; `api.base_url` ends in /v1; `api.requests` holds (path, body).

    Chat (/v1/chat/completions) and completion (/v1/completions) requests answer with the next of `api.replies`
    ("pass" when empty), streamed as SSE when the body says `stream: true`. Faults, consumed in this order:
    `fail_next` (HTTP statuses, or (status, headers) to send e.g. Retry-After), `garbage_next` (a count of 200
    replies that are not JSON), `json_next` (bodies to answer verbatim), `cut_next` (a count of replies whose
    connection is closed half-way: a stream after half its events, a plain reply after half its body). `delay_s`
    waits before every answer; `stream_chunk_delay_s` between streamed chunks; `aborted` counts streams the client
    closed early. `refuse_formats` maps a `response_format` type to the HTTP status that refuses it, as servers that
    do not support it answer: 400 (OpenAI-style error), 422 (a FastAPI validation error) or 500 (llama-cpp-python's).
    """

    def __init__(self, dim: int = 8) -> None:
        self.dim = dim
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.headers: list[dict[str, str]] = []  # request headers (lower-case names), as `requests`
        self.fail_next: list[Fault] = []  # HTTP statuses to answer the next requests with
        self.replies: list[str] = []
        # consulted first for chat and completion replies: (path, body) -> text, or None for the next of `replies`
        self.responder: Callable[[str, dict[str, Any]], str | None] | None = None
        self.garbage_next = 0
        self.cut_next = 0
        self.json_next: list[dict[str, Any]] = []
        self.refuse_formats: dict[str, int] = {}
        self.delay_s = 0.0
        self.stream_chunk_delay_s = 0.0
        self.aborted = 0  # streamed replies the client closed before their end
        self.write_errors = 0  # plain replies the client had stopped waiting for
        self.active = 0
        self.max_active = 0
        self._lock = threading.Condition()
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # connections kept alive, as real model servers keep them
            disable_nagle_algorithm = True  # else a small event waits for the client's delayed ACK (40 ms)

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                outer.requests.append((self.path, body))
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                with outer._lock:
                    outer.active += 1
                    outer.max_active = max(outer.max_active, outer.active)
                try:
                    if outer.delay_s and outer._stop.wait(outer.delay_s):
                        self.close_connection = True
                        return  # the server is shutting down
                    self._answer(body)
                except (BrokenPipeError, ConnectionResetError):
                    with outer._lock:
                        outer.write_errors += 1
                finally:
                    with outer._lock:
                        outer.active -= 1

            def _answer(self, body: dict[str, Any]) -> None:
                if outer.fail_next:
                    fault = outer.fail_next.pop(0)
                    status, headers = fault if isinstance(fault, tuple) else (fault, {})
                    self._send(status, {"error": {"message": "injected failure", "type": "test"}}, headers)
                elif self.path.endswith("/embeddings"):
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"object": "embedding", "index": i, "embedding": fake_vector(t, outer.dim)}
                            for i, t in enumerate(inputs)]
                    self._send(200, {"object": "list", "data": data, "model": body.get("model"),
                                     "usage": {"prompt_tokens": 0, "total_tokens": 0}})
                elif (refused := self._refused_format(body)) is not None:
                    self._send(*refused)
                elif self.path.endswith(("/chat/completions", "/completions")):
                    self._reply(body, chat=self.path.endswith("/chat/completions"))
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def _refused_format(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
                kind = (body.get("response_format") or {}).get("type")
                status = outer.refuse_formats.get(kind) if kind else None
                if status is None:
                    return None
                if status == 422:
                    return 422, {"detail": [{"type": "literal_error", "loc": ["body", "response_format", "type"],
                                             "msg": "Input should be 'text' or 'json_object'", "input": kind}]}
                if status == 500:
                    return 500, {"error": {"message": f"[{{'loc': ('body', 'response_format', 'type'), 'input': "
                                                      f"'{kind}'}}]", "type": "internal_server_error"}}
                return status, {"error": {"message": f"response_format type '{kind}' is not supported",
                                          "type": "invalid_request_error", "param": "response_format"}}

            def _reply(self, body: dict[str, Any], chat: bool) -> None:
                stream = bool(body.get("stream"))
                if outer.garbage_next > 0:
                    outer.garbage_next -= 1
                    if stream:
                        self._sse(["data: {not json at all\n\n"])
                    else:
                        self._raw(200, b"<html><body>502 Bad Gateway (not JSON)</body></html>",
                                  "application/json")
                    return
                if outer.json_next:
                    self._send(200, outer.json_next.pop(0))
                    return
                cut = outer.cut_next > 0
                outer.cut_next -= cut
                answer = outer.responder(self.path, body) if outer.responder else None
                text = answer if answer is not None else outer.replies.pop(0) if outer.replies else "pass"
                model = body.get("model")
                if not stream:
                    choice: dict[str, Any] = ({"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant", "content": text}} if chat else
                                              {"index": 0, "finish_reason": "stop", "text": text, "logprobs": None})
                    self._send(200, {"id": "fake-1", "object": "chat.completion" if chat else "text_completion",
                                     "created": 0, "model": model, "choices": [choice],
                                     "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}},
                               cut=cut)
                    return
                events = []
                for i, piece in enumerate(_pieces(text)):
                    delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                    choice = ({"index": 0, "delta": delta, "finish_reason": None} if chat else
                              {"index": 0, "text": piece, "finish_reason": None, "logprobs": None})
                    chunk = {"id": "fake-1", "object": "chat.completion.chunk" if chat else "text_completion",
                             "created": 0, "model": model, "choices": [choice]}
                    events.append(f"data: {json.dumps(chunk)}\n\n")
                events.append("data: [DONE]\n\n")
                self._sse(events, cut=cut)

            def _sse(self, events: list[str], cut: bool = False) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for i, event in enumerate(events):
                        if cut and i >= max(1, len(events) // 2):
                            self.close_connection = True
                            return  # no terminating chunk: the client reads a stream cut mid-way
                        if i and outer.stream_chunk_delay_s and outer._stop.wait(outer.stream_chunk_delay_s):
                            self.close_connection = True
                            return
                        data = event.encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                    with outer._lock:
                        outer.aborted += 1
                        outer._lock.notify_all()

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None,
                      cut: bool = False) -> None:
                self._raw(status, json.dumps(payload).encode(), "application/json", headers, cut)

            def _raw(self, status: int, raw: bytes, content_type: str,
                     headers: dict[str, str] | None = None, cut: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if cut:  # half the body, then the connection closes
                    self.close_connection = True
                    raw = raw[: len(raw) // 2]
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def wait_aborted(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Block until at least `count` streams were aborted by the client; False after `timeout` seconds."""
        with self._lock:
            return self._lock.wait_for(lambda: self.aborted >= count, timeout)

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
