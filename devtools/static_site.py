"""A tiny real HTTP server on localhost that serves fixed pages (a stand-in for a website)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StaticSite:
    """Serves ``pages`` (path -> (status, body)); ``received`` logs (method, path, body)."""

    def __init__(self, pages: dict[str, tuple[int, bytes]]) -> None:
        self.pages = pages
        self.received: list[tuple[str, str, bytes]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                site.received.append((self.command, self.path, self.rfile.read(length) if length else b""))
                status, body = site.pages.get(self.path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"


@contextlib.contextmanager
def serving(pages: dict[str, tuple[int, bytes]]) -> Iterator[StaticSite]:
    site = StaticSite(pages)
    site._thread.start()
    try:
        yield site
    finally:
        site._server.shutdown()
        site._server.server_close()
