"""Where the total dollars spent on CDR comes from: today, a scrape of cdr.fyi's front page.

cdr.fyi has no endpoint for this figure yet (it uses private prices; a ``/metrics`` endpoint is
planned). The ``dollars_spent`` asset only asks a resource for ``total_dollars_spent()``, so when
the endpoint ships, a new resource with that one method replaces this one and nothing downstream
changes.
"""

from __future__ import annotations

import time

import dagster as dg
import requests
import urllib3
from pydantic import Field

from cdr_dagster.cdr_fyi.http import TooLarge, TooSlow, read_body, retrying_session
from cdr_dagster.cdr_fyi.sample import SampleFrontPageAdapter
from cdr_dagster.domain.transforms.dollars_spent import extract_dollars_spent

DEFAULT_SITE_URL = "https://www.cdr.fyi/"
USER_AGENT = "cdr-dashboard-pipeline (+https://www.deepskyclimate.com)"


class DollarsSpentSource(dg.ConfigurableResource):
    """Anything that can tell the total dollars spent on durable CDR, in USD."""

    def total_dollars_spent(self) -> float:
        raise NotImplementedError

    @property
    def source(self) -> str:
        return "live"

    def describe(self) -> str:
        raise NotImplementedError


class CdrFyiSite(DollarsSpentSource):
    """Scrapes the "spent on CO2 removal" figure from cdr.fyi's front page (requests and
    BeautifulSoup). With ``use_sample`` it reads a bundled copy of the page instead. Retries and
    the total time limit work as for the API (cdr_dagster/cdr_fyi/http.py)."""

    url: str = Field(default=DEFAULT_SITE_URL, description="The page, CDR_FYI_SITE_URL.")
    use_sample: bool = Field(default=False, description="Read the bundled sample page.")
    max_attempts: int = Field(default=3, description="Tries, the first included (429, 5xx, network).")
    timeout_seconds: float = Field(default=30.0, description="Read timeout (each read of the request).")
    request_seconds: float = Field(default=60.0, description="Total time limit of the request (a slow server is cut).")
    max_response_bytes: int = Field(default=5_000_000, description="Largest page accepted (5 MB).")

    @property
    def source(self) -> str:
        return "sample" if self.use_sample else "live"

    def describe(self) -> str:
        return f"{self.url} ({self.source})"

    def fetch_html(self) -> str:
        """The page's HTML. A passing fault (network, 5xx, 429, too slow) that outlasts the
        session's retries fails so that the step's retry policy tries again; any other answer
        will recur until someone looks, so it is not retried."""
        session = retrying_session(self.max_attempts, backoff_seconds=1.0, max_wait_seconds=30.0)
        if self.use_sample:
            session.mount(self.url, SampleFrontPageAdapter())
        started = time.monotonic()
        with session:
            try:
                with session.get(
                    self.url, headers={"User-Agent": USER_AGENT}, timeout=self.timeout_seconds, stream=True
                ) as response:
                    body = read_body(
                        response, started=started, limit_seconds=self.request_seconds, max_bytes=self.max_response_bytes
                    )
            except TooSlow:
                raise dg.Failure(f"{self.url} took longer than {self.request_seconds:g}s (the limit for one request)") from None
            except TooLarge:
                message = f"{self.url} is larger than {self.max_response_bytes:,} bytes (the cap): nothing scraped"
                raise dg.Failure(message, allow_retries=False) from None
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
                raise dg.Failure(f"could not fetch {self.url}: {type(error).__name__}") from None
        if response.status_code != 200:
            # 5xx and 429 may pass; any other answer will recur until someone looks
            passing = response.status_code >= 500 or response.status_code == 429
            raise dg.Failure(f"{self.url} answered HTTP {response.status_code}; nothing scraped", allow_retries=passing)
        return body.decode(response.encoding or "utf-8", errors="replace")

    def total_dollars_spent(self) -> float:
        return extract_dollars_spent(self.fetch_html(), self.url)
