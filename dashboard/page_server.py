"""Serves the stand-in Webflow page: dashboard/preview.html with the embed snippet pasted in.

Only ``/`` (any query string, e.g. ``?lang=fr``) is served; the snippet's ``data-api-base`` is set
to the API the page must call, as an editor would set it in Webflow. When the data is a sample
(``is_sample()`` says so: the manifest lists a dataset with ``source: sample``), the page opens
with a notice saying so. The notice lives here, in the preview only: the page's own code
(dashboard/src) has no such notice, so the real page never shows one.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DASHBOARD_DIR = Path(__file__).resolve().parent
PAGE = DASHBOARD_DIR / "preview.html"
EMBED = DASHBOARD_DIR / "webflow_embed.html"
EMBED_MARKER = "<!-- cdr:webflow-embed -->"
SAMPLE_MARKER = "<!-- cdr:sample-notice -->"
SAMPLE_NOTICE = {
    "en": "Sample data: not real market figures",
    "fr": "Données d'exemple\u00a0: ce ne sont pas de vrais chiffres du marché",
}
_API_BASE_ATTR = re.compile(r'data-api-base="[^"]*"')


def render_page(api_base: str, sample_notice: str | None = None) -> str:
    """preview.html with webflow_embed.html in place of its marker, pointed at ``api_base``, and
    ``sample_notice`` (if any) at the top of the page."""
    embed, count = _API_BASE_ATTR.subn(f'data-api-base="{api_base}"', EMBED.read_text())
    if count != 1:
        raise ValueError(f"{EMBED} must have exactly one data-api-base attribute")
    page = PAGE.read_text()
    for marker in (EMBED_MARKER, SAMPLE_MARKER):
        if marker not in page:
            raise ValueError(f"{PAGE} has no {marker} marker")
    notice = f'<p class="preview-sample-notice" role="note">{html.escape(sample_notice)}</p>' if sample_notice else ""
    return page.replace(EMBED_MARKER, embed).replace(SAMPLE_MARKER, notice)


def page_language(host: str, query: str) -> str:
    """The page's language as the page's code decides it: ?lang=, else French on fr.* hosts."""
    forced = parse_qs(query).get("lang", [""])[0]
    if forced in ("en", "fr"):
        return forced
    return "fr" if host.lower().startswith("fr.") else "en"


class PageServer:
    """A threaded HTTP server on 127.0.0.1; ``port=0`` picks a free port. Use as a context manager."""

    def __init__(
        self,
        port: int = 0,
        api_base: str = "",
        on_page: Callable[[], object] | None = None,
        host: str = "127.0.0.1",
        is_sample: Callable[[], bool] | None = None,
    ) -> None:
        self.api_base = api_base
        self._on_page = on_page
        self.is_sample = is_sample
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
                path, query = urlsplit(self.path).path, urlsplit(self.path).query
                if path in server.extra_pages:  # other pages of the site (tests: today's old embed)
                    body = server.extra_pages[path].replace("__API_BASE__", server.api_base).encode()
                elif path not in ("/", "/index.html"):
                    self.send_error(404)
                    return
                else:
                    if server._on_page:
                        server._on_page()
                    notice = None
                    if server.is_sample and server.is_sample():
                        notice = SAMPLE_NOTICE[page_language(self.headers.get("Host", ""), query)]
                    body = render_page(server.api_base, notice).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:
                pass

        return Handler
