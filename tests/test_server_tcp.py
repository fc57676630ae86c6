"""`ragls serve --tcp HOST:PORT`: the same server over a TCP socket (loopback only)."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _send(sock: socket.socket, msg: dict) -> None:
    body = json.dumps(msg).encode()
    sock.sendall(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


def _receive(sock: socket.socket, want_id: int, timeout: float = 30) -> dict:
    buf, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        while b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            length = int(next(ln.split(b":")[1] for ln in head.split(b"\r\n")
                              if ln.lower().startswith(b"content-length")))
            if len(rest) < length:
                break
            msg, buf = json.loads(rest[:length]), rest[length:]
            if msg.get("id") == want_id:
                return msg
        buf += sock.recv(65536)
    raise TimeoutError("no reply")


def test_serve_over_tcp(shop_repo, tmp_path):
    port = _free_port()
    root = Path(shop_repo.working_tree_dir)
    env = {"PATH": "/usr/bin:/bin", "RAGLS_HOME": str(tmp_path / "home"), "ANONYMIZED_TELEMETRY": "False",
           "HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "ragls.server.cli", "serve", "--tcp", f"127.0.0.1:{port}"],
                            env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not listen"
                time.sleep(0.1)
        with sock:
            _send(sock, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                         "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}})
            reply = _receive(sock, 1)
            assert "inlineCompletionProvider" in reply["result"]["capabilities"]
            _send(sock, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
            assert _receive(sock, 2)["result"] is None
            _send(sock, {"jsonrpc": "2.0", "method": "exit"})
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
