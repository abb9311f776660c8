"""Small HTTP proxies that break one exchange: ``FaultProxy`` in front of the real presign server
breaks the answer for chosen keys; ``HoldingProxy`` in front of moto's S3 server holds one PUT, so
a test can kill the writer at that very moment.

``FaultProxy``: every request is forwarded to the presign server and its answer passed back unchanged, except for
the keys named in ``faults``:

- ``"500"``: the presign server's answer is replaced by the one it gives on an internal error
  (status 500, ``{"error": "internal error"}``), keeping its headers, so CORS stays whatever the
  real server decided. This is what the page sees when the Lambda fails for that request.
- ``"unreachable"``: the real presigned URL is swapped for one on a local port that refuses
  connections (a socket bound but never listening), so the browser's download fails at the
  network level, as when S3 cannot be reached.

``no_batch_route`` plays an API deployed without the batch route (``/presigned-urls``):

- ``"old-lambda"``: the request is passed to the real server under a path it does not serve, so
  the answer is the server's own 404 for an unknown path, CORS headers included;
- ``"rest-gateway"``: API Gateway (REST) in front of a Lambda with no such resource answers
  ``403 {"message": "Missing Authentication Token"}`` by itself, with no CORS header at all, so
  the browser's fetch fails without ever showing the page a status.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


class FaultProxy:
    """The presign server, with the answers for the keys named in ``faults`` broken (see above)."""

    def __init__(self, upstream: str, faults: dict[str, str] | None = None, *, no_batch_route: str | None = None) -> None:
        faults = faults or {}
        if no_batch_route not in (None, "old-lambda", "rest-gateway"):
            raise ValueError(f"unknown no_batch_route {no_batch_route!r}")
        for kind in faults.values():
            if kind not in ("500", "unreachable"):
                raise ValueError(f"unknown fault {kind!r}")
        self.upstream = urlsplit(upstream)
        self.faults = faults
        self.no_batch_route = no_batch_route
        self.batch_refused = 0  # batch requests answered as an API without the route would
        self.broken: list[tuple[str | None, str]] = []  # (key, fault) actually applied
        # Bound, never listening: connecting to it is refused at once.
        self._dead = socket.socket()
        self._dead.bind(("127.0.0.1", 0))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def dead_url_base(self) -> str:
        return f"http://127.0.0.1:{self._dead.getsockname()[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._dead.close()

    def _forward(self, method: str, path: str, headers) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=10)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
            conn.request(method, path, headers=forwarded)
            res = conn.getresponse()
            body = res.read()
            kept = [(k, v) for k, v in res.getheaders() if k.lower() not in HOP_BY_HOP]
            return res.status, kept, body
        finally:
            conn.close()

    def _break(self, key: str | None, status: int, body: bytes) -> tuple[int, bytes]:
        fault = self.faults.get(key or "")
        if fault is None or status != 200:
            return status, body
        self.broken.append((key, fault))
        if fault == "500":
            return 500, json.dumps({"error": "internal error"}).encode()
        real = urlsplit(json.loads(body)["url"])
        return status, json.dumps({"url": f"{self.dead_url_base}{real.path}?{real.query}"}).encode()

    def _break_batch(self, status: int, body: bytes) -> tuple[int, bytes]:
        """The batch route (``/presigned-urls?keys=``): break the named keys inside the answer,
        as the real service reports a per-key failure (an ``errors`` entry) or a bad URL."""
        if status != 200:
            return status, body
        answer = json.loads(body)
        for key, fault in self.faults.items():
            if key not in answer.get("urls", {}):
                continue
            self.broken.append((key, fault))
            if fault == "500":
                del answer["urls"][key]
                answer.setdefault("errors", {})[key] = {"status": 500, "error": "internal error"}
            else:
                real = urlsplit(answer["urls"][key])
                answer["urls"][key] = f"{self.dead_url_base}{real.path}?{real.query}"
        return status, json.dumps(answer).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                is_batch = urlsplit(self.path).path.endswith("/presigned-urls")
                path = self.path
                if is_batch and proxy.no_batch_route:
                    proxy.batch_refused += 1
                    if proxy.no_batch_route == "rest-gateway":
                        body = b'{"message": "Missing Authentication Token"}'
                        self._answer(403, [("Content-Type", "application/json")], body)
                        return
                    path = self.path.replace("/presigned-urls", "/no-such-route", 1)
                status, headers, body = proxy._forward(self.command, path, self.headers)
                if is_batch and not proxy.no_batch_route:
                    status, body = proxy._break_batch(status, body)
                else:
                    key = parse_qs(urlsplit(self.path).query).get("key", [None])[0]
                    status, body = proxy._break(key, status, body)
                self._answer(status, headers, body)

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_OPTIONS = _serve

            def log_message(self, format: str, *args) -> None:
                pass

        return Handler


class HoldingProxy:
    """A small HTTP proxy in front of moto's S3 server that holds one chosen PUT.

    Every request (body included) is forwarded unchanged, except the first PUT whose path
    matches ``hold``: the proxy has then received it whole, sets ``held`` (``held_key`` names the
    key) and keeps the client waiting. ``release()`` forwards it and lets the client go on;
    without it the request never reaches S3 (the writer was killed before its write landed).
    """

    def __init__(self, upstream: str, hold: str) -> None:
        self.upstream = urlsplit(upstream)
        self.hold = re.compile(hold)
        self.held = threading.Event()
        self.held_key = ""
        self._go = threading.Event()
        self._forward_held = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def release(self) -> None:
        """Forward the held PUT to S3 and answer the client with S3's answer."""
        self._forward_held = True
        self._go.set()

    def __enter__(self) -> HoldingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._go.set()  # a held PUT not released is dropped
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _forward(self, method: str, path: str, headers, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP | {"expect"}}
            conn.request(method, path, body=body if body or method in ("PUT", "POST") else None, headers=forwarded)
            res = conn.getresponse()
            answer = res.read()
            kept = [(k, v) for k, v in res.getheaders() if k.lower() not in HOP_BY_HOP]
            if method == "HEAD":  # no body, but the object's length
                kept += [(k, v) for k, v in res.getheaders() if k.lower() == "content-length"]
            return res.status, kept, answer
        finally:
            conn.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # boto3 sends "Expect: 100-continue" with each PUT

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = urlsplit(self.path).path.split("/", 2)[-1]  # /<bucket>/<key>
                if self.command == "PUT" and not proxy.held.is_set() and proxy.hold.search(key):
                    proxy.held_key = key
                    proxy.held.set()
                    proxy._go.wait()
                    if not proxy._forward_held:
                        self.close_connection = True
                        return
                status, headers, answer = proxy._forward(self.command, self.path, self.headers, body)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args) -> None:
                pass

        return Handler
