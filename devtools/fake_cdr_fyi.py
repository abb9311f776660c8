"""A local HTTP server that behaves like cdr.fyi's partner API, for tests and local runs.

It speaks real HTTP on 127.0.0.1 (a free port), so the client under test uses its normal
``requests`` code path. What it reproduces (see ``docs/cdr-fyi.md``):

- ``GET /v1/<table>`` for ``orders``, ``purchasers``, ``suppliers``, ``marketplaces`` answers
  ``{"<table>": [...]}``. Unknown paths answer 404, other methods 405.
- Paging by REQUEST HEADERS: ``x-page`` (1-based, default 1) and ``x-limit`` (default 10, at
  most 100). No total count, no links: a page shorter than the limit (or empty) is the end. A
  non-integer or out-of-range header answers 400 with a JSON error message.
- ``Authorization: Bearer <token>`` on every request; missing or wrong: 401
  ``{"error": "Unauthorized"}``.
- Rate limits per token in sliding windows: at most ``per_minute`` requests in any
  ``60 * window_scale`` seconds and ``per_hour`` in ``3600 * window_scale`` seconds; beyond, 429
  with ``Retry-After`` (whole seconds until a slot frees, at least 1). A 429'd request is logged
  but does not use up a slot. Requests answered 401, 404 or 405 do not count either.
- ``latency_s`` delays every response (requests are served concurrently, so delays overlap).
- The query filters ``entityFilterType`` / ``entityFilterId`` are accepted and IGNORED: every
  request gets the whole table.
- With ``front_page`` (HTML bytes), ``GET /`` serves cdr.fyi's front page (``site_url``): no
  token, no rate limit; faults are queued for it under the name ``front_page``.

For tests there is more: a request log (``requests``), scripted faults (``fail_next``), a
sliding-window count over the log (``max_requests_in_window``), and ``tables`` can be replaced
or edited between pulls (it is read on every request).

Run ``python -m devtools.fake_cdr_fyi --port 8010 --token T --scale 1`` to serve the
synthetic sample data of ``devtools/sample_snapshot.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from cdr_dagster.cdr_fyi.sample import page_of, parse_paging

TABLES: tuple[str, ...] = ("orders", "purchasers", "suppliers", "marketplaces")
API_PREFIX = "/v1"
FRONT_PAGE = "front_page"  # the name faults for the front page are queued under

_UNSET: Any = object()  # "no JSON body given" (None is a valid JSON body: null)


@dataclass(frozen=True)
class Fault:
    """A scripted answer that replaces the normal one for one request.

    - ``Fault(status=429, retry_after="2")``, ``Fault(status=502)``: that status, with a JSON
      ``{"error": <reason>}`` body unless ``body`` or ``json`` is given.
    - ``Fault(body="<html>not json")``: 200 with that raw body (text/html).
    - ``Fault(json={"wrong_key": []})``: 200 with that JSON document.
    - ``Fault(delay_s=5)``: the normal answer, sent after 5 s (to provoke a client timeout).
    - ``Fault(drip_s=1)``: the normal answer (or the fault's), its body sent one byte every
      second, so no single read ever times out; with ``drip_headers=True`` the status line and
      headers drip too.
    - ``Fault(body=b"...", content_type="application/json")``: raw bytes with that type (for
      example invalid UTF-8 in a JSON body).
    - ``Fault(unsized=True)``: no Content-Length; the body ends when the server closes the
      connection (a client must count what it reads, not trust a header).
    """

    status: int = 200
    json: Any = _UNSET
    body: str | bytes | None = None
    retry_after: str | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    drip_s: float = 0.0
    drip_headers: bool = False
    content_type: str | None = None
    unsized: bool = False

    @property
    def replaces_response(self) -> bool:
        """False for a pure delay: the normal response is sent, late."""
        return self.status != 200 or self.body is not None or self.json is not _UNSET


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it (logged when it arrived, with the status it got)."""

    monotonic: float  # the server's clock (time.monotonic unless a clock was injected)
    wall: float  # time.time()
    method: str
    path: str  # without the query string
    query: str
    table: str | None  # None for an unknown path; FRONT_PAGE for the front page
    page: int | None  # x-page as served (1 when absent), None when invalid
    limit: int | None  # x-limit as served (the default when absent), None when invalid
    status: int
    auth_ok: bool
    counted: bool  # used up a rate-limit slot
    fault: Fault | None = None


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers open connections, so stop() can close keep-alive
    connections too (otherwise a pooled client connection would outlive the server)."""

    daemon_threads = True
    fake: FakeCdrFyi

    def __init__(self, address: tuple[str, int], fake: FakeCdrFyi) -> None:
        self.fake = fake
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up mid-response is expected in tests: stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind its CDN
    timeout = 30  # seconds an idle keep-alive connection is kept
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    def _method_not_allowed(self) -> None:
        # read (and drop) any body, so the keep-alive connection stays in step
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.fake._handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = _method_not_allowed

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces the access log

    def send_raw(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str], fault: Fault, stopping: threading.Event
    ) -> None:
        """Write the response by hand: without Content-Length (``unsized``, then close), and/or a
        byte at a time (``drip_s``) from the status line (``drip_headers``) or the body on."""
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Content-Type: {content_type}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += ["Connection: close"] if fault.unsized else [f"Content-Length: {len(body)}"]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.close_connection = True  # a hand-written (or abandoned) response ends the connection
        try:
            if not (fault.drip_s and fault.drip_headers):
                self.wfile.write(head)
                head = b""
            for byte in head + body:
                if fault.drip_s and stopping.wait(fault.drip_s):
                    return  # server stopping
                self.wfile.write(bytes([byte]))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its deadline fired)

    def send_body(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired)


def _json_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class FakeCdrFyi:
    """cdr.fyi's list endpoints on a local port. Use as a context manager or start()/stop().

    ``tables`` maps table name to its records, served in list order; it is read on every
    request, so ``fake.tables["orders"] = [...]`` between two pulls changes what the next pull
    sees. ``clock`` (default ``time.monotonic``) drives the rate limiter and the log's times;
    tests can inject a fake clock to move time without sleeping.
    """

    def __init__(
        self,
        tables: dict[str, list[dict[str, Any]]],
        token: str = "test-token",
        *,
        per_minute: int = 100,
        per_hour: int = 1000,
        window_scale: float = 1.0,
        latency_s: float = 0.0,
        default_limit: int = 10,
        max_limit: int = 100,
        clock: Callable[[], float] = time.monotonic,
        front_page: bytes | None = None,
    ) -> None:
        self.tables = tables
        self.front_page = front_page
        self.token = token
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.window_scale = window_scale
        self.latency_s = latency_s
        self.default_limit = default_limit
        self.max_limit = max_limit
        self._clock = clock
        self._lock = threading.Lock()
        self._log: list[RequestRecord] = []
        self._slots: dict[str, list[float]] = {}  # token -> times of counted requests
        self._faults: list[tuple[str | None, Fault]] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeCdrFyi:
        """Listen on 127.0.0.1, on a free port unless ``port`` is given."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-cdr-fyi",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, wake delayed responses and close open connections."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_open_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeCdrFyi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """E.g. ``http://127.0.0.1:54321/v1`` (what the client uses instead of api.cdr.fyi)."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def site_url(self) -> str:
        """The front page's address (served when ``front_page`` is given)."""
        return f"http://127.0.0.1:{self.port}/"

    # -- test controls ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        """Forget the log, the rate-limit history and any unconsumed faults."""
        with self._lock:
            self._log.clear()
            self._slots.clear()
            self._faults.clear()

    def fail_next(self, table: str | None, *responses: Fault) -> None:
        """Queue faults for the next requests to ``table`` (None: to any table), in order.

        Each authorised request to a table consumes the first queued fault whose table matches
        it. A fault is served instead of the rate-limit check and the normal page; it uses up a
        rate-limit slot unless its status is 429.
        """
        if table is not None and table not in (*TABLES, FRONT_PAGE):
            raise ValueError(f"unknown table {table!r}")
        with self._lock:
            self._faults.extend((table, fault) for fault in responses)

    @property
    def pending_faults(self) -> int:
        """How many queued faults no request has consumed yet."""
        with self._lock:
            return len(self._faults)

    def max_requests_in_window(self, seconds: float, *, counted_only: bool = False) -> int:
        """The most logged requests within any ``seconds``-long window (in the server clock's
        seconds: with ``window_scale`` pass the scaled length, e.g. ``60 * window_scale``).

        Two requests share a window when their times differ by less than ``seconds``, the
        same rule the limiter applies. ``counted_only`` keeps only requests that used a slot.
        """
        times = sorted(r.monotonic for r in self.requests if r.counted or not counted_only)
        best = start = 0
        for end, t in enumerate(times):
            while t - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    # -- request handling ------------------------------------------------------------------

    def _windows(self) -> tuple[tuple[int, float], ...]:
        return (
            (self.per_minute, 60 * self.window_scale),
            (self.per_hour, 3600 * self.window_scale),
        )

    def _retry_after(self, token: str, now: float) -> int | None:
        """Whole seconds until a slot frees in every window, or None when one is free now.

        Called with the lock held."""
        times = self._slots.get(token, [])
        wait = 0.0
        for limit, seconds in self._windows():
            recent = [t for t in times if now - t < seconds]
            if len(recent) >= limit:
                # the oldest request that must leave the window for one more to fit
                wait = max(wait, recent[len(recent) - limit] + seconds - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def _use_slot(self, token: str, now: float) -> None:
        """Record a counted request, forgetting those older than the longest window.

        Called with the lock held."""
        longest = max(seconds for _, seconds in self._windows())
        self._slots[token] = [t for t in self._slots.get(token, []) if now - t < longest] + [now]

    def _parse_paging(self, headers: Any) -> tuple[int | None, int | None, str | None]:
        """(page, limit, error message or None): cdr.fyi's rule, shared with the bundled sample."""
        return parse_paging(headers, self.default_limit, self.max_limit)

    def _handle(self, handler: _Handler) -> None:
        """Decide the answer under the lock (log it first), then wait and send it."""
        path, _, query = handler.path.partition("?")
        path = path.rstrip("/") or "/"
        table = path[len(API_PREFIX) + 1 :] if path.startswith(API_PREFIX + "/") else None
        if table not in TABLES:
            table = FRONT_PAGE if path == "/" and self.front_page is not None else None
        auth = handler.headers.get("Authorization", "")
        auth_ok = auth == f"Bearer {self.token}"
        page, limit, paging_error = self._parse_paging(handler.headers)
        delay = self.latency_s
        headers: dict[str, str] = {}
        content_type = "application/json; charset=utf-8"
        fault: Fault | None = None
        counted = False

        with self._lock:
            now = self._clock()
            if table is None:
                status, body = 404, _json_bytes({"error": "Not Found"})
            elif table == FRONT_PAGE:
                fault = self._take_fault(table)
                status, body, content_type = self._fault_response(fault or Fault(), table, page, limit)
                delay += fault.delay_s if fault else 0.0
            elif handler.command != "GET":
                status, body = 405, _json_bytes({"error": "Method Not Allowed"})
                headers["Allow"] = "GET"
            elif not auth_ok:
                status, body = 401, _json_bytes({"error": "Unauthorized"})
            else:
                fault = self._take_fault(table)
                retry_after = None if fault else self._retry_after(self.token, now)
                if fault is not None:
                    status, body, content_type = self._fault_response(fault, table, page, limit)
                    headers.update(fault.headers)
                    if fault.retry_after is not None:
                        headers["Retry-After"] = fault.retry_after
                    delay += fault.delay_s
                    if not fault.replaces_response and paging_error:
                        status, body = 400, _json_bytes({"error": paging_error})
                elif retry_after is not None:
                    status, body = 429, _json_bytes({"error": "Too Many Requests"})
                    headers["Retry-After"] = str(retry_after)
                elif paging_error or page is None or limit is None:
                    status, body = 400, _json_bytes({"error": paging_error})
                else:
                    status, body = 200, self._page(table, page, limit)
                counted = status != 429
                if counted:
                    self._use_slot(self.token, now)
            self._log.append(
                RequestRecord(
                    monotonic=now,
                    wall=time.time(),
                    method=handler.command,
                    path=path,
                    query=query,
                    table=table,
                    page=page,
                    limit=limit,
                    status=status,
                    auth_ok=auth_ok,
                    counted=counted,
                    fault=fault,
                )
            )

        if delay > 0 and self._stopping.wait(delay):
            handler.close_connection = True  # server stopping: drop the slow response
            return
        if fault is not None and (fault.drip_s or fault.unsized):
            handler.send_raw(status, body, content_type, headers, fault, self._stopping)
            return
        handler.send_body(status, body, content_type, headers)

    def _take_fault(self, table: str) -> Fault | None:
        for i, (wanted, fault) in enumerate(self._faults):
            if wanted == table or (wanted is None and table != FRONT_PAGE):
                del self._faults[i]
                return fault
        return None

    def _fault_response(self, fault: Fault, table: str, page: int | None, limit: int | None) -> tuple[int, bytes, str]:
        json_type = "application/json; charset=utf-8"
        if table == FRONT_PAGE and fault.status == 200 and fault.body is None:
            return 200, self.front_page or b"", "text/html; charset=utf-8"
        if fault.body is not None:
            raw = fault.body.encode("utf-8") if isinstance(fault.body, str) else fault.body
            return fault.status, raw, fault.content_type or "text/html; charset=utf-8"
        if fault.json is not _UNSET:
            return fault.status, _json_bytes(fault.json), json_type
        if fault.status != 200:
            return fault.status, _json_bytes({"error": HTTPStatus(fault.status).phrase}), json_type
        return 200, self._page(table, page or 1, limit or self.default_limit), json_type

    def _page(self, table: str, page: int, limit: int) -> bytes:
        return _json_bytes({table: page_of(self.tables.get(table, []), page, limit)})


def _load_tables(snapshot: Path | None, scale: float, seed: int) -> dict[str, list[dict[str, Any]]]:
    from devtools import sample_snapshot

    if snapshot is not None:
        return sample_snapshot.load_snapshot(snapshot)
    return sample_snapshot.generate(scale=scale, seed=seed)


def main(argv: list[str] | None = None) -> None:
    """Serve sample data until interrupted (Ctrl-C or SIGTERM)."""
    parser = argparse.ArgumentParser(description="A local stand-in for the cdr.fyi API.")
    parser.add_argument("--port", type=int, default=8010, help="0 picks a free port")
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--scale", type=float, default=1.0, help="sample data scale")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--snapshot", type=Path, help="serve this .json.gz snapshot instead")
    parser.add_argument("--per-minute", type=int, default=100)
    parser.add_argument("--per-hour", type=int, default=1000)
    parser.add_argument("--window-scale", type=float, default=1.0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    args = parser.parse_args(argv)

    fake = FakeCdrFyi(
        _load_tables(args.snapshot, args.scale, args.seed),
        args.token,
        per_minute=args.per_minute,
        per_hour=args.per_hour,
        window_scale=args.window_scale,
        latency_s=args.latency,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    fake.start(args.port)
    print(f"fake cdr.fyi listening on {fake.base_url}", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
