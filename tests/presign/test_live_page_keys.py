"""Every key the live page sends (today's embed and the new one), answered 200 with a URL that
downloads the right object from moto's S3 server.

The keys are copied from the live page's requests, not derived from the code under test: the deals
ticker asks ``processed/latest_deals_*`` (underscore before the star), the charts ask
``processed/<dataset>*``, and the embeds load ``viz/chart_templates.js`` (today) and
``viz/v2/chart_templates.js`` (new, D1). D3 makes ``<dataset>*`` and ``<dataset>_*``, with or
without ``processed/``, mean the same newest version.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
import requests

from presign_lambda.handler import handler
from tests.presign.builders import BUCKET, Publisher, body, rest_event
from tests.presign.conftest import CHART_JS, CHART_JS_V2, CSV

# Exactly what the live page sends today, and what it gets (the newest published object).
LIVE_PAGE_KEYS: list[tuple[str, str, bytes, str]] = [
    ("processed/orders_for_viz*", "processed/orders_for_viz_20261127.csv", CSV["orders_for_viz"], "text/csv"),
    ("processed/purchasers_for_viz*", "processed/purchasers_for_viz_20261127.csv", CSV["purchasers_for_viz"], "text/csv"),
    ("processed/latest_deals_*", "processed/latest_deals_20261127.csv", CSV["latest_deals"], "text/csv"),
    ("processed/dollars_spent*", "processed/dollars_spent_20261127.csv", CSV["dollars_spent"], "text/csv"),
    ("processed/ccn_data*", "processed/ccn_data_20261127.csv", CSV["ccn_data"], "text/csv"),
    ("processed/carbon_pricing*", "processed/carbon_pricing_20261127_2.csv", CSV["carbon_pricing"], "text/csv"),
    ("viz/chart_templates.js", "viz/chart_templates.js", CHART_JS, "application/javascript"),
    ("viz/v2/chart_templates.js", "viz/v2/chart_templates.js", CHART_JS_V2, "application/javascript"),
]
# The other spelling of each dataset pattern, and both spellings without the prefix.
OTHER_SPELLINGS: list[tuple[str, str]] = [
    (spelling, newest)
    for asked, newest, _, content_type in LIVE_PAGE_KEYS
    if content_type == "text/csv"
    for dataset in [asked.removeprefix("processed/").rstrip("*").rstrip("_")]
    for spelling in (f"processed/{dataset}*", f"processed/{dataset}_*", f"{dataset}*", f"{dataset}_*")
    if spelling != asked
]


def ask(key: str) -> dict:
    # The page builds the query with encodeURIComponent, so '/' and '*' arrive percent-encoded.
    event = rest_event(urlencode({"key": key}), headers={"Origin": "https://www.deepskyclimate.com"})
    return handler(event, None)


def test_the_table_covers_every_dataset_pattern_spelling() -> None:
    assert len(LIVE_PAGE_KEYS) == 8
    assert len(OTHER_SPELLINGS) == 6 * 3
    assert ("processed/latest_deals*", "processed/latest_deals_20261127.csv") in OTHER_SPELLINGS
    assert ("carbon_pricing_*", "processed/carbon_pricing_20261127_2.csv") in OTHER_SPELLINGS


@pytest.mark.parametrize(("key", "newest", "expected", "content_type"), LIVE_PAGE_KEYS, ids=[k[0] for k in LIVE_PAGE_KEYS])
def test_live_page_key_downloads_the_newest_object(
    published: Publisher, key: str, newest: str, expected: bytes, content_type: str
) -> None:
    response = ask(key)
    assert response["statusCode"] == 200, response["body"]
    assert response["headers"]["Access-Control-Allow-Origin"] == "https://www.deepskyclimate.com"
    url = body(response)["url"]
    assert urlsplit(url).path == f"/{BUCKET}/{newest}"
    got = requests.get(url, timeout=10)
    assert got.status_code == 200
    assert (got.content, got.headers["Content-Type"]) == (expected, content_type)


@pytest.mark.parametrize(("key", "newest"), OTHER_SPELLINGS, ids=[k for k, _ in OTHER_SPELLINGS])
def test_every_spelling_gives_the_same_answer(published: Publisher, key: str, newest: str) -> None:
    response = ask(key)
    assert response["statusCode"] == 200, response["body"]
    url = body(response)["url"]
    assert urlsplit(url).path == f"/{BUCKET}/{newest}"
    assert requests.get(url, timeout=10).content == CSV[newest.split("/")[1].rsplit("_2026", 1)[0]]
