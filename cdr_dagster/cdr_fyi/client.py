"""The cdr.fyi partner API client: paging, rate-limited, retrying. Plain Python, no Dagster.

cdr.fyi pages by request headers (``x-page``, ``x-limit``) and sends no total count, so a table is
read page by page until a page comes back empty or shorter than the limit. Every request, retries
included, goes through one rate limiter per token shared by all processes of the machine.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import tenacity

from cdr_dagster.cdr_fyi.rate_limiter import SlidingWindowLimiter
from cdr_dagster.cdr_fyi.schema import ID_COLUMNS, TABLES

DEFAULT_BASE_URL = "https://api.cdr.fyi/v1"
TOKEN_ENV_VAR = "CDR_FYI_API_TOKEN"
MAX_PAGE_SIZE = 100  # cdr.fyi's documented maximum for x-limit
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Client-side margin on each window: a request is counted here slightly before the server sees
# it, so a window a little longer than the server's keeps the server's count under its limit.
WINDOW_MARGIN_SECONDS = 2.0


class CdrFyiApiError(Exception):
    """A pull from cdr.fyi failed; the message names the table and page."""


class CdrFyiAuthError(CdrFyiApiError):
    """cdr.fyi refused the token."""


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


def _retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare here; fall back to our own backoff


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
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.session = session
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
            )
        except requests.Timeout:
            raise _RetryableError(f"timed out after {self.timeout[1]:g}s on {where}") from None
        except requests.ConnectionError as error:
            raise _RetryableError(f"could not connect to {self.base_url} for {where}: {type(error).__name__}") from None

        status = response.status_code
        if status in RETRYABLE_STATUSES:
            raise _RetryableError(
                f"HTTP {status} {response.reason or ''} on {where}".replace("  ", " "),
                retry_after=_retry_after_seconds(response),
            )
        if status == 401:
            raise CdrFyiAuthError(
                f"cdr.fyi rejected the API token (HTTP 401 Unauthorized) on {where}: set "
                f"{TOKEN_ENV_VAR} to a valid partner API token (cdr.fyi, Settings > API Access)"
            )
        if status != 200:
            detail = self._redact(response.text[:200].strip())
            hint = " (bad request parameters)" if status == 400 else ""
            raise CdrFyiApiError(f"cdr.fyi answered HTTP {status}{hint} on {where}: {detail!r}")
        try:
            body = response.json()
        except ValueError:
            snippet = self._redact(response.text[:80])
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
