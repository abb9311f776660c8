"""D5: ``GET /presigned-urls?keys=k1,k2,...``, every key judged exactly as the single route judges it,
in one call with at most one S3 request."""

from __future__ import annotations

import io
import json
from urllib.parse import quote, urlsplit

import pytest
import requests

from devtools.s3_server import patched_env
from presign_lambda.handler import handler
from presign_lambda.service import PresignService
from tests.presign.builders import BUCKET, Publisher, body, rest_event
from tests.presign.conftest import CHART_CSS_V2, CHART_JS_V2, CSV, NEWEST_KEYS
from tests.presign.test_hostile import NOT_ALLOWED
from tests.presign.test_manifest_cache import count_sends

BATCH = "/presigned-urls"
PAGE = "https://www.deepskyclimate.com"
# What the new page asks in its two batches: its modules, then every dataset and the manifest.
MODULES = ["viz/v2/chart_templates.js", "viz/v2/chart_templates.css"]
DATA = [
    "processed/orders_for_viz*",
    "processed/purchasers_for_viz*",
    "processed/latest_deals_*",
    "processed/dollars_spent*",
    "processed/ccn_data*",
    "processed/carbon_pricing*",
    "processed/manifest.json",
]


def batch(keys: str | list[str], **kw) -> dict:
    """The response to a batch request; a list is sent as the page sends it (each key encoded)."""
    raw = keys if isinstance(keys, str) else "keys=" + ",".join(quote(k, safe="") for k in keys)
    return handler(rest_event(raw, path=kw.pop("path", BATCH), **kw), None)


def test_a_batch_of_the_page_data_downloads_every_object(published: Publisher) -> None:
    response = batch(DATA, headers={"Origin": PAGE})
    assert response["statusCode"] == 200
    assert response["headers"]["Access-Control-Allow-Origin"] == PAGE
    answer = body(response)
    assert list(answer) == ["urls", "errors"]
    assert answer["errors"] == {}
    assert list(answer["urls"]) == DATA  # keyed by the key as asked, in the order asked
    for key, url in answer["urls"].items():
        got = requests.get(url, timeout=10)
        assert got.status_code == 200
        if key == "processed/manifest.json":
            assert json.loads(got.content)["datasets"]["carbon_pricing"]["key"] == NEWEST_KEYS["carbon_pricing"]
            continue
        dataset = key.removeprefix("processed/").rstrip("*").rstrip("_")
        assert urlsplit(url).path == f"/{BUCKET}/{NEWEST_KEYS[dataset]}"
        assert (got.content, got.headers["Content-Type"]) == (CSV[dataset], "text/csv")


def test_a_batch_of_modules(published: Publisher) -> None:
    urls = body(batch(MODULES))["urls"]
    js, css = (requests.get(urls[k], timeout=10) for k in MODULES)
    assert (js.content, js.headers["Content-Type"]) == (CHART_JS_V2, "application/javascript")
    assert (css.content, css.headers["Content-Type"]) == (CHART_CSS_V2, "text/css")


def test_each_key_gets_the_single_routes_verdict(published: Publisher) -> None:
    keys = [
        "processed/ccn_data*",
        "raw/ccn_companies.csv",
        "processed/nope*",
        "processed/orders_for_viz_20261126.csv",
        "viz/../raw/a.js",
        "latest_deals_*",
        "processed/manifests/20261127T235900Z.json",
    ]
    answer = body(batch(keys))
    assert list(answer["urls"]) == ["processed/ccn_data*", "latest_deals_*"]
    assert answer["errors"] == {
        "raw/ccn_companies.csv": {"status": 400, "error": NOT_ALLOWED},
        "processed/nope*": {"status": 404, "error": "unknown dataset"},
        "processed/orders_for_viz_20261126.csv": {"status": 404, "error": "version not published"},
        "viz/../raw/a.js": {"status": 400, "error": "key must not contain '..'"},
        "processed/manifests/20261127T235900Z.json": {"status": 400, "error": NOT_ALLOWED},
    }
    # The same verdicts, one by one, on the single route.
    for key, error in answer["errors"].items():
        single = handler(rest_event("key=" + quote(key, safe="")), None)
        assert (single["statusCode"], body(single)) == (error["status"], {"error": error["error"]})
    for key, url in answer["urls"].items():
        single = body(handler(rest_event("key=" + quote(key, safe="")), None))["url"]
        assert urlsplit(single).path == urlsplit(url).path


def test_a_key_asked_twice_is_answered_once(published: Publisher) -> None:
    answer = body(batch("keys=ccn_data*,viz/chart_templates.js,ccn_data*"))
    assert list(answer["urls"]) == ["ccn_data*", "viz/chart_templates.js"]


def test_twenty_keys_are_allowed(published: Publisher) -> None:
    keys = [f"viz/v{n}/chart_templates.js" for n in range(19)] + ["ccn_data*"]
    answer = body(batch(keys))
    assert (len(answer["urls"]), answer["errors"]) == (20, {})


@pytest.mark.parametrize(
    ("raw_query", "error"),
    [
        ("", "missing keys parameter"),
        ("keys=", "missing keys parameter"),
        ("key=processed/ccn_data*", "missing keys parameter"),
        ("keys=ccn_data*&keys=viz/chart_templates.js", "keys given more than once"),
        ("keys=" + ",".join(["ccn_data*"] * 21), "21 keys asked, at most 20 per request"),
        ("keys=ccn_data*,", "keys has an empty entry (a comma at an end, or two in a row)"),
        ("keys=,ccn_data*", "keys has an empty entry (a comma at an end, or two in a row)"),
        ("keys=ccn_data*,,latest_deals*", "keys has an empty entry (a comma at an end, or two in a row)"),
        ("keys=" + "a" * 4020, "keys longer than 4019 characters"),
        ("keys=ccn_data*&bucket=other", "the bucket parameter is not accepted"),
    ],
)
def test_a_bad_keys_parameter_is_a_400(published: Publisher, raw_query: str, error: str) -> None:
    response = batch(raw_query)
    assert (response["statusCode"], body(response)) == (400, {"error": error})
    assert response["headers"]["Cache-Control"] == "no-store"


def test_cors_and_methods_are_the_single_routes(published: Publisher) -> None:
    preflight = batch("keys=ccn_data*", method="OPTIONS", headers={"Origin": PAGE, "Access-Control-Request-Method": "GET"})
    assert preflight["statusCode"] == 204
    assert preflight["headers"]["Access-Control-Allow-Origin"] == PAGE
    assert preflight["headers"]["Access-Control-Allow-Methods"] == "GET, OPTIONS"
    evil = batch("keys=ccn_data*", headers={"Origin": "https://evil.example"})
    assert (evil["statusCode"], body(evil)) == (403, {"error": "origin not allowed"})
    assert "Access-Control-Allow-Origin" not in evil["headers"]
    post = batch("keys=ccn_data*", method="POST")
    assert (post["statusCode"], post["headers"]["Allow"]) == (405, "GET, OPTIONS")
    # A stage prefix works as on the single route; nothing else ending differently does.
    assert batch("keys=ccn_data*", path="/test/presigned-urls")["statusCode"] == 200
    assert batch("keys=ccn_data*", path="/presigned-urlsx")["statusCode"] == 404


def test_the_single_route_does_not_take_keys(published: Publisher) -> None:
    response = handler(rest_event("keys=ccn_data*"), None)
    assert (response["statusCode"], body(response)) == (400, {"error": "missing key parameter"})


def test_one_s3_call_per_batch_even_without_a_cache(published: Publisher, clock) -> None:
    from presign_lambda.s3 import build_s3_client
    from presign_lambda.settings import Settings

    with patched_env({"PRESIGN_MANIFEST_CACHE_SECONDS": "0"}):
        service = PresignService(Settings.from_env(), build_s3_client(), clock=clock, log_stream=io.StringIO())
    sent = count_sends(service.client)
    response = service.handle(rest_event("keys=" + ",".join(MODULES + DATA), path=BATCH))
    assert len(body(response)["urls"]) == 9
    assert sent == ["GET"]
    service.handle(rest_event("keys=" + ",".join(MODULES), path=BATCH))
    assert sent == ["GET"]  # code only: no manifest needed


def test_one_log_line_per_batch_without_urls(published: Publisher, capsys) -> None:
    keys = ["processed/ccn_data*", "viz/v2/chart_templates.js", "raw/x.csv", "nope*"]
    answer = body(handler(rest_event("keys=" + ",".join(keys), path=BATCH), None))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert isinstance(record.pop("latency_ms"), float)
    assert record == {
        "request_id": "req-v1",
        "method": "GET",
        "key": None,
        "status": 200,
        "outcome": "presigned_some",
        "object_key": None,
        "manifest": "ok",
        "keys": keys,
        "object_keys": ["processed/ccn_data_20261127.csv", "viz/v2/chart_templates.js"],
        "errors": {"raw/x.csv": 400, "nope*": 404},
    }
    for url in answer["urls"].values():
        assert url not in lines[0]
    assert "X-Amz" not in lines[0]


def test_log_of_a_refused_batch_is_bounded(published: Publisher, capsys) -> None:
    keys = ["processed/" + "a" * 300 + "*"] * 30
    response = handler(rest_event("keys=" + ",".join(keys), path=BATCH), None)
    assert response["statusCode"] == 400
    record = json.loads(capsys.readouterr().out)
    assert record["outcome"] == "keys_too_long"
    assert len(record["keys"]) == 20
    assert {len(k) for k in record["keys"]} == {256}


@pytest.mark.parametrize(
    ("expires", "manifest_cache", "cache_control"),
    [
        ("300", "", "public, max-age=60"),
        ("42", "", "public, max-age=8"),
        ("600", "", "public, max-age=60"),
        ("5", "", "public, max-age=1"),
        ("4", "", "no-store"),
        # Never longer than the service trusts its manifest: the preview (0 s) caches nothing.
        ("300", "30.5", "public, max-age=30"),
        ("300", "0", "no-store"),
        ("300", "3600", "public, max-age=60"),
    ],
)
def test_successful_answers_may_be_reused_well_within_the_expiry(
    published: Publisher, expires: str, manifest_cache: str, cache_control: str
) -> None:
    with patched_env({"PRESIGN_URL_EXPIRES_SECONDS": expires, "PRESIGN_MANIFEST_CACHE_SECONDS": manifest_cache}):
        single = handler(rest_event("key=processed/ccn_data*"), None)
        whole = batch(["processed/ccn_data*", "viz/chart_templates.js"])
        partial = batch(["processed/ccn_data*", "nope*"])
        error = handler(rest_event("key=nope*"), None)
    assert single["headers"]["Cache-Control"] == cache_control
    assert whole["headers"]["Cache-Control"] == cache_control
    # An answer holding an error is never reused: the dataset may be published a minute later.
    assert (partial["statusCode"], partial["headers"]["Cache-Control"]) == (200, "no-store")
    assert (error["statusCode"], error["headers"]["Cache-Control"]) == (404, "no-store")
    if cache_control != "no-store":
        assert int(cache_control.rsplit("=", 1)[1]) <= int(expires) / 2
