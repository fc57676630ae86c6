"""A seeded LSP fuzz run against the real server: malformed JSON, wrong types, huge lines, surrogates, cancel storms."""
from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fake_openai import FakeOpenAI
from .test_protocol import RawServer, frame

JUNK: list[Any] = ["x", "", -1, 0, 2**31, 2**53 + 1, -(2**63), 1.5, True, None, [], {}, [1, "a"], {"a": {"b": []}},
                   "\ud800", "file:///", "file:///%ZZ", "not a uri", "a" * 3000]
BAD_POSITIONS = [-1, 2**31, 2**53, 10**6, 10**12]
METHODS = ["textDocument/inlineCompletion", "textDocument/completion", "textDocument/codeAction", "codeAction/resolve",
           "workspace/executeCommand", "textDocument/hover", "textDocument/definition", "workspace/symbol",
           "textDocument/didOpen", "textDocument/didChange", "textDocument/didClose", "textDocument/didSave",
           "workspace/didChangeWatchedFiles", "ragls/nextEdit", "ragls/diagnostics", "ragls/viewedRanges",
           "workspace/didChangeConfiguration", "$/setTrace", "$/progress",
           "window/workDoneProgress/cancel", "$/cancelRequest", "", "$/", "foo", "textDocument/\ud800"]
NOTIFICATIONS = ("textDocument/did", "workspace/did", "$/", "ragls/diagnostics", "ragls/viewedRanges")
VALID = METHODS.index("$/setTrace")  # the methods before it: those given well-formed params too
COMMANDS = ["ragls.status", "ragls.explain", "ragls.ask", "ragls.fix", "ragls.nope", "", "\ud800"]


def _huge_line(rng: random.Random, size: int) -> str:
    unit = rng.choice(["x = 1; ", "abcdefghij", "é€😀 ", "\t", "(" * 7 + ")" * 7])
    return (unit * (size // len(unit) + 1))[:size]


@dataclass
class Fuzzer:
    """Yields (frame bytes, request id or None): the messages of a seeded fuzz run. Requests with an int or
    string id must each be answered; everything else may or may not be."""

    rng: random.Random
    inside: list[tuple[str, str]]  # (uri, text) of documents in the workspace folder
    outside: list[str]  # uris outside every folder
    next_id: int = 1000
    sent_ids: list[Any] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    # -- message builders ---------------------------------------------------------------------------------------
    def _id(self) -> Any:
        self.next_id += 1
        return self.next_id if self.rng.random() < 0.8 else f"s-{self.next_id}"

    def request(self, method: str, params: Any) -> tuple[bytes, Any]:
        msg_id = self._id()
        self.sent_ids.append(msg_id)
        return frame(json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})), msg_id

    @staticmethod
    def notification(method: str, params: Any) -> tuple[bytes, None]:
        return frame(json.dumps({"jsonrpc": "2.0", "method": method, "params": params})), None

    def _uri(self) -> str:
        r = self.rng.random()
        return self.rng.choice(self.inside)[0] if r < 0.6 else self.rng.choice(self.outside)

    def _version(self, uri: str) -> int:
        self.versions[uri] = self.versions.get(uri, 0) + 1
        return self.versions[uri]

    def _position(self, ok: bool = True) -> dict[str, int]:
        if ok:
            return {"line": self.rng.randrange(0, 25), "character": self.rng.randrange(0, 30)}
        return {"line": self.rng.choice(BAD_POSITIONS + [3]), "character": self.rng.choice(BAD_POSITIONS + [0])}

    def _range(self, ok: bool = True) -> dict[str, Any]:
        a, b = self._position(ok), self._position(ok)
        return {"start": a, "end": b}

    def valid_params(self, method: str) -> Any:
        uri = self._uri()
        if method in ("textDocument/inlineCompletion", "textDocument/completion", "textDocument/hover",
                      "textDocument/definition"):
            return {"textDocument": {"uri": uri}, "position": self._position(), "context": {"triggerKind": 2}}
        if method == "textDocument/codeAction":
            diag = {"range": self._range(), "message": "undefined name", "severity": 1}
            return {"textDocument": {"uri": uri}, "range": self._range(), "context": {"diagnostics": [diag]}}
        if method == "codeAction/resolve":
            return {"title": "ragls: fix", "data": {"command": "ragls.fix", "arguments": [uri, self._range(), []]}}
        if method == "workspace/executeCommand":
            cmd = self.rng.choice(COMMANDS)
            return {"command": cmd, "arguments": [uri, self._range()] if cmd != "ragls.ask" else ["why?", uri]}
        if method == "textDocument/didOpen":
            return {"textDocument": {"uri": uri, "languageId": "python", "version": self._version(uri),
                                     "text": "def f(x):\n    return x\n" * self.rng.randrange(1, 20)}}
        if method == "textDocument/didChange":
            change = ({"text": "y = 2\n" * self.rng.randrange(1, 30)} if self.rng.random() < 0.5 else
                      {"range": self._range(), "text": "z"})
            return {"textDocument": {"uri": uri, "version": self._version(uri)}, "contentChanges": [change]}
        if method in ("textDocument/didClose", "textDocument/didSave"):
            return {"textDocument": {"uri": uri}}
        if method == "workspace/didChangeWatchedFiles":
            return {"changes": [{"uri": self._uri(), "type": self.rng.choice([1, 2, 3])}]}
        if method == "$/cancelRequest":
            return {"id": self.rng.choice(self.sent_ids[-20:] or [1])}
        if method == "ragls/nextEdit":
            return {"textDocument": {"uri": uri}, "position": self._position()}
        if method == "ragls/diagnostics":
            return {"uri": uri, "diagnostics": [{"range": self._range(), "message": "undefined name", "severity": 1,
                                                 "source": self.rng.choice(["pyright", "ragls", ""])}]}
        if method == "ragls/viewedRanges":
            return {"uri": uri, "ranges": [self._range(self.rng.random() < 0.8)]}
        return {}

    def mutate(self, value: Any, depth: int = 0) -> Any:
        """A copy of a JSON value with one part replaced by junk, removed, or given an extra key."""
        if isinstance(value, dict) and value and depth < 6:
            out = dict(value)
            key = self.rng.choice(list(out))
            r = self.rng.random()
            if r < 0.2:
                del out[key]
            elif r < 0.3:
                out[self.rng.choice(["extra", "\ud800", "id"])] = self.rng.choice(JUNK)
            elif r < 0.6:
                out[key] = self.rng.choice(JUNK)
            else:
                out[key] = self.mutate(out[key], depth + 1)
            return out
        if isinstance(value, list) and value and depth < 6:
            items = list(value)
            i = self.rng.randrange(len(items))
            items[i] = self.mutate(items[i], depth + 1) if self.rng.random() < 0.5 else self.rng.choice(JUNK)
            return items
        return self.rng.choice(JUNK)

    # -- kinds of fuzz ------------------------------------------------------------------------------------------
    def valid(self) -> Iterator[tuple[bytes, Any]]:
        method = self.rng.choice(METHODS[:VALID])
        params = self.valid_params(method)
        if method.startswith(NOTIFICATIONS):
            yield self.notification(method, params)
        else:
            yield self.request(method, params)

    def wrong_types(self) -> Iterator[tuple[bytes, Any]]:
        method = self.rng.choice(METHODS[:VALID])
        params = self.mutate(self.valid_params(method))
        if method.startswith(NOTIFICATIONS) and self.rng.random() < 0.7:
            yield self.notification(method, params)
        else:
            yield self.request(method, params)

    def out_of_range(self) -> Iterator[tuple[bytes, Any]]:
        uri = self.rng.choice(self.inside)[0]
        r = self.rng.random()
        if r < 0.5:
            yield self.request("textDocument/inlineCompletion", {"textDocument": {"uri": uri},
                                                                 "position": self._position(False),
                                                                 "context": {"triggerKind": 1}})
        elif r < 0.75:
            yield self.notification("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": self._version(uri)},
                "contentChanges": [{"range": self._range(False), "text": "q"}]})
        else:
            yield self.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": self._range(False),
                                                           "context": {"diagnostics": []}})

    def huge_line(self) -> Iterator[tuple[bytes, Any]]:
        uri = self.rng.choice(self.outside) if self.rng.random() < 0.5 else self.rng.choice(self.inside)[0]
        line = _huge_line(self.rng, self.rng.randrange(100_000, 300_000))
        if self.rng.random() < 0.5:
            yield self.notification("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "python", "version": self._version(uri), "text": "import os\n" + line}})
        else:
            yield self.notification("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": self._version(uri)},
                "contentChanges": [{"text": "x = 1\n" + line + "\n"}]})
        yield self.request("textDocument/inlineCompletion", {"textDocument": {"uri": uri},
                                                             "position": {"line": 1, "character": 50},
                                                             "context": {"triggerKind": 1}})
        if self.rng.random() < 0.7:  # most of the time the editor closes it again
            yield self.notification("textDocument/didClose", {"textDocument": {"uri": uri}})

    def surrogates(self) -> Iterator[tuple[bytes, Any]]:
        uri = self.rng.choice(self.inside)[0]
        msg_id = self._id()
        self.sent_ids.append(msg_id)
        bodies = [
            '{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"%s","languageId":'
            '"python","version":1,"text":"a = \\"\\ud800\\"\\n\\udfff b\\n"}}}' % uri,
            '{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"%s","version":'
            '%d},"contentChanges":[{"text":"x\\ud83d = 1\\n\\ude00\\n"}]}}' % (uri, self._version(uri)),
        ]
        requests = [
            '{"jsonrpc":"2.0","id":%s,"method":"textDocument/inlineCompletion","params":{"textDocument":{"uri":'
            '"%s"},"position":{"line":0,"character":5},"context":{"triggerKind":1}}}' % (json.dumps(msg_id), uri),
            '{"jsonrpc":"2.0","id":%s,"method":"textDocument/inlineCompletion","params":{"textDocument":{"uri":'
            '"file:///tmp/\\ud800.py"},"position":{"line":0,"character":0},"context":{"triggerKind":1}}}'
            % json.dumps(msg_id),
            '{"jsonrpc":"2.0","id":%s,"method":"workspace/executeCommand","params":{"command":"ragls.ask",'
            '"arguments":["what \\udc00?"]}}' % json.dumps(msg_id),
            '{"jsonrpc":"2.0","id":%s,"method":"\\ud800","params":{}}' % json.dumps(msg_id),
        ]
        yield frame(self.rng.choice(bodies).encode()), None
        yield frame(self.rng.choice(requests).encode()), msg_id

    def forged_resolve(self) -> Iterator[tuple[bytes, Any]]:
        uri = self.rng.choice(self.inside)[0]
        data: Any = self.rng.choice([None, 5, "x", [], {"command": "ragls.fix"},
                                {"command": "ragls.fix", "arguments": 5},
                                {"command": "ragls.fix", "arguments": [uri]},
                                {"command": "ragls.fix", "arguments": [uri, "r", "d"]},
                                {"command": "ragls.fix", "arguments": [5, {"start": 1, "end": 2}, None]},
                                {"command": "ragls.fix", "arguments": [uri, {"start": {"line": -1}}, []]},
                                {"command": "ragls.fix", "arguments": ["file:///etc/passwd", self._range(), []]},
                                {"command": ["ragls.fix"]}])
        yield self.request("codeAction/resolve", {"title": self.rng.choice(["t", "", 5]), "data": data})

    def cancel_storm(self) -> Iterator[tuple[bytes, Any]]:
        # a few real requests, then cancels for them, for ids never sent, repeated, of odd types
        live = []
        for _ in range(self.rng.randrange(1, 4)):
            msg, msg_id = self.request("textDocument/inlineCompletion", self.valid_params(
                "textDocument/inlineCompletion"))
            live.append(msg_id)
            yield msg, msg_id
        for _ in range(self.rng.randrange(20, 120)):
            target = self.rng.choice(live + [10**9 + self.rng.randrange(10**6), "nope", None, 1.5, {"a": 1}, [1]])
            yield self.notification("$/cancelRequest", {"id": target})

    def random_method(self) -> Iterator[tuple[bytes, Any]]:
        method = self.rng.choice(METHODS + ["".join(self.rng.choice("ab/$xyz") for _ in range(8))])
        params = self.rng.choice(JUNK + [self.valid_params(self.rng.choice(METHODS[:VALID]))])
        if self.rng.random() < 0.6:
            yield self.request(method, params)
        else:
            yield self.notification(method, params)

    def odd_envelope(self) -> Iterator[tuple[bytes, Any]]:
        """Messages that are not valid JSON-RPC: odd ids, no jsonrpc, responses nobody asked for."""
        yield frame(json.dumps(self.rng.choice([
            {"jsonrpc": "2.0", "id": self.rng.choice([None, 1.5, {"a": 1}, [1], True]), "method": "ragls/x"},
            {"jsonrpc": "1.0", "id": -1, "method": "textDocument/hover", "params": {}},
            {"id": -2, "method": "textDocument/hover", "params": {}},
            {"jsonrpc": "2.0", "id": self.rng.randrange(10**6), "result": {"x": 1}},
            {"jsonrpc": "2.0", "id": "zz", "error": {"code": 1, "message": "no"}},
            {"jsonrpc": "2.0", "id": 3, "error": "not an error object"},
            {"jsonrpc": "2.0", "method": 5, "params": {}},
            {"jsonrpc": "2.0"},
        ]))), None

    def malformed(self) -> Iterator[tuple[bytes, Any]]:
        good = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover", "params": {}}).encode()
        yield frame(self.rng.choice([
            good[: self.rng.randrange(1, len(good) - 1)],
            bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 200))),
            b'{"jsonrpc": "2.0", "method": "x\xff\xfe"}',
            b"[" * 100_000,
            b'{"a": ' + b"9" * 5000 + b"}",
            b"[1, 2]", b"null", b'"str"', b"", b" ", b"{}",
            b'{"jsonrpc": "2.0", "id": 1e400, "method": "x"}',
        ])), None

    def bad_framing(self) -> Iterator[tuple[bytes, Any]]:
        """Framing errors around notifications (whose loss nobody waits for)."""
        body = json.dumps({"jsonrpc": "2.0", "method": "$/setTrace", "params": {"value": "off"}}).encode()
        yield self.rng.choice([
            b"Content-Length: abc\r\n\r\n" + body,
            b"Content-Length: -5\r\n\r\n" + body,
            b"Content-Length: %d\r\n\r\n" % (len(body) + 40) + body,
            b"Content-Length: %d\r\n\r\n" % (len(body) - 9) + body,
            b"Content-Type: application/json\r\n\r\n" + body,
            b"garbage line\r\n" + frame(body),
        ]), None

    KINDS = {"valid": 20, "wrong_types": 20, "out_of_range": 8, "huge_line": 2, "surrogates": 5, "forged_resolve": 5,
             "cancel_storm": 2, "random_method": 8, "odd_envelope": 5, "malformed": 8, "bad_framing": 3}

    def messages(self, n: int) -> Iterator[tuple[bytes, Any]]:
        kinds, weights = zip(*self.KINDS.items(), strict=True)
        sent = 0
        while sent < n:
            kind = self.rng.choices(kinds, weights)[0]
            self.counts[kind] = self.counts.get(kind, 0) + 1
            for item in getattr(self, kind)():
                sent += 1
                yield item


def start(root: Path, base_url: str, home: Path, seed: int = 0) -> tuple[RawServer, Fuzzer, str]:
    """The server (its model at `base_url`), indexed, with the fixture's files open; a Fuzzer over them;
    checkout.py's uri."""
    server = RawServer(root, base_url, home)
    server.initialize()
    inside = []
    for path in sorted(root.rglob("*.py")):
        uri, text = path.as_uri(), path.read_text()
        server.open(uri, text)
        inside.append((uri, text))
    inside += [((root / f"shop/new_{i}.py").as_uri(), "") for i in range(3)]
    outside = [f"file:///tmp/ragls-fuzz-outside/{i}.py" for i in range(5)] + [
        "untitled:Untitled-1", "file:///tmp/ragls-fuzz-outside/nul%00.py", root.as_uri() + "/shop/nul%00.py"]
    return server, Fuzzer(random.Random(seed), inside, outside), (root / "shop/checkout.py").as_uri()


SEED = 20240611
WARMUP, MESSAGES = 400, 5000


def run(server: RawServer, fuzzer: Fuzzer, n: int, timeout: float = 120) -> list[Any]:
    """Send `n` fuzz messages; wait until every request among them is answered (or the time is up): their ids."""
    sent = []
    for data, msg_id in fuzzer.messages(n):
        server.send_raw(data)
        if msg_id is not None:
            sent.append(msg_id)
    deadline = time.monotonic() + timeout
    for msg_id in sent:
        if msg_id not in server.responses:
            server.wait(msg_id, max(0.1, deadline - time.monotonic()))
    return sent


def test_fuzz(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir).resolve()
    with FakeOpenAI() as api:
        server, fuzzer, checkout = start(root, api.base_url, tmp_path / "home", SEED)
        try:
            run(server, fuzzer, WARMUP)  # what a first completion, ask or fix loads is loaded
            before, _ = server.rss_mb()
            t0 = time.monotonic()
            sent = run(server, fuzzer, MESSAGES)
            elapsed = time.monotonic() - t0
            after, peak = server.rss_mb()
            assert server.proc.poll() is None, server.stderr_text()[-3000:]
            assert not [i for i in sent if i not in server.responses]
            assert all("result" in server.responses[i] or "error" in server.responses[i] for i in sent)
            assert server.unframed == b""

            text = (root / "shop/checkout.py").read_text().replace(
                "    net = apply_discount(cart.total(), discount)", "    net = ")
            server.open(checkout, text, version=10**6)
            api.responder = lambda path, body: "apply_discount(cart.total(), discount)"
            reply = server.wait(server.inline(checkout, 11, 10))
            assert reply["result"]["items"][0]["insertText"].startswith("apply_discount(cart.total()")
            assert server.shutdown() == 0
        finally:
            server.kill()
    err = server.stderr_text()
    print(f"fuzz: {MESSAGES} messages in {elapsed:.1f} s, {len(sent)} requests answered; RSS {before:.0f} -> "
          f"{after:.0f} MB (peak {peak:.0f}); stderr {len(err.splitlines())} lines, {err.count('Traceback')} "
          f"tracebacks; kinds {fuzzer.counts}")
    assert after - before < 100
    assert err.count("Traceback") <= 10, err[-5000:]  # a bug's traceback once per place, not once per message
    assert len(err.splitlines()) < MESSAGES // 3, err[-5000:]
