"""Serves the stand-in Webflow page: dashboard/preview.html with the embed snippet pasted in.

Only ``/`` (any query string, e.g. ``?lang=fr``) is served; the snippet's ``data-api-base`` is set
to the API the page must call, as an editor would set it in Webflow.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

DASHBOARD_DIR = Path(__file__).resolve().parent
PAGE = DASHBOARD_DIR / "preview.html"
EMBED = DASHBOARD_DIR / "webflow_embed.html"
EMBED_MARKER = "<!-- cdr:webflow-embed -->"
_API_BASE_ATTR = re.compile(r'data-api-base="[^"]*"')


def render_page(api_base: str) -> str:
    """preview.html with webflow_embed.html in place of its marker, pointed at ``api_base``."""
    embed, count = _API_BASE_ATTR.subn(f'data-api-base="{api_base}"', EMBED.read_text())
    if count != 1:
        raise ValueError(f"{EMBED} must have exactly one data-api-base attribute")
    page = PAGE.read_text()
    if EMBED_MARKER not in page:
        raise ValueError(f"{PAGE} has no {EMBED_MARKER} marker")
    return page.replace(EMBED_MARKER, embed)


class PageServer:
    """A threaded HTTP server on 127.0.0.1; ``port=0`` picks a free port. Use as a context manager."""

    def __init__(
        self,
        port: int = 0,
        api_base: str = "",
        on_page: Callable[[], object] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.api_base = api_base
        self._on_page = on_page
        self.extra_pages: dict[str, str] = {}  # path -> HTML, served as is (__API_BASE__ filled in)
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path in server.extra_pages:  # other pages of the site (tests: today's old embed)
                    body = server.extra_pages[path].replace("__API_BASE__", server.api_base).encode()
                elif path not in ("/", "/index.html"):
                    self.send_error(404)
                    return
                else:
                    if server._on_page:
                        server._on_page()
                    body = render_page(server.api_base).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:
                pass

        return Handler
