"""The cdr.fyi partner API without Dagster: its errors, the token rule, the rate limiter and what
a page's answer means. The resource (resources/cdr_fyi_api.py) pages through a table with these.

No error, log line or retry reason carries the token or any request header: a failed request is
reported by its kind, never by the ``requests`` error's text (which can quote headers).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdr_dagster.config import TOKEN_ENV_VAR, token_problem

DEFAULT_BASE_URL = "https://api.cdr.fyi/v1"


class CdrFyiApiError(Exception):
    """A pull from cdr.fyi failed; the message names the table and page."""


class CdrFyiAuthError(CdrFyiApiError):
    """cdr.fyi refused the token."""


class CdrFyiTokenError(CdrFyiApiError):
    """The configured token cannot be sent as it is (the message never quotes it)."""


class CdrFyiUnavailable(CdrFyiApiError):
    """A passing fault (network, 5xx, throttling, a server too slow) outlasted the client's own
    retries: worth another try later, unlike the other errors, which will recur until something
    is fixed."""


@dataclass
class PullStats:
    pages: int = 0
    requests: int = 0
    retries: int = 0
    rate_limit_wait_seconds: float = 0.0
    retry_reasons: list[str] = field(default_factory=list)


@dataclass
class TablePull:
    table: str
    records: list[dict[str, Any]]
    stats: PullStats
    source: str  # "live" or "sample"


def clean_token(token: str) -> str:
    """The token as it must be sent: surrounding whitespace stripped (a secret stored from a file
    often ends with a newline); a control character or space inside it is refused, naming the
    setting and never the token (requests would otherwise put the header in its error)."""
    if problem := token_problem(token):
        raise CdrFyiTokenError(problem)
    return token.strip()


class RateLimiter:
    """Sliding windows over this process's requests, e.g. at most 100 in any 60 s: before a
    request, :meth:`wait` sleeps until every window has room. A request is counted when it has
    ended (:meth:`done`), which is never before the server saw it, so the server's count in any
    window stays at or under ours with no safety margin. Requests go one at a time: the pulls
    are serialised (the ``cdr_fyi_api`` pool), so nothing is shared between processes."""

    def __init__(
        self,
        windows: Sequence[tuple[int, float]],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.windows = windows  # (requests, seconds)
        self._clock, self._sleep = clock, sleep
        self._ended: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until one more request fits every window; the seconds waited."""
        waited = 0.0
        with self._lock:
            while (pause := self._pause(self._clock())) > 0:
                self._sleep(pause)
                waited += pause
        return waited

    def _pause(self, now: float) -> float:
        longest = max(seconds for _, seconds in self.windows)
        while self._ended and now - self._ended[0] >= longest:
            self._ended.popleft()
        pause = 0.0
        for limit, seconds in self.windows:
            recent = [t for t in self._ended if now - t < seconds]
            if len(recent) >= limit:  # wait for the oldest that must leave the window
                pause = max(pause, recent[-limit] + seconds - now)
        return pause

    def done(self, requests: int = 1) -> None:
        """Count ``requests`` that have just ended (a page and the retries before it)."""
        with self._lock:
            self._ended.extend([self._clock()] * requests)


def page_records(
    status: int, content_type: str | None, data: bytes, table: str, where: str, redact: Callable[[str], str]
) -> list[Any]:
    """The records of one page's answer, or the error it means, naming ``where`` (table and
    page). ``redact`` takes the token out of any quoted server text."""
    if status == 401:
        raise CdrFyiAuthError(
            f"cdr.fyi rejected the API token (HTTP 401 Unauthorized) on {where}: set "
            f"{TOKEN_ENV_VAR} to a valid partner API token (cdr.fyi, Settings > API Access)"
        )
    if status != 200:
        detail = redact(data[:200].decode("utf-8", errors="replace").strip())
        hint = " (bad request parameters)" if status == 400 else ""
        raise CdrFyiApiError(f"cdr.fyi answered HTTP {status}{hint} on {where}: {detail!r}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CdrFyiApiError(
            f"cdr.fyi's answer on {where} is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None
    try:
        body = json.loads(text)
    except ValueError:
        raise CdrFyiApiError(
            f"cdr.fyi sent a body that is not JSON on {where} (Content-Type {content_type!r}, starts {redact(text[:80])!r})"
        ) from None
    if not isinstance(body, dict) or table not in body:
        keys = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise CdrFyiApiError(f"cdr.fyi's answer on {where} lacks the {table!r} key (found {keys})")
    rows = body[table]
    if not isinstance(rows, list):
        raise CdrFyiApiError(f"cdr.fyi's {table!r} on {where} is a {type(rows).__name__}, not a list of records")
    return rows
