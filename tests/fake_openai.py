"""A local OpenAI-compatible HTTP server for tests: records requests, serves embeddings and canned replies."""
from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def fake_vector(text: str, dim: int = 8) -> list[float]:
    """A deterministic vector from the words of a text (shared words -> similar vectors)."""
    v = [0.0] * dim
    for word in text.lower().split():
        h = hashlib.sha1(word.encode()).digest()
        v[h[0] % dim] += 1.0
    return v if any(v) else [1.0] + [0.0] * (dim - 1)


class FakeOpenAI:
    """Start with `with FakeOpenAI() as api:`; `api.base_url` ends in /v1; `api.requests` holds (path, body)."""

    def __init__(self, dim: int = 8) -> None:
        self.dim = dim
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.fail_next: list[int] = []  # HTTP statuses to answer the next requests with
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                outer.requests.append((self.path, body))
                if outer.fail_next:
                    self._send(outer.fail_next.pop(0), {"error": {"message": "injected failure"}})
                elif self.path.endswith("/embeddings"):
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"object": "embedding", "index": i, "embedding": fake_vector(t, outer.dim)}
                            for i, t in enumerate(inputs)]
                    self._send(200, {"object": "list", "data": data, "model": body.get("model"),
                                     "usage": {"prompt_tokens": 0, "total_tokens": 0}})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
