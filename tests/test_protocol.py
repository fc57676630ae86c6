"""JSON-RPC hygiene over real stdio bytes: invalid params, unknown methods, bad framing, bad bodies, still serving."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from .fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]


def frame(body: bytes | str | dict[str, Any]) -> bytes:
    """One LSP message: Content-Length header and body."""
    raw = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
    return b"Content-Length: %d\r\n\r\n%s" % (len(raw), raw)


class RawServer:
    """`python -m ragls.server` over stdio, driven with raw bytes: frames read on a thread, stderr to a file,
    requests from the server answered with null."""

    def __init__(self, root: Path, base_url: str, home: Path, options: dict[str, Any] | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAGLS_"))
               or k in ("RAGLS_LOG_LEVEL", "RAGLS_MODELS")}
        env.update({"RAGLS_HOME": str(home), "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "sk-test-secret",
                    "RAGLS_MODEL": "test-chat", "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT)})
        self.root = root
        self.options = {"completion": {"debounceMs": 0}, "index": {"debounceMs": 50},
                        "model": {"timeoutS": 5, "maxRetries": 0}, **(options or {})}
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-m", "ragls.server"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.responses: dict[Any, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.unframed = b""  # bytes on stdout that were not a well-framed message
        self._cond = threading.Condition()
        self._out: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._write, daemon=True).start()

    # -- transport ----------------------------------------------------------------------------------------------
    def _write(self) -> None:
        """Writes happen on a thread so that a test never blocks on a full pipe while the server writes to us."""
        assert self.proc.stdin is not None
        while (data := self._out.get()) is not None:
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                return
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            header = out.readline()
            if not header:
                break
            if not header.lower().startswith(b"content-length:"):
                self.unframed += header
                continue
            length = int(header.split(b":", 1)[1])
            while out.readline() not in (b"\r\n", b""):
                pass
            msg = json.loads(out.read(length))
            if "method" in msg and "id" in msg:  # a request from the server: answer it
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            with self._cond:
                if "method" in msg:
                    self.notifications.append(msg)
                else:
                    self.responses[msg.get("id")] = msg
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def send_raw(self, data: bytes) -> None:
        self._out.put(data)

    def send(self, msg: dict[str, Any]) -> None:
        self.send_raw(frame(msg))

    def close_stdin(self) -> None:
        self._out.put(None)

    # -- JSON-RPC -----------------------------------------------------------------------------------------------
    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def request(self, method: str, params: Any = None, msg_id: Any = None) -> Any:
        """Send a request; its id."""
        msg_id = self.new_id() if msg_id is None else msg_id
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return msg_id

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait(self, msg_id: Any, timeout: float = 30) -> dict[str, Any]:
        """The response to `msg_id`; AssertionError when none comes in time."""
        with self._cond:
            ok = self._cond.wait_for(lambda: msg_id in self.responses or self.proc.poll() is not None, timeout)
            if msg_id in self.responses:
                return self.responses[msg_id]
        raise AssertionError(f"no response to {msg_id!r} ({'timed out' if not ok else 'server exited'}); "
                             f"stderr tail: {self.stderr_text()[-2000:]}")

    def call(self, method: str, params: Any = None, timeout: float = 30) -> dict[str, Any]:
        return self.wait(self.request(method, params), timeout)

    def wait_for_notification(self, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        with self._cond:
            found: list[dict[str, Any]] = []

            def seen() -> bool:
                found[:] = [m for m in self.notifications if predicate(m)]
                return bool(found) or self.proc.poll() is not None
            self._cond.wait_for(seen, timeout)
        if not found:
            raise AssertionError(f"notification not seen; stderr tail: {self.stderr_text()[-2000:]}")
        return found[0]

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def initialize(self, wait_indexed: bool = True) -> dict[str, Any]:
        caps = {"textDocument": {"inlineCompletion": {}, "codeAction": {"resolveSupport": {"properties": ["edit"]}}},
                "workspace": {"workspaceFolders": True}}
        reply = self.call("initialize", {"processId": os.getpid(), "rootUri": self.root.as_uri(), "capabilities": caps,
                                         "workspaceFolders": [{"uri": self.root.as_uri(), "name": self.root.name}],
                                         "initializationOptions": {"ragls": self.options}}, timeout=60)
        self.notify("initialized", {})
        if wait_indexed:
            self.wait_for_notification(lambda m: m["method"] == "window/logMessage" and "index" in
                                       m["params"]["message"], timeout=120)
        return reply

    def shutdown(self, timeout: float = 30) -> int:
        """shutdown, exit; the exit code."""
        if self.proc.poll() is None:
            self.wait(self.request("shutdown"), timeout)
            self.notify("exit")
            self.close_stdin()
        return self.exit_code(timeout)

    def exit_code(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"server did not exit; stderr tail: {self.stderr_text()[-2000:]}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stderr_text(self) -> str:
        self.stderr.flush()
        return Path(f"/proc/self/fd/{self.stderr.fileno()}").read_bytes().decode("utf-8", "replace")

    def rss_mb(self) -> tuple[float, float]:
        """Resident and peak resident memory of the server (MB)."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        get = lambda key: int(status.split(key + ":")[1].split()[0]) / 1024  # noqa: E731
        return get("VmRSS"), get("VmHWM")

    def inline(self, uri: str, line: int, character: int) -> Any:
        """Send an inline completion request; its id."""
        return self.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": {"line": line, "character": character},
            "context": {"triggerKind": 2}})

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": version,
                                                              "text": text}})


# -- the tests ----------------------------------------------------------------------------------------------------
TYPING = "    net = apply_discount(cart.total(), discount)"


@pytest.fixture
def api():
    with FakeOpenAI() as server:
        yield server


def _error(reply: dict[str, Any]) -> tuple[int, str]:
    assert "error" in reply, reply
    message = reply["error"]["message"]
    assert "\n" not in message and "Traceback" not in message and "data" not in reply["error"], reply
    return reply["error"]["code"], message


def test_every_request_is_answered(shop_repo, api, tmp_path):
    root = Path(shop_repo.working_tree_dir).resolve()
    server = RawServer(root, api.base_url, tmp_path / "home")
    try:
        assert _error(server.call("workspace/executeCommand", {"command": "ragls.status"}))[0] == -32002
        server.initialize()
        assert _error(server.call("initialize", {"processId": None, "rootUri": None, "capabilities": {}}))[0] == -32600
        checkout = root / "shop/checkout.py"
        uri = checkout.as_uri()
        server.open(uri, checkout.read_text().replace(TYPING, "    net = "))

        code, message = _error(server.call("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": "x", "context": {"triggerKind": 2}}))
        assert code == -32602 and "position" in message
        assert _error(server.call("textDocument/inlineCompletion"))[0] == -32602  # no params at all
        assert _error(server.call("textDocument/inlineCompletion", {"textDocument": {"uri": uri}, "position": {
            "line": -1, "character": 2**40}, "context": {"triggerKind": 2}}))[0] == -32602
        assert _error(server.call("textDocument/codeAction", {"textDocument": {"uri": 5}}))[0] == -32602
        code, message = _error(server.call("foo/bar", {}))
        assert code == -32601 and "foo/bar" in message
        assert _error(server.call("ragls/x"))[0] == -32601  # params may be left out
        # a command or a resolve with arguments of the wrong shape: an error answer, whichever the handler gives
        for args in ([1, 2], "x", [uri], [uri, {"start": 1}], [{"a": 1}, None, None, None]):
            assert _error(server.call("workspace/executeCommand", {"command": "ragls.explain", "arguments": args}))
        assert _error(server.call("workspace/executeCommand", {"command": "ragls.nope"}))[0] == -32602
        for data in (5, {"command": "ragls.fix", "arguments": 5}, {"command": "ragls.fix", "arguments": [1, 2, 3]}):
            reply = server.call("codeAction/resolve", {"title": "t", "data": data})
            assert "result" in reply or _error(reply)
        # ids that are not JSON-RPC ids, and envelopes that are not JSON-RPC: answered with "id": null
        for bad in ({"jsonrpc": "2.0", "id": 1.5, "method": "x"}, {"jsonrpc": "2.0", "id": {"a": 1}, "method": "x"},
                    {"jsonrpc": "1.0", "id": "old", "method": "x"}, {"id": "bare", "method": "x"}):
            server.send(bad)
        assert _error(server.wait("old"))[0] == -32600 and _error(server.wait("bare"))[0] == -32600
        assert _error(server.wait(None))[0] == -32600

        # cancel: a request waiting on a slow model is answered -32800; cancels for unknown ids are ignored
        api.delay_s = 5
        slow = server.inline(uri, 11, 10)
        for target in (slow, slow, 10**9, "nope", None, [1]):
            server.notify("$/cancelRequest", {"id": target})
        assert _error(server.wait(slow, timeout=4))[0] == -32800
        api.delay_s = 0

        api.replies.append("apply_discount(cart.total(), discount)")
        reply = server.wait(server.inline(uri, 11, 10))
        assert reply["result"]["items"][0]["insertText"].startswith("apply_discount(cart.total()")

        assert server.call("shutdown") == {"jsonrpc": "2.0", "id": server._next_id, "result": None}
        assert _error(server.call("workspace/executeCommand", {"command": "ragls.status"}))[0] == -32600
        server.notify("exit")
        assert server.exit_code() == 0
    finally:
        server.kill()
    err = server.stderr_text()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) <= 40, err  # one line per failed request at most


def _probe(n: int) -> bytes:
    return frame({"jsonrpc": "2.0", "id": f"probe-{n}", "method": "ragls/ping"})


def _body(msg_id: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "ragls/ping"}).encode()


# (name, bytes sent, id of a request inside them that is recovered too or None); a probe request follows each
FRAMING = [
    ("non-numeric length", b"Content-Length: abc\r\n\r\n" + _body("a"), "a"),
    ("negative length", b"Content-Length: -5\r\n\r\n" + _body("b"), "b"),
    ("length over the limit", b"Content-Length: 99999999999999\r\n\r\n" + _body("c"), "c"),
    ("length larger than the body", b"Content-Length: %d\r\n\r\n" % (len(_body("d")) + 30) + _body("d"), "d"),
    ("length smaller than the body", b"Content-Length: %d\r\n\r\n" % (len(_body("e")) - 7) + _body("e"), "e"),
    ("no Content-Length", b"Content-Type: application/vscode-jsonrpc\r\n\r\n" + _body("f"), "f"),
    ("no blank line after the header", b"Content-Length: %d\r\n" % len(_body("g")) + _body("g"), "g"),
    ("garbage before a header", b"hello there\r\n" + frame(_body("h")), "h"),
    ("lower-case header and bare LF", b"content-length: %d\n\n" % len(_body("i")) + _body("i"), "i"),
    ("lone surrogate", frame(b'{"jsonrpc": "2.0", "id": "j", "method": "ragls/\\ud800"}'), "j"),
    ("body that is not JSON", frame(b"{not json"), None),
    ("body that is not UTF-8", frame(b'{"jsonrpc": "2.0", "id": "k", "method": "\xff\xfe"}'), None),
    ("body that is an array", frame(b"[1, 2]"), None),
    ("empty body", b"Content-Length: 0\r\n\r\n", None),
]


def test_framing_errors_are_recovered_from(tmp_path):
    server = RawServer(tmp_path, "http://127.0.0.1:9/v1", tmp_path / "home")
    try:
        for n, (name, data, inner) in enumerate(FRAMING):
            server.send_raw(data)
            server.send_raw(_probe(n))
            assert "error" in server.wait(f"probe-{n}", timeout=10), name  # before initialize: -32002
            if inner is not None:
                assert server.wait(inner, timeout=1)["error"]["code"] == -32002, name
        parse_errors = [r for r in [server.responses.get(None)] if r]
        assert parse_errors and parse_errors[0]["error"]["code"] in (-32700, -32600)
        # a length larger than the body with nothing after it: read once the body is whole and no bytes come
        server.send_raw(b"Content-Length: 500\r\n\r\n" + _body("late"))
        assert server.wait("late", timeout=5)["error"]["code"] == -32002
        # still serving: a valid request gets its real answer
        info = server.initialize(wait_indexed=False)["result"]["serverInfo"]
        assert info["name"] == "ragls" and info["version"] == metadata.version("ragls")  # the installed package's
        assert "result" in server.call("workspace/executeCommand", {"command": "ragls.status"})
        assert server.unframed == b""  # and everything the server wrote was well framed
        server.close_stdin()  # a client that just goes away: a clean exit
        assert server.exit_code() == 0
    finally:
        server.kill()
    err = server.stderr_text()
    assert "Traceback" not in err, err
    assert err.count("framing:") >= 8 and len(err.splitlines()) <= 2 * len(FRAMING) + 5, err


@pytest.mark.parametrize("tail", [b"Content-Length: 100\r\n\r\n{\"jsonrpc\"", b"Content-Len"])
def test_input_that_ends_inside_a_message_exits_non_zero(tmp_path, tail):
    server = RawServer(tmp_path, "http://127.0.0.1:9/v1", tmp_path / "home")
    try:
        server.send_raw(_probe(0))
        server.wait("probe-0")
        server.send_raw(tail)
        server.close_stdin()
        assert server.exit_code() == 1
    finally:
        server.kill()
    assert "ended inside a message" in server.stderr_text()


# -- the framer and the log limits, without a server --------------------------------------------------------------
def _frames(data: bytes, step: int) -> list[tuple[Any, str | None, str | None]]:
    from ragls.server.protocol import Framer

    framer = Framer()
    out = []
    for k in range(0, len(data), step):
        out += framer.feed(data[k:k + step])
    out += framer.quiet()
    assert framer.leftover() == 0
    return [(f.value.get("id") if isinstance(f.value, dict) else None, f.error, f.note) for f in out]


@pytest.mark.parametrize("step", [1, 7, 1 << 20])
def test_framer_reads_well_framed_messages_however_they_arrive(step):
    data = b"".join(frame(_body(f"m{i}")) for i in range(300)) + frame("{\"id\": \"é😀\\ud83d\\ude00\"}".encode())
    got = _frames(data, step)
    assert got == [(f"m{i}", None, None) for i in range(300)] + [("é😀😀", None, None)]


@pytest.mark.parametrize("step", [7, 1 << 20])
@pytest.mark.parametrize("name,data,inner", [c for c in FRAMING if c[2] is not None])
def test_framer_recovers_the_message_and_the_next(name, data, inner, step):
    got = _frames(data + frame(_body("next")), step)
    assert [g[0] for g in got if g[0] is not None] == [inner, "next"], (name, got)


def test_tracebacks_once_per_place_and_throttled_lines(caplog):
    from ragls.server.protocol import Throttle, Tracebacks

    limit = Tracebacks()
    seen = []
    for value in ("a", "b", "c"):
        try:
            {}[value]
        except KeyError as exc:
            seen.append(limit.first(exc))
    assert seen == [True, False, False]
    warn = Throttle(per_s=5)
    with caplog.at_level("INFO", logger="ragls.server.protocol"):
        for i in range(50):
            warn(20, "line %d", i)
        warn.window -= 1  # a second later
        warn(20, "after")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [f"line {i}" for i in range(5)] + ["(45 more protocol messages not logged)", "after"]


def test_tcp_is_served_by_the_same_reader(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RAGLS_HOME": str(tmp_path / "home"),
           "ANONYMIZED_TELEMETRY": "False", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "ragls.server.cli", "serve", "--tcp", f"127.0.0.1:{port}"],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not listen"
                time.sleep(0.1)
        with sock:
            sock.sendall(b"Content-Length: abc\r\n\r\n" + _body("a") + frame(b"{nope") + _probe(0))
            sock.sendall(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                "params": {"processId": None, "rootUri": None, "capabilities": {}}}))
            replies, buf = {}, b""
            while 1 not in replies:
                chunk = sock.recv(65536)
                assert chunk, "connection closed"
                buf += chunk
                while (end := buf.find(b"\r\n\r\n")) >= 0:
                    length = int(buf[:end].split(b"Content-Length:")[1].split(b"\r\n")[0])
                    if len(buf) < end + 4 + length:
                        break
                    msg = json.loads(buf[end + 4:end + 4 + length])
                    buf = buf[end + 4 + length:]
                    replies[msg.get("id")] = msg
        assert replies["a"]["error"]["code"] == -32002 and replies["probe-0"]["error"]["code"] == -32002
        assert replies[None]["error"]["code"] == -32700
        assert "inlineCompletionProvider" in replies[1]["result"]["capabilities"]
        assert proc.wait(timeout=20) == 0  # the client went away
    finally:
        if proc.poll() is None:
            proc.kill()
    assert b"Traceback" not in proc.stderr.read()


def test_params_of_the_same_shape_are_read_into_one_class():
    from pygls.protocol import JsonRPCNotification

    from ragls.server.app import RaglsServer

    c = RaglsServer().protocol._converter
    first, second = (c.structure({"jsonrpc": "2.0", "method": "ragls/viewedRanges", "params": {
        "uri": f"file:///{n}.py", "ranges": [{"start": {"line": n, "character": 0}}]}}, JsonRPCNotification)
        for n in (1, 2))
    assert (first.params.uri, second.params.ranges[0].start.line) == ("file:///1.py", 2)
    assert type(first.params) is type(second.params)  # a class per shape, not per message (pygls's makes new ones)
    assert type(first.params.ranges[0].start) is type(second.params.ranges[0].start)


def test_invalid_params_leave_no_objects_for_the_cyclic_collector():
    import gc

    from lsprotocol import types

    import cattrs

    from ragls.server import protocol
    from ragls.server.app import RaglsServer

    c = RaglsServer().protocol._converter
    bad = {"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover",
           "params": {"textDocument": {"uri": 5}, "position": {"line": "x", "character": []}}}

    def fail() -> None:
        try:
            c.structure(bad, types.HoverRequest)
        except cattrs.BaseValidationError as exc:
            protocol._describe(exc)

    fail()  # cattrs makes its structuring code on first use
    gc.collect()
    gc.disable()
    try:
        fail()
        found = gc.collect()
        assert found == 0, found  # freed by their reference counts: a full collection never waits on them
    finally:
        gc.enable()
