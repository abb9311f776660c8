"""cdr.fyi's partner API as a Dagster resource: configuration, the shared rate limiter, and the
bundled sample for laptops without a token. The HTTP work is done by cdr_dagster/cdr_fyi/client.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import requests
from pydantic import Field

from cdr_dagster.cdr_fyi.client import (
    DEFAULT_BASE_URL,
    MAX_PAGE_SIZE,
    MAX_RESPONSE_BYTES,
    REQUEST_SECONDS,
    TOKEN_ENV_VAR,
    WINDOW_MARGIN_SECONDS,
    CdrFyiClient,
    TablePull,
)
from cdr_dagster.cdr_fyi.rate_limiter import SlidingWindowLimiter, Window, default_state_dir, private_state_path
from cdr_dagster.cdr_fyi.sample import SAMPLE_TOKEN, SampleCdrFyiAdapter
from cdr_dagster.config import token_problem


class CdrFyiApi(dg.ConfigurableResource):
    """cdr.fyi's partner API (https://docs.cdr.fyi): the marketplaces, orders, purchasers and
    suppliers tables behind the dashboard. With ``use_sample`` it serves the bundled sample
    snapshot through the same client code (paging included), for laptops without a token."""

    base_url: str = Field(default=DEFAULT_BASE_URL, description="API root, CDR_FYI_API_URL.")
    token: str = Field(default="", description="Partner API token, CDR_FYI_API_TOKEN (secret).")
    use_sample: bool = Field(default=False, description="Serve the bundled sample snapshot.")
    page_size: int = Field(default=MAX_PAGE_SIZE, description="x-limit per page (max 100).")
    requests_per_minute: int = Field(default=100, description="cdr.fyi's per-token minute limit.")
    requests_per_hour: int = Field(default=1000, description="cdr.fyi's per-token hour limit.")
    rate_window_scale: float = Field(
        default=1.0, description="Scales the limit windows; < 1 only against a time-compressed fake."
    )
    rate_window_margin_seconds: float = Field(
        default=WINDOW_MARGIN_SECONDS,
        description="Added to each window: covers the delay between counting a request and its arrival.",
    )
    rate_limit_dir: str = Field(
        default="",
        description="Private folder (0700) of the shared limiter state; default: cdr_dagster-<uid> in the temp folder.",
    )
    max_pages: int = Field(default=1000, description="Guard against endless paging.")
    max_attempts: int = Field(default=6, description="Attempts per page, first included.")
    max_retry_seconds: float = Field(default=300.0, description="Time budget for one page's retries.")
    backoff_base_seconds: float = Field(default=1.0, description="First backoff step.")
    timeout_seconds: float = Field(default=60.0, description="Read timeout (each read of one request).")
    request_seconds: float = Field(
        default=REQUEST_SECONDS,
        description="Total time limit of one request, headers and body (a slow server is cut, then retried).",
    )
    max_response_bytes: int = Field(default=MAX_RESPONSE_BYTES, description="Largest answer accepted for one page (10 MB).")

    @property
    def source(self) -> str:
        return "sample" if self.use_sample else "live"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # A missing or malformed token will stay so: one sentence, never retried, never quoted.
        if not self.use_sample and not self.token.strip():
            raise dg.Failure(
                f"{TOKEN_ENV_VAR} is not set: the cdr.fyi pull needs a partner API token (cdr.fyi, Settings > API Access).",
                allow_retries=False,
            )
        if not self.use_sample and (problem := token_problem(self.token)):
            raise dg.Failure(problem, allow_retries=False)

    def _limiter(self, token: str) -> SlidingWindowLimiter:
        scale = self.rate_window_scale
        margin = self.rate_window_margin_seconds
        # One state file per API and token, in this user's private folder, by a salted name.
        directory = Path(self.rate_limit_dir) if self.rate_limit_dir else default_state_dir()
        return SlidingWindowLimiter(
            private_state_path(directory, self.base_url, token),
            [
                Window(self.requests_per_minute, 60.0 * scale + margin),
                Window(self.requests_per_hour, 3600.0 * scale + margin),
            ],
        )

    def client(self, log: Callable[[str], None] = lambda message: None) -> CdrFyiClient:
        session = requests.Session()
        token = self.token.strip()  # a secret stored from a file often ends with a newline
        if self.use_sample:
            token = SAMPLE_TOKEN
            session.mount(self.base_url.rstrip("/") + "/", SampleCdrFyiAdapter(token))
        return CdrFyiClient(
            self.base_url,
            token,
            session=session,
            # the sample is answered in-process: no server and no token quota to protect
            limiter=None if self.use_sample else self._limiter(token),
            source=self.source,
            page_size=self.page_size,
            max_pages=self.max_pages,
            max_attempts=self.max_attempts,
            max_retry_seconds=self.max_retry_seconds,
            backoff_base_seconds=self.backoff_base_seconds,
            timeout_seconds=self.timeout_seconds,
            request_seconds=self.request_seconds,
            max_response_bytes=self.max_response_bytes,
            log=log,
        )

    def fetch_table(self, table: str, log: Callable[[str], None] = lambda message: None) -> TablePull:
        return self.client(log).fetch_table(table)
