"""cdr.fyi's partner API as a Dagster resource: its settings (each declared here only), paging
through a table, and the bundled sample for laptops without a token.

cdr.fyi pages by request headers (``x-page``, ``x-limit``) and sends no total count, so a table is
read page by page until a page comes back empty or shorter than the limit. The pieces without
Dagster (what an answer means, the token rule, the rate limiter, retries and the time limit of a
request) are in cdr_dagster/cdr_fyi/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import dagster as dg
import requests
import urllib3
from pydantic import Field, PrivateAttr

from cdr_dagster.cdr_fyi.client import (
    DEFAULT_BASE_URL,
    CdrFyiApiError,
    CdrFyiUnavailable,
    PullStats,
    RateLimiter,
    TablePull,
    clean_token,
    page_records,
)
from cdr_dagster.cdr_fyi.http import RETRY_STATUSES, TooLarge, TooSlow, read_body, retried, retrying_session
from cdr_dagster.cdr_fyi.sample import SAMPLE_TOKEN, SampleCdrFyiAdapter
from cdr_dagster.cdr_fyi.schema import ID_COLUMNS, MAX_PAGE_SIZE, TABLES
from cdr_dagster.config import TOKEN_MISSING, token_problem

__all__ = ["DEFAULT_BASE_URL", "CdrFyiApi"]


class CdrFyiApi(dg.ConfigurableResource):
    """cdr.fyi's partner API (https://docs.cdr.fyi): the marketplaces, orders, purchasers and
    suppliers tables behind the dashboard. With ``use_sample`` it serves the bundled sample
    snapshot through the same code (paging included), for laptops without a token."""

    base_url: str = Field(default=DEFAULT_BASE_URL, description="API root, CDR_FYI_API_URL.")
    token: str = Field(default="", description="Partner API token, CDR_FYI_API_TOKEN (secret).")
    use_sample: bool = Field(default=False, description="Serve the bundled sample snapshot.")
    page_size: int = Field(default=MAX_PAGE_SIZE, description=f"x-limit per page (at most {MAX_PAGE_SIZE}).")
    requests_per_minute: int = Field(default=100, description="cdr.fyi's per-token minute limit.")
    requests_per_hour: int = Field(default=1000, description="cdr.fyi's per-token hour limit.")
    rate_window_scale: float = Field(
        default=1.0, description="Scales the limit windows; < 1 only against a time-compressed fake."
    )
    max_pages: int = Field(default=1000, description="Guard against endless paging.")
    max_attempts: int = Field(default=6, description="Tries per page, the first included (429, 5xx, network).")
    backoff_seconds: float = Field(default=1.0, description="Backoff factor between tries (exponential, jittered).")
    max_wait_seconds: float = Field(default=60.0, description="Longest wait between tries, Retry-After included.")
    timeout_seconds: float = Field(default=60.0, description="Read timeout (each read of one request).")
    request_seconds: float = Field(
        default=120.0, description="Total time limit of one request, headers and body (a slow server is cut)."
    )
    max_response_bytes: int = Field(default=10_000_000, description="Largest answer accepted for one page (10 MB).")

    # one per resource instance: the steps of an in-process run share it
    _limiter: RateLimiter | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        return "sample" if self.use_sample else "live"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # A missing or malformed token will stay so: one sentence, never retried, never quoted.
        if not self.use_sample and not self.token.strip():
            raise dg.Failure(TOKEN_MISSING, allow_retries=False)
        if not self.use_sample and (problem := token_problem(self.token)):
            raise dg.Failure(problem, allow_retries=False)

    def _rate_limiter(self) -> RateLimiter:
        if self._limiter is None:
            scale = self.rate_window_scale
            self._limiter = RateLimiter([(self.requests_per_minute, 60.0 * scale), (self.requests_per_hour, 3600.0 * scale)])
        return self._limiter

    def fetch_table(self, table: str, log: Callable[[str], None] = lambda message: None) -> TablePull:
        """Every record of ``table``, page by page, until an empty or short page."""
        if table not in TABLES:
            raise ValueError(f"unknown cdr.fyi table {table!r}; expected one of {TABLES}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {self.page_size}")
        token = SAMPLE_TOKEN if self.use_sample else clean_token(self.token)
        session = retrying_session(self.max_attempts, self.backoff_seconds, self.max_wait_seconds)
        if self.use_sample:
            session.mount(self.base_url.rstrip("/") + "/", SampleCdrFyiAdapter(token))
        # the sample is answered in-process: no server and no token quota to protect
        limiter = None if self.use_sample else self._rate_limiter()
        id_column = ID_COLUMNS[table]
        stats = PullStats()
        records: list[dict[str, Any]] = []
        previous_ids: list[Any] | None = None
        with session:
            for page in range(1, self.max_pages + 1):
                rows = self._fetch_page(session, token, limiter, table, page, stats, log)
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
                    log(
                        f"{table}: {len(records)} records in {stats.pages} pages, {stats.requests} "
                        f"requests, {stats.retries} retries ({self.source})"
                    )
                    return TablePull(table, records, stats, self.source)
        raise CdrFyiApiError(
            f"cdr.fyi table {table} still had full pages after {self.max_pages} pages "
            f"({len(records)} records): stopping; raise max_pages if the table really is this large"
        )

    def _fetch_page(
        self,
        session: requests.Session,
        token: str,
        limiter: RateLimiter | None,
        table: str,
        page: int,
        stats: PullStats,
        log: Callable[[str], None],
    ) -> list[Any]:
        where = f"{table} page {page}"
        if limiter is not None:
            stats.rate_limit_wait_seconds += limiter.wait()
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "x-page": str(page),
            "x-limit": str(self.page_size),
        }
        started = time.monotonic()
        try:
            response = session.get(
                f"{self.base_url.rstrip('/')}/{table}",
                headers=headers,
                timeout=(min(10.0, self.timeout_seconds), self.timeout_seconds),
                stream=True,
            )
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            if limiter is not None:
                limiter.done()
            raise self._request_error(error, where) from None
        with response:
            reasons = retried(response)
            if limiter is not None:
                limiter.done(1 + len(reasons))
            stats.requests += 1 + len(reasons)
            stats.retries += len(reasons)
            for reason in reasons:
                stats.retry_reasons.append(f"{reason} on {where}")
                log(f"retried {where} after {reason}")
            try:
                data = read_body(response, started=started, limit_seconds=self.request_seconds, max_bytes=self.max_response_bytes)
            except TooSlow:
                raise CdrFyiUnavailable(
                    f"cdr.fyi took longer than {self.request_seconds:g}s (the limit for one request) on {where}"
                ) from None
            except TooLarge:
                raise CdrFyiApiError(
                    f"cdr.fyi's answer on {where} is larger than {self.max_response_bytes:,} bytes (the cap, max_response_bytes): refused"
                ) from None
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
                raise CdrFyiUnavailable(f"cdr.fyi's answer on {where} broke off ({type(error).__name__})") from None

        if response.status_code in RETRY_STATUSES:  # still failing after the session's retries
            raise CdrFyiUnavailable(
                f"cdr.fyi answered HTTP {response.status_code} {response.reason or ''} on {where}, "
                f"after {1 + len(reasons)} attempts".replace("  ", " ")
            )

        def redact(text: str) -> str:
            return text.replace(token, "***") if token else text

        return page_records(response.status_code, response.headers.get("Content-Type"), data, table, where, redact)

    def _request_error(self, error: BaseException, where: str) -> CdrFyiApiError:
        """A failed request as one sentence that never carries the error's own text: requests
        quotes header values (the Authorization header's too) in some of its errors."""
        cause = error.args[0].reason if error.args and isinstance(error.args[0], urllib3.exceptions.MaxRetryError) else error
        tries = f"after {self.max_attempts} attempts"
        if isinstance(cause, requests.ReadTimeout | urllib3.exceptions.ReadTimeoutError):
            return CdrFyiUnavailable(f"cdr.fyi did not answer within {self.timeout_seconds:g}s on {where}, {tries}")
        if isinstance(error, requests.ConnectionError):
            return CdrFyiUnavailable(f"could not connect to {self.base_url} for {where}, {tries}: {type(cause).__name__}")
        return CdrFyiApiError(f"the request to cdr.fyi for {where} failed ({type(error).__name__})")
