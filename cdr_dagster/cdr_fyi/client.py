"""The cdr.fyi partner API client: paging, rate-limited, retrying. Plain Python, no Dagster.

cdr.fyi pages by request headers (``x-page``, ``x-limit``) and sends no total count, so a table is
read page by page until a page comes back empty or shorter than the limit. Every request, retries
included, goes through one rate limiter per token shared by all processes of the machine.

Hostile or broken answers are bounded: each request has a total time limit (deadline.py; a server
dripping one byte a second is cut and retried), a body larger than ``max_response_bytes`` or not
valid UTF-8 fails naming the table and page, and ``Retry-After`` is honoured as seconds or as an
HTTP date. The token is cleaned once (surrounding whitespace stripped, anything else refused) and
no error, log line or retry reason ever carries it or any request header.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import tenacity

from cdr_dagster.cdr_fyi.deadline import mount_deadline_adapter, request_deadline
from cdr_dagster.cdr_fyi.rate_limiter import SlidingWindowLimiter
from cdr_dagster.cdr_fyi.schema import ID_COLUMNS, TABLES

DEFAULT_BASE_URL = "https://api.cdr.fyi/v1"
TOKEN_ENV_VAR = "CDR_FYI_API_TOKEN"
MAX_PAGE_SIZE = 100  # cdr.fyi's documented maximum for x-limit
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Client-side margin on each window: a request is counted here slightly before the server sees
# it, so a window a little longer than the server's keeps the server's count under its limit.
WINDOW_MARGIN_SECONDS = 2.0
# One page of 100 records is tens of kilobytes; 10 MB leaves room for far wider records and
# still stops an endless or hostile body long before it fills the worker's memory.
MAX_RESPONSE_BYTES = 10_000_000
# The whole of one request (headers and body); requests' own timeout is per read only.
REQUEST_SECONDS = 120.0
_CHUNK = 64 * 1024


class CdrFyiApiError(Exception):
    """A pull from cdr.fyi failed; the message names the table and page."""


class CdrFyiAuthError(CdrFyiApiError):
    """cdr.fyi refused the token."""


class CdrFyiTokenError(CdrFyiApiError):
    """The configured token cannot be sent as it is (the message never quotes it)."""


class CdrFyiUnavailable(CdrFyiApiError):
    """A passing fault (network, 5xx, throttling) outlasted this pull's own retries: worth another
    try later, unlike the other errors, which will recur until something is fixed."""


class _RetryableError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
    stripped = token.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in stripped):
        raise CdrFyiTokenError(f"{TOKEN_ENV_VAR} contains a control character inside it: store the token alone, on one line.")
    if any(c.isspace() for c in stripped):
        raise CdrFyiTokenError(f"{TOKEN_ENV_VAR} contains a space inside it: store the token alone, on one line.")
    return stripped


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds to wait: a number of seconds or an HTTP date (a date already
    past is 0); None when absent or unreadable (our own backoff applies)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP dates are GMT
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _WaitRetryAfterOrBackoff(tenacity.wait.wait_base):
    """Honour the server's Retry-After; otherwise exponential backoff with full jitter."""

    def __init__(self, base: float, maximum: float, rng: random.Random) -> None:
        self.base, self.maximum, self.rng = base, maximum, rng

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, _RetryableError) and error.retry_after is not None:
            return min(error.retry_after, self.maximum)
        ceiling = min(self.maximum, self.base * 2 ** (retry_state.attempt_number - 1))
        return self.rng.uniform(ceiling / 2, ceiling)


class CdrFyiClient:
    """Reads whole tables from cdr.fyi. Never puts the token in a message, log or metadata."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        session: requests.Session,
        limiter: SlidingWindowLimiter | None,
        source: str = "live",
        page_size: int = MAX_PAGE_SIZE,
        max_pages: int = 1000,
        max_attempts: int = 6,
        max_retry_seconds: float = 300.0,
        backoff_base_seconds: float = 1.0,
        backoff_max_seconds: float = 60.0,
        timeout_seconds: float = 60.0,
        request_seconds: float = REQUEST_SECONDS,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        self.base_url = base_url.rstrip("/")
        self._token = clean_token(token)
        self.session = session
        mount_deadline_adapter(session)
        self.request_seconds = request_seconds
        self.max_response_bytes = max_response_bytes
        self.limiter = limiter
        self.source = source
        self.page_size = page_size
        self.max_pages = max_pages
        self.max_attempts = max_attempts
        self.max_retry_seconds = max_retry_seconds
        self.timeout = (min(10.0, timeout_seconds), timeout_seconds)
        self._wait = _WaitRetryAfterOrBackoff(backoff_base_seconds, backoff_max_seconds, random.Random())
        self._sleep = sleep
        self._log = log

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def fetch_table(self, table: str) -> TablePull:
        """Every record of ``table``, page by page, until an empty or short page."""
        if table not in TABLES:
            raise ValueError(f"unknown cdr.fyi table {table!r}; expected one of {TABLES}")
        id_column = ID_COLUMNS[table]
        stats = PullStats()
        records: list[dict[str, Any]] = []
        previous_ids: list[Any] | None = None
        for page in range(1, self.max_pages + 1):
            rows = self._fetch_page(table, page, stats)
            stats.pages += 1
            ids = [row.get(id_column) if isinstance(row, dict) else row for row in rows]
            if rows and ids == previous_ids:
                raise CdrFyiApiError(
                    f"cdr.fyi returned the same records for {table} pages {page - 1} and {page}: "
                    "the server seems to ignore the x-page header; stopping instead of paging forever"
                )
            previous_ids = ids
            records.extend(rows)
            if len(rows) < self.page_size:
                self._log(
                    f"{table}: {len(records)} records in {stats.pages} pages, {stats.requests} "
                    f"requests, {stats.retries} retries ({self.source})"
                )
                return TablePull(table, records, stats, self.source)
        raise CdrFyiApiError(
            f"cdr.fyi table {table} still had full pages after {self.max_pages} pages "
            f"({len(records)} records): stopping; raise max_pages if the table really is this large"
        )

    def _fetch_page(self, table: str, page: int, stats: PullStats) -> list[Any]:
        def before_sleep(state: tenacity.RetryCallState) -> None:
            stats.retries += 1
            error = state.outcome.exception() if state.outcome else None
            reason = str(error)
            stats.retry_reasons.append(reason)
            wait = state.next_action.sleep if state.next_action else 0.0
            self._log(f"retrying {table} page {page} in {wait:.1f}s: {reason}")

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_RetryableError),
            stop=tenacity.stop_after_attempt(self.max_attempts) | tenacity.stop_after_delay(self.max_retry_seconds),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=False,
        )
        try:
            return retrying(self._request_page, table, page, stats)
        except tenacity.RetryError as gave_up:
            last = gave_up.last_attempt.exception()
            attempts = gave_up.last_attempt.attempt_number
            raise CdrFyiUnavailable(
                f"cdr.fyi {table} page {page} failed after {attempts} attempts "
                f"(retries bounded by {self.max_attempts} attempts and {self.max_retry_seconds:g}s): "
                f"last error: {last}"
            ) from None

    def _request_page(self, table: str, page: int, stats: PullStats) -> list[Any]:
        if self.limiter is not None:
            stats.rate_limit_wait_seconds += self.limiter.acquire()
        stats.requests += 1
        where = f"{table} page {page}"
        with request_deadline(self.request_seconds) as deadline:
            try:
                response = self.session.get(
                    f"{self.base_url}/{table}",
                    headers={
                        "Authorization": f"Bearer {self._token}",
                        "Accept": "application/json",
                        "x-page": str(page),
                        "x-limit": str(self.page_size),
                    },
                    timeout=self.timeout,
                    stream=True,
                )
                try:
                    data = self._read_body(response, where)
                finally:
                    response.close()
            except (requests.RequestException, OSError) as error:
                if deadline.fired:
                    raise _RetryableError(
                        f"cdr.fyi took longer than {self.request_seconds:g}s (the limit for one request) on {where}"
                    ) from None
                raise self._request_error(error, where) from None
        return self._records(response, data, table, where)

    def _request_error(self, error: BaseException, where: str) -> Exception:
        """A failed request as one sentence that never carries the error's own text: requests
        quotes header values (the Authorization header's too) in some of its errors."""
        if isinstance(error, requests.Timeout):
            return _RetryableError(f"timed out after {self.timeout[1]:g}s on {where}")
        if isinstance(error, requests.ConnectionError):
            return _RetryableError(f"could not connect to {self.base_url} for {where}: {type(error).__name__}")
        return CdrFyiApiError(f"the request to cdr.fyi for {where} failed ({type(error).__name__})")

    def _too_large(self, where: str) -> CdrFyiApiError:
        return CdrFyiApiError(
            f"cdr.fyi's answer on {where} is larger than {self.max_response_bytes:,} bytes (the cap, max_response_bytes): refused"
        )

    def _read_body(self, response: requests.Response, where: str) -> bytes:
        """The body, read in chunks and counted: over the cap fails (whatever Content-Length says)."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise self._too_large(where)
        if response.raw is None:  # an adapter that answers in memory (the bundled sample)
            chunks: Any = [response.content]
        else:
            chunks = response.iter_content(_CHUNK)
        body = bytearray()
        for chunk in chunks:
            body += chunk
            if len(body) > self.max_response_bytes:
                raise self._too_large(where)
        return bytes(body)

    def _records(self, response: requests.Response, data: bytes, table: str, where: str) -> list[Any]:
        status = response.status_code
        if status in RETRYABLE_STATUSES:
            raise _RetryableError(
                f"HTTP {status} {response.reason or ''} on {where}".replace("  ", " "),
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status == 401:
            raise CdrFyiAuthError(
                f"cdr.fyi rejected the API token (HTTP 401 Unauthorized) on {where}: set "
                f"{TOKEN_ENV_VAR} to a valid partner API token (cdr.fyi, Settings > API Access)"
            )
        if status != 200:
            detail = self._redact(data[:200].decode("utf-8", errors="replace").strip())
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
            snippet = self._redact(text[:80])
            raise CdrFyiApiError(
                f"cdr.fyi sent a body that is not JSON on {where} "
                f"(Content-Type {response.headers.get('Content-Type')!r}, starts {snippet!r})"
            ) from None
        if not isinstance(body, dict) or table not in body:
            keys = sorted(body) if isinstance(body, dict) else type(body).__name__
            raise CdrFyiApiError(f"cdr.fyi's answer on {where} lacks the {table!r} key (found {keys})")
        rows = body[table]
        if not isinstance(rows, list):
            raise CdrFyiApiError(f"cdr.fyi's {table!r} on {where} is a {type(rows).__name__}, not a list of records")
        return rows
