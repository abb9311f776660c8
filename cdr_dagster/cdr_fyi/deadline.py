"""A total time limit for one HTTP request made with ``requests``.

``requests``' timeout bounds each socket read, not the request: a server that sends one byte a
second never lets a read time out and can keep a pull alive forever. Here a timer cuts the
request at its deadline by shutting its socket down, which makes a read blocked on the slow
server return at once (the status line, the headers or the body, whichever it was reading).

How the socket is found: sessions get :class:`DeadlineAdapter`, whose connections register
their socket with the deadline of the request running in this thread (a context variable) when
they start reading the response.
"""

from __future__ import annotations

import contextvars
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("cdr_fyi_request_deadline", default=None)


class Deadline:
    """Fires once, ``seconds`` after it starts, cutting the socket it watches."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                _cut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            _cut(self._sock)


def _cut(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        # the plain socket's shutdown, also for TLS: the blocked read sees the end of the stream
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


@contextmanager
def request_deadline(seconds: float) -> Iterator[Deadline]:
    """Within the block, a request made through a :class:`DeadlineAdapter` is cut after
    ``seconds``; ``deadline.fired`` then says why it failed."""
    deadline = Deadline(seconds)
    token = _CURRENT.set(deadline)
    deadline._timer.start()
    try:
        yield deadline
    finally:
        deadline._timer.cancel()
        _CURRENT.reset(token)


class _WatchedMixin:
    sock: Any

    def getresponse(self) -> Any:
        deadline = _CURRENT.get()
        if deadline is not None:
            deadline.watch(self.sock)
        return super().getresponse()  # type: ignore[misc]


class _WatchedHTTPConnection(_WatchedMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedMixin, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' HTTP adapter whose connections obey :func:`request_deadline`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def mount_deadline_adapter(session: requests.Session) -> None:
    """Make every plain http(s) request of ``session`` obey :func:`request_deadline` (an adapter
    mounted for a longer prefix, such as the bundled sample's, still wins for its URLs)."""
    session.mount("http://", DeadlineAdapter())
    session.mount("https://", DeadlineAdapter())
