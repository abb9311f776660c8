"""HTTP for cdr.fyi, the partner API and the front page alike: urllib3's ``Retry`` on the
session, and a total time limit for each request.

``requests``' timeout bounds each socket read, not a request: a server that sends one byte a
second never lets a read time out. So bodies are streamed and the loop that reads them checks the
time spent since the request was sent; past the limit the connection is dropped and the request
fails as a passing fault (:class:`TooSlow`), which the step's retry policy tries again later. The
loop reads with ``read1`` (what has arrived, up to a chunk), since ``iter_content`` blocks until a
whole chunk is in. The status line and headers are bounded by the read timeout of each read
(they are small), and the time they took counts against the same limit.
"""

from __future__ import annotations

import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

#: answers worth another try: throttling and a server's passing trouble
RETRY_STATUSES = (429, 500, 502, 503, 504)
_CHUNK = 16 * 1024


class TooSlow(Exception):
    """The whole request took longer than its limit (a server dripping bytes)."""


class TooLarge(Exception):
    """The body is larger than the cap."""


def retrying_session(attempts: int, backoff_seconds: float, max_wait_seconds: float) -> requests.Session:
    """A session that retries GETs on a connection error, a read timeout and the statuses of
    :data:`RETRY_STATUSES`, ``attempts`` tries in all: exponential backoff with jitter, or the
    server's ``Retry-After`` (seconds or an HTTP date), neither longer than ``max_wait_seconds``.
    When the tries run out on a status, that last answer is returned, for the caller to name."""
    retry = Retry(
        total=attempts - 1,
        status_forcelist=RETRY_STATUSES,
        allowed_methods={"GET"},
        backoff_factor=backoff_seconds,
        backoff_jitter=backoff_seconds,
        backoff_max=max_wait_seconds,
        retry_after_max=int(max_wait_seconds),
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def retried(response: requests.Response) -> list[str]:
    """Why urllib3 retried before this answer, one reason per retry ("HTTP 429",
    "ReadTimeoutError"): statuses and error kinds only, never an error's text."""
    history = getattr(getattr(response.raw, "retries", None), "history", ())
    return [f"HTTP {h.status}" if h.status else type(h.error).__name__ for h in history]


def read_body(response: requests.Response, *, started: float, limit_seconds: float, max_bytes: int) -> bytes:
    """The body of a ``stream=True`` response, read in chunks: :class:`TooSlow` once
    ``limit_seconds`` have passed since ``started`` (``time.monotonic()`` when the request was
    sent), :class:`TooLarge` past ``max_bytes`` (whatever Content-Length says)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge
    if response.raw is None:  # an adapter that answers in memory (the bundled sample)
        return response.content
    body = bytearray()
    while True:
        if time.monotonic() - started > limit_seconds:
            raise TooSlow
        chunk = response.raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > max_bytes:
            raise TooLarge
