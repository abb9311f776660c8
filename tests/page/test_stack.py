"""The local stack behaves like production where the page depends on it: the bucket's CORS
configuration (not a blanket rule of the S3 server) is what lets the page read the files, and the
page's own code is published under viz/v2/ with the right content types."""

from __future__ import annotations

import requests

from devtools.stack import viz_files
from tests.page.helpers import EN_HOST


def presigned(stack, key: str, origin: str) -> str:
    res = requests.get(f"{stack.api_base}/presigned-url", params={"key": key}, headers={"Origin": origin}, timeout=10)
    assert res.status_code == 200, res.text
    assert res.headers["Access-Control-Allow-Origin"] == origin
    return res.json()["url"]


def test_bucket_cors_lets_only_the_page_origins_read(stack):
    page_origin = stack.origin(EN_HOST)
    url = presigned(stack, "processed/orders_for_viz*", page_origin)

    allowed = requests.get(url, headers={"Origin": page_origin}, timeout=10)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == page_origin
    assert allowed.headers["Content-Type"] == "text/csv"
    assert allowed.text.startswith("date,tons_purchased_cum,")

    # S3 still serves the bytes, but without the header a browser will not hand them to a page.
    other = requests.get(url, headers={"Origin": "https://elsewhere.example"}, timeout=10)
    assert other.status_code == 200
    assert "Access-Control-Allow-Origin" not in other.headers


def test_page_code_is_published_under_viz(stack):
    assert sorted(viz_files()) == [
        "viz/v2/cdr_charts.js",
        "viz/v2/cdr_csv.js",
        "viz/v2/cdr_format.js",
        "viz/v2/cdr_page.js",
        "viz/v2/chart.umd.min.js",
        "viz/v2/chart_templates.css",
        "viz/v2/chart_templates.js",
    ]
    origin = stack.origin(EN_HOST)
    js = requests.get(presigned(stack, "viz/v2/chart_templates.js", origin), timeout=10)
    css = requests.get(presigned(stack, "viz/v2/chart_templates.css", origin), timeout=10)
    assert (js.status_code, js.headers["Content-Type"]) == (200, "application/javascript")
    assert (css.status_code, css.headers["Content-Type"]) == (200, "text/css")
