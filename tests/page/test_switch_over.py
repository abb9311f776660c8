"""The switch-over from today's live embed to this project's, in Chromium, against one bucket.

The bucket holds both codes: a stand-in for today's old chart code at viz/chart_templates.js (our
own small script, tests/fixtures/page/old_code/, not the live file) and this project's code under
viz/v2/. Each embed must get its own code, at every moment: backend live with the old embed, new
embed pasted, old embed pasted back.
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from devtools.stack import upload
from tests.page.fault_proxy import FaultProxy
from tests.page.helpers import CHARTS, EN_HOST, FIXTURES, SETTLE_TIMEOUT_MS, STATS

pytestmark = pytest.mark.browser

OLD_CODE = FIXTURES / "old_code"
# what the new embed's loader asks for after chart_templates.js: the rest of the page code
CODE_KEYS = (
    "viz/v2/chart.umd.min.js",
    "viz/v2/chart_templates.css",
    "viz/v2/cdr_format.js",
    "viz/v2/cdr_csv.js",
    "viz/v2/cdr_charts.js",
    "viz/v2/cdr_page.js",
)
DATASETS = ("orders_for_viz", "purchasers_for_viz", "latest_deals", "dollars_spent", "ccn_data", "carbon_pricing")


@pytest.fixture
def old_code_in_bucket(stack):
    upload(stack.client(), stack.bucket, {"viz/chart_templates.js": OLD_CODE / "chart_templates.js"})
    yield
    stack.client().delete_object(Bucket=stack.bucket, Key="viz/chart_templates.js")


def _open_old_embed(stack, browser):
    """Today's page: the old embed, served by the page server under the page's real origin."""
    context = browser.new_context()
    page = context.new_page()
    seen: list[str] = []
    page.on("console", lambda m: seen.append(f"console {m.type}: {m.text}"))
    page.on("response", lambda r: seen.append(f"{r.status} {r.url[:120]}"))
    stack.page.extra_pages["/old.html"] = (OLD_CODE / "old_embed.html").read_text()
    page.goto(f"{stack.origin(EN_HOST)}/old.html")
    try:
        page.locator("html[data-old-code='done'], html[data-old-code^='failed']").wait_for(
            state="attached", timeout=SETTLE_TIMEOUT_MS
        )
    except Exception:
        raise AssertionError("\n".join(seen)) from None
    assert page.get_attribute("html", "data-old-code") == "done"
    return context, page


def test_each_embed_runs_its_own_code_from_one_bucket(stack, browser, open_page, old_code_in_bucket):
    # backend live, Webflow untouched: the old embed runs the old code, and its ticker key works
    context, old = _open_old_embed(stack, browser)
    try:
        assert old.text_content("#dealsTickerContainer") == "11 deals"  # latest_deals has 11 rows
        assert old.evaluate("typeof window.CDRDashboard") == "undefined"
    finally:
        context.close()

    # new embed pasted: the new code from viz/v2/, every component drawn, the old code untouched
    opened = open_page(EN_HOST)
    page = opened.page
    assert page.get_attribute("html", "data-old-code") is None
    for element_id in (
        "cdr-chart-orders",
        "cdr-chart-purchasers",
        "cdr-chart-companies",
        "carbon-pricing-chart",
        "cdr-stat-spent",
        "cdr-ticker",
    ):
        assert page.get_attribute(f"#{element_id}", "data-state") == "ready", element_id
    for carbon_stat in (".carbon-pricing-countries", ".carbon-pricing-emissions-covered"):
        assert page.get_attribute(carbon_stat, "data-state") == "ready", carbon_stat
    code_keys = [url for _, url in opened.responses if "/viz/" in url and stack.s3.endpoint_url in url]
    assert code_keys and all("/viz/v2/" in url for url in code_keys)
    assert opened.console_errors == []

    # roll-back: the old embed pasted again still finds its code, byte for byte as it was
    context, old = _open_old_embed(stack, browser)
    try:
        assert old.text_content("#dealsTickerContainer") == "11 deals"
    finally:
        context.close()
    stored = stack.client().get_object(Bucket=stack.bucket, Key="viz/chart_templates.js")["Body"].read()
    assert stored == (OLD_CODE / "chart_templates.js").read_bytes()


def test_a_page_load_asks_the_presign_api_three_times(open_page, stack):
    opened = open_page(EN_HOST)
    calls = [url for _, url in opened.responses if url.startswith(stack.api_base)]
    # the embed's loader, then one batch for the datasets and the manifest, one for the code
    assert len(calls) == 3, calls
    assert sum("/presigned-urls?keys=" in url for url in calls) == 2
    batches = sorted(unquote(url.split("keys=", 1)[1]).split(",") for url in calls if "/presigned-urls?keys=" in url)
    assert batches == sorted(
        [
            [*(f"processed/{d}*" for d in DATASETS), "processed/manifest.json"],
            list(CODE_KEYS),
        ]
    )


@pytest.mark.parametrize("no_batch_route", ["old-lambda", "rest-gateway"])
def test_an_api_without_the_batch_route_is_asked_key_by_key(open_page, stack, no_batch_route):
    # The new embed against an API deployed without the batch route (the old Lambda's 404 with
    # CORS headers, or a REST API gateway's 403 without them): the loader asks each key on the
    # single route, and the page draws everything.
    with FaultProxy(stack.api_base, no_batch_route=no_batch_route) as proxy:
        opened = open_page(EN_HOST, api_base=proxy.url)
    page = opened.page
    assert proxy.batch_refused == 2
    for selector in (*(f"#{c}" for c in CHARTS), *STATS, "#cdr-ticker", "#cdr-last-updated"):
        assert page.get_attribute(selector, "data-state") == "ready", selector
    singles = sorted(
        unquote(url.split("key=", 1)[1]) for status, url in opened.responses if "/presigned-url?key=" in url and status == 200
    )
    # the embed's own call, then the 7 data keys and the 6 code keys one by one
    assert singles == sorted(
        [
            "viz/v2/chart_templates.js",
            *(f"processed/{d}*" for d in DATASETS),
            "processed/manifest.json",
            *CODE_KEYS,
        ]
    )
    assert [e for e in opened.console_errors if e.startswith("pageerror")] == []
