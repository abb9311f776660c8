"""The dollars-spent scrape against saved variants of cdr.fyi's front page, served from localhost."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from cdr_dagster.assets.datasets.assets import dollars_spent
from cdr_dagster.domain.transforms.dollars_spent import DollarsSpentError
from cdr_dagster.resources.cdr_fyi_site import CdrFyiSite
from cdr_dagster.resources.csv_io_manager import CsvIOManager
from cdr_dagster.resources.storage import LocalStorage
from devtools.static_site import serving

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "cdr_fyi_pages"


@pytest.fixture(scope="module")
def site():
    pages = {f"/{p.stem}": (200, p.read_bytes()) for p in PAGES.glob("*.html")}
    pages["/broken"] = (500, b"<h1>Internal Server Error</h1>")
    with serving(pages) as server:
        yield server


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("current", 1_234_567_890.0),  # "$1,234,567,890"
        ("abbreviated", 2_100_000_000.0),  # "$2.1B"
        ("extra_headings", 3_456_789_012.0),  # the right h3 comes after other text-primary ones
    ],
)
def test_scrapes_the_figure_from_each_markup(site, page: str, expected: float) -> None:
    assert CdrFyiSite(url=site.url(f"/{page}")).total_dollars_spent() == expected


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("redesigned", r"spent on CO2 removal"),
        ("non_numeric", r"\$—"),
        ("zero", r"\$0"),
    ],
)
def test_a_changed_page_fails_saying_what_it_looked_for_and_found(site, page: str, message: str) -> None:
    with pytest.raises(DollarsSpentError, match=message) as error:
        CdrFyiSite(url=site.url(f"/{page}")).total_dollars_spent()
    assert site.url(f"/{page}") in str(error.value)


def test_an_http_error_fails_naming_the_page(site) -> None:
    with pytest.raises(dg.Failure, match=r"/broken answered HTTP 500"):
        CdrFyiSite(url=site.url("/broken")).total_dollars_spent()


def test_the_asset_publishes_nothing_when_the_scrape_fails(site, tmp_path: Path) -> None:
    storage = LocalStorage(base_dir=str(tmp_path))
    resources = {"io_manager": CsvIOManager(storage=storage), "dollars_spent_source": CdrFyiSite(url=site.url("/redesigned"))}
    result = dg.materialize([dollars_spent], resources=resources, raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "dollars_spent not published" in failure.message and "spent on CO2 removal" in failure.message
    assert not any(tmp_path.rglob("*.csv"))

    resources["dollars_spent_source"] = CdrFyiSite(url=site.url("/current"))
    assert dg.materialize([dollars_spent], resources=resources).success
    [written] = list(tmp_path.rglob("dollars_spent_*.csv"))
    assert written.read_text() == "metric,value\ndollars_spent,1234567890.0\n"
