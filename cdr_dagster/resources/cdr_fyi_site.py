"""Where the total dollars spent on CDR comes from: today, a scrape of cdr.fyi's front page.

cdr.fyi has no endpoint for this figure yet (it uses private prices; a ``/metrics`` endpoint is
planned). The ``dollars_spent`` asset only asks a resource for ``total_dollars_spent()``, so when
the endpoint ships, a new resource with that one method replaces this one and nothing downstream
changes.
"""

from __future__ import annotations

import dagster as dg
import requests
from pydantic import Field

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
    BeautifulSoup). With ``use_sample`` it reads a bundled copy of the page instead."""

    url: str = Field(default=DEFAULT_SITE_URL, description="The page, CDR_FYI_SITE_URL.")
    use_sample: bool = Field(default=False, description="Read the bundled sample page.")
    timeout_seconds: float = Field(default=30.0, description="Timeout for the page request.")

    @property
    def source(self) -> str:
        return "sample" if self.use_sample else "live"

    def describe(self) -> str:
        return f"{self.url} ({self.source})"

    def fetch_html(self) -> str:
        session = requests.Session()
        if self.use_sample:
            session.mount(self.url, SampleFrontPageAdapter())
        try:
            response = session.get(self.url, headers={"User-Agent": USER_AGENT}, timeout=self.timeout_seconds)
        except requests.RequestException as error:  # a passing fault: the step is retried
            raise dg.Failure(f"could not fetch {self.url}: {type(error).__name__}") from None
        if response.status_code != 200:
            # 5xx and 429 may pass; any other answer will recur until someone looks
            passing = response.status_code >= 500 or response.status_code == 429
            raise dg.Failure(f"{self.url} answered HTTP {response.status_code}; nothing scraped", allow_retries=passing)
        return response.text

    def total_dollars_spent(self) -> float:
        return extract_dollars_spent(self.fetch_html(), self.url)
