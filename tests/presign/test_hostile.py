"""Hostile requests: each is refused with its exact status and message, and never gets a URL.

Every case runs against the standard bucket, which really holds
raw/ccn_companies.csv and staging/orders_for_viz.csv: a refusal is the rule, not a missing file.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from presign_lambda.handler import handler
from tests.presign.builders import Publisher, body, rest_event

NOT_ALLOWED = (
    "key not allowed: expected processed/<dataset>* (or <dataset>_*), "
    "processed/<dataset>_YYYYMMDD[_<n>].csv, processed/manifest.json, "
    "viz/<file>.js|.css or viz/v<digits>/<file>.js|.css"
)
ENCODED = "key must not be URL-encoded twice"
DOTS = "key must not contain '..'"
ABSOLUTE = "key must be a relative key, not a URL or absolute path"
CONTROL = "key contains control characters"
MISSING = "missing key parameter"
TOO_LONG = "key longer than 200 characters"
METHOD = "method not allowed"
ORIGIN = "origin not allowed"
BUCKET_PARAM = "the bucket parameter is not accepted"


class Case(NamedTuple):
    id: str
    query: str  # the raw query string, as the client sent it
    status: int
    error: str
    method: str = "GET"
    origin: str | None = None
    path: str = "/presigned-url"


CASES = [
    # Other prefixes
    Case("raw-ccn", "key=raw/ccn_companies.csv", 400, NOT_ALLOWED),
    Case("raw-pattern", "key=raw/ccn_companies*", 400, NOT_ALLOWED),
    Case("staging-file", "key=staging/orders_for_viz.csv", 400, NOT_ALLOWED),
    Case("staging-pattern", "key=staging/orders_for_viz*", 400, NOT_ALLOWED),
    Case("other-prefix", "key=secrets/credentials.json", 400, NOT_ALLOWED),
    Case("processed-star", "key=processed/*", 400, NOT_ALLOWED),
    Case("bare-star", "key=*", 400, NOT_ALLOWED),
    Case("uppercase-prefix", "key=PROCESSED/orders_for_viz*", 400, NOT_ALLOWED),
    Case("undated-csv", "key=processed/orders_for_viz.csv", 400, NOT_ALLOWED),
    Case("manifest-backup", "key=processed/manifest.json.bak", 400, NOT_ALLOWED),
    Case("viz-html", "key=viz/chart_templates.html", 400, NOT_ALLOWED),
    Case("viz-subfolder", "key=viz/lib/chart.js", 400, NOT_ALLOWED),
    Case("fullwidth-letter", "key=processed/%EF%BD%8Frders_for_viz*", 400, NOT_ALLOWED),
    Case("space-suffix", "key=processed/orders_for_viz*+", 400, NOT_ALLOWED),
    Case("comma-list", "key=processed/orders_for_viz*,raw/ccn_companies.csv", 400, NOT_ALLOWED),
    # The "_*" pattern spelling and same-day version suffix (D3) loosen nothing else
    Case("double-underscore-star", "key=processed/latest_deals__*", 400, NOT_ALLOWED),
    Case("double-underscore-star-no-prefix", "key=latest_deals__*", 400, NOT_ALLOWED),
    Case("underscore-star", "key=_*", 400, NOT_ALLOWED),
    Case("processed-underscore-star", "key=processed/_*", 400, NOT_ALLOWED),
    Case("star-underscore", "key=processed/latest_deals*_", 400, NOT_ALLOWED),
    Case("two-stars", "key=processed/latest_deals_**", 400, NOT_ALLOWED),
    Case("underscore-star-junk", "key=processed/latest_deals_*.csv", 400, NOT_ALLOWED),
    Case("leading-underscore-dataset", "key=processed/_latest_deals*", 400, NOT_ALLOWED),
    Case("version-seq-0", "key=processed/orders_for_viz_20260105_0.csv", 400, NOT_ALLOWED),
    Case("version-seq-1", "key=processed/orders_for_viz_20260105_1.csv", 400, NOT_ALLOWED),
    Case("version-seq-leading-zero", "key=processed/orders_for_viz_20260105_02.csv", 400, NOT_ALLOWED),
    Case("version-seq-1000", "key=processed/orders_for_viz_20260105_1000.csv", 400, NOT_ALLOWED),
    Case("version-seq-negative", "key=processed/orders_for_viz_20260105_-2.csv", 400, NOT_ALLOWED),
    Case("version-seq-letters", "key=processed/orders_for_viz_20260105_b.csv", 400, NOT_ALLOWED),
    Case("version-seq-empty", "key=processed/orders_for_viz_20260105_.csv", 400, NOT_ALLOWED),
    Case("version-two-seqs", "key=processed/orders_for_viz_20260105_2_3.csv", 400, NOT_ALLOWED),
    Case("version-seq-trailing-junk", "key=processed/orders_for_viz_20260105_2.csv.bak", 400, NOT_ALLOWED),
    Case("version-seq-star", "key=processed/orders_for_viz_20260105_*", 400, NOT_ALLOWED),
    Case("version-seq-no-prefix", "key=orders_for_viz_20260105_2.csv", 400, NOT_ALLOWED),
    Case("version-seq-dotdot", "key=processed/orders_for_viz_20260105_2..csv", 400, DOTS),
    Case("version-seq-traversal", "key=processed/orders_for_viz_20260105_2.csv/../../raw/a.csv", 400, DOTS),
    Case("version-short-date", "key=processed/orders_for_viz_2026015_2.csv", 400, NOT_ALLOWED),
    # Manifest archive copies (D4) are never presigned
    Case("manifest-archive", "key=processed/manifests/20261127T235900Z.json", 400, NOT_ALLOWED),
    Case("manifest-archive-pattern", "key=processed/manifests/*", 400, NOT_ALLOWED),
    Case("manifest-archive-as-dataset", "key=processed/manifests*", 404, "unknown dataset"),
    Case("manifest-pattern", "key=processed/manifest*", 404, "unknown dataset"),
    # viz/ accepts one version folder viz/v<digits>/ and nothing deeper (D1)
    Case("viz-v2-dotdot", "key=viz/v2/../x.js", 400, DOTS),
    Case("viz-v2-nested", "key=viz/v2/a/b.js", 400, NOT_ALLOWED),
    Case("viz-other-folder", "key=viz/x/y.js", 400, NOT_ALLOWED),
    Case("viz-v-without-digits", "key=viz/v/y.js", 400, NOT_ALLOWED),
    Case("viz-v2-html", "key=viz/v2/index.html", 400, NOT_ALLOWED),
    Case("viz-v2-folder-only", "key=viz/v2/", 400, NOT_ALLOWED),
    Case("viz-v2-dot-js", "key=viz/v2/.js", 400, NOT_ALLOWED),
    Case("viz-uppercase-v", "key=viz/V2/chart_templates.js", 400, NOT_ALLOWED),
    Case("viz-v2x", "key=viz/v2x/chart_templates.js", 400, NOT_ALLOWED),
    Case("viz-v2-double-slash", "key=viz/v2//chart_templates.js", 400, "key must not contain '//'"),
    Case("viz-v2-encoded-slash-traversal", "key=viz/v2%2F..%2Fx.js", 400, DOTS),
    Case("viz-v2-trailing-junk", "key=viz/v2/chart_templates.js.map", 400, NOT_ALLOWED),
    Case("viz-v2-raw", "key=viz/v2/raw/ccn_companies.js", 400, NOT_ALLOWED),
    # Traversal, plain and encoded
    Case("dotdot", "key=processed/../raw/ccn_companies.csv", 400, DOTS),
    Case("viz-dotdot", "key=viz/../raw/ccn_companies.js", 400, DOTS),
    Case("encoded-dots", "key=processed/%2e%2e/raw/ccn_companies.csv", 400, DOTS),
    Case("encoded-slashes", "key=processed%2f..%2fraw%2fccn_companies.csv", 400, DOTS),
    Case("double-encoded-dots", "key=processed/%252e%252e/raw/ccn_companies.csv", 400, ENCODED),
    Case("double-encoded-slash", "key=raw%252fccn_companies.csv", 400, ENCODED),
    Case("overlong-utf8-dots", "key=processed/%C0%AE%C0%AE/raw/ccn_companies.csv", 400, NOT_ALLOWED),
    Case("double-slash", "key=processed//orders_for_viz*", 400, "key must not contain '//'"),
    Case("backslash", "key=processed%5C..%5Craw%5Cccn_companies.csv", 400, "key must not contain backslashes"),
    Case("leading-slash", "key=/processed/orders_for_viz*", 400, ABSOLUTE),
    Case("absolute-url", "key=https%3A%2F%2Fevil.example%2Fprocessed%2Forders_for_viz_20261127.csv", 400, ABSOLUTE),
    Case("s3-url-other-bucket", "key=s3://other-bucket/processed/orders_for_viz*", 400, ABSOLUTE),
    # Control characters and size
    Case("nul", "key=processed/orders_for_viz_20261127.csv%00.js", 400, CONTROL),
    Case("crlf", "key=processed/orders_for_viz*%0D%0AX-Injected:%201", 400, CONTROL),
    Case("tab", "key=viz/chart_templates%09.js", 400, CONTROL),
    Case("long-key", "key=processed/" + "a" * 190 + "*", 400, TOO_LONG),
    Case("huge-key", "key=" + "viz/" + "a" * 20_000 + ".js", 400, TOO_LONG),
    # Parameters
    Case("no-query", "", 400, MISSING),
    Case("empty-key", "key=", 400, MISSING),
    Case("wrong-name", "file=processed/orders_for_viz*", 400, MISSING),
    Case("key-twice", "key=processed/orders_for_viz*&key=raw/ccn_companies.csv", 400, "key given more than once"),
    Case("bucket-param", "key=processed/orders_for_viz*&bucket=other-bucket", 400, BUCKET_PARAM),
    Case("bucket-param-raw", "bucket=cdr-dashboard-test&key=raw/ccn_companies.csv", 400, BUCKET_PARAM),
    Case("bucket-param-empty", "key=viz/chart_templates.js&bucket=", 400, BUCKET_PARAM),
    # Unknown datasets and versions
    Case("unknown-dataset", "key=processed/unknown_dataset*", 404, "unknown dataset"),
    Case("unknown-dataset-no-prefix", "key=secret_table*", 404, "unknown dataset"),
    Case("unknown-dataset-version", "key=processed/raw_orders_20261127.csv", 404, "unknown dataset"),
    Case("missing-version", "key=processed/orders_for_viz_20250101.csv", 404, "version not published"),
    # #13.11: versions still in the bucket but not the manifest's current one are not handed out
    Case("older-version", "key=processed/orders_for_viz_20261126.csv", 404, "version not published"),
    Case("superseded-same-day", "key=processed/carbon_pricing_20261127.csv", 404, "version not published"),
    Case("unpublished-republish", "key=processed/orders_for_viz_20261127_2.csv", 404, "version not published"),
    Case("impossible-date", "key=processed/orders_for_viz_20261301.csv", 400, "the date in the key is not a real YYYYMMDD date"),
    # Methods and routes
    Case("post", "key=processed/orders_for_viz*", 405, METHOD, method="POST"),
    Case("put", "key=processed/orders_for_viz*", 405, METHOD, method="PUT"),
    Case("delete", "key=processed/orders_for_viz*", 405, METHOD, method="DELETE"),
    Case("patch", "key=processed/orders_for_viz*", 405, METHOD, method="PATCH"),
    Case("head", "key=processed/orders_for_viz*", 405, METHOD, method="HEAD"),
    Case("other-route", "key=processed/orders_for_viz*", 404, "not found", path="/admin"),
    # Origins (exact match only)
    Case("evil-origin", "key=processed/orders_for_viz*", 403, ORIGIN, origin="https://evil.example"),
    Case("suffix-origin", "key=processed/orders_for_viz*", 403, ORIGIN, origin="https://deepskyclimate.com.evil.example"),
    Case("prefix-origin", "key=processed/orders_for_viz*", 403, ORIGIN, origin="https://evil-deepskyclimate.com"),
    Case("http-origin", "key=processed/orders_for_viz*", 403, ORIGIN, origin="http://www.deepskyclimate.com"),
    Case("localhost-not-configured", "key=processed/orders_for_viz*", 403, ORIGIN, origin="http://localhost:8000"),
    Case("null-origin", "key=processed/orders_for_viz*", 403, ORIGIN, origin="null"),
    Case("evil-preflight", "key=processed/orders_for_viz*", 403, ORIGIN, method="OPTIONS", origin="https://evil.example"),
]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_request_is_refused(published: Publisher, case: Case) -> None:
    headers = {"Origin": case.origin} if case.origin else None
    event = rest_event(case.query, method=case.method, headers=headers, path=case.path)
    response = handler(event, None)
    assert (response["statusCode"], body(response)) == (case.status, {"error": case.error})
    assert "url" not in body(response)
    assert "X-Amz" not in response["body"]  # no signature anywhere, not even in an error
    if case.origin:
        assert "Access-Control-Allow-Origin" not in response["headers"]
    if case.status == 405:
        assert response["headers"]["Allow"] == "GET, OPTIONS"
