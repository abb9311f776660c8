"""The contract end to end: handler -> presigned URL -> plain HTTP GET from moto's S3 server."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devtools.s3_server import patched_env
from presign_lambda.handler import handler
from tests.presign.builders import BUCKET, Publisher, body, rest_event
from tests.presign.conftest import CHART_CSS_V2, CHART_JS, CHART_JS_V2, CSV, DASHBOARD_CSS, NEWEST_KEYS


def presign(raw_query: str, **kw) -> str:
    response = handler(rest_event(raw_query, **kw), None)
    assert response["statusCode"] == 200, response["body"]
    assert list(body(response)) == ["url"]
    return body(response)["url"]


def download(url: str) -> requests.Response:
    got = requests.get(url, timeout=10)
    assert got.status_code == 200
    return got


@pytest.mark.parametrize(
    ("raw_query", "expected", "content_type"),
    [
        pytest.param("key=processed/orders_for_viz*", CSV["orders_for_viz"], "text/csv", id="pattern"),
        pytest.param("key=processed%2Forders_for_viz%2A", CSV["orders_for_viz"], "text/csv", id="pattern-as-browsers-encode"),
        pytest.param("key=orders_for_viz*", CSV["orders_for_viz"], "text/csv", id="pattern-no-prefix"),
        pytest.param("key=processed/orders_for_viz_20261127.csv", CSV["orders_for_viz"], "text/csv", id="newest-version"),
        pytest.param(
            "key=processed/carbon_pricing_20261127_2.csv",
            CSV["carbon_pricing"],
            "text/csv",
            id="newest-version-republished-same-day",
        ),
        pytest.param("key=viz/v2/chart_templates.js", CHART_JS_V2, "application/javascript", id="viz-v2-js"),
        pytest.param("key=viz/v2/chart_templates.css", CHART_CSS_V2, "text/css", id="viz-v2-css"),
        pytest.param("key=viz/chart_templates.js", CHART_JS, "application/javascript", id="viz-js"),
        pytest.param("key=viz/dashboard.css", DASHBOARD_CSS, "text/css", id="viz-css"),
        pytest.param("key=processed/latest_deals*&_=1732751940000", CSV["latest_deals"], "text/csv", id="cache-buster-ignored"),
    ],
)
def test_url_downloads_the_right_bytes_with_the_right_type(
    published: Publisher, raw_query: str, expected: bytes, content_type: str
) -> None:
    got = download(presign(raw_query))
    assert got.content == expected
    assert got.headers["Content-Type"] == content_type


@pytest.mark.parametrize("dataset", sorted(CSV))
def test_every_contract_dataset_resolves_to_its_newest_file(published: Publisher, dataset: str) -> None:
    url = presign(f"key=processed/{dataset}*")
    assert urlsplit(url).path == f"/{BUCKET}/{NEWEST_KEYS[dataset]}"
    assert download(url).content == CSV[dataset]


def test_manifest_is_presigned_as_json(published: Publisher) -> None:
    got = download(presign("key=processed/manifest.json"))
    assert got.headers["Content-Type"] == "application/json"
    manifest = json.loads(got.content)
    assert manifest["datasets"]["orders_for_viz"]["key"] == "processed/orders_for_viz_20261127.csv"
    assert manifest["datasets"]["orders_for_viz"]["updated_at"] == "2026-11-27T23:59:00Z"


def test_url_names_the_bucket_key_type_and_expiry(published: Publisher) -> None:
    parts = urlsplit(presign("key=processed/dollars_spent*"))
    query = parse_qs(parts.query)
    assert parts.path == f"/{BUCKET}/processed/dollars_spent_20261127.csv"
    assert query["response-content-type"] == ["text/csv"]
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].endswith("/ca-central-1/s3/aws4_request")


def test_expiry_comes_from_the_environment(published: Publisher) -> None:
    with patched_env({"PRESIGN_URL_EXPIRES_SECONDS": "42"}):
        url = presign("key=viz/chart_templates.js")
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["42"]


def test_answer_is_a_json_api_gateway_response(published: Publisher) -> None:
    response = handler(rest_event("key=processed/ccn_data*"), None)
    assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is False
    assert response["headers"] == {
        "Vary": "Origin",
        "Cache-Control": "public, max-age=60",
        "X-Content-Type-Options": "nosniff",
        "Content-Type": "application/json",
    }


def test_stage_prefixed_paths_are_the_same_route(published: Publisher) -> None:
    # REST API keeps the stage in requestContext.path; a custom domain's base path can prefix path.
    url = presign("key=processed/ccn_data*", path="/test/presigned-url")
    assert urlsplit(url).path == f"/{BUCKET}/processed/ccn_data_20261127.csv"
    event = rest_event("key=processed/ccn_data*")
    assert event["requestContext"]["path"] == "/test/presigned-url"
    assert handler(event, None)["statusCode"] == 200


def test_one_json_log_line_per_request_without_the_url(published: Publisher, capsys) -> None:
    class Context:
        aws_request_id = "lambda-req-1"

    url = body(handler(rest_event("key=processed/orders_for_viz*"), Context()))["url"]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert isinstance(record.pop("latency_ms"), float)
    assert record == {
        "request_id": "lambda-req-1",
        "method": "GET",
        "key": "processed/orders_for_viz*",
        "status": 200,
        "outcome": "presigned",
        "object_key": "processed/orders_for_viz_20261127.csv",
        "manifest": "ok",
    }
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    assert signature not in lines[0] and "X-Amz" not in lines[0] and "testing" not in lines[0]


def test_log_falls_back_to_the_gateway_request_id_and_cuts_long_keys(published, capsys) -> None:
    key = "processed/" + "a" * 5000 + '\n{"status": 200}'
    response = handler(rest_event("key=" + key.replace("\n", "%0A")), None)
    assert response["statusCode"] == 400
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1  # the newline in the key cannot forge a second log line
    record = json.loads(lines[0])
    assert record["request_id"] == "req-v1"
    assert record["key"] == key[:256]
    assert (record["status"], record["outcome"]) == (400, "key_refused")


def test_missing_bucket_setting_is_a_500_that_says_nothing(published, capsys) -> None:
    with patched_env({"CDR_DASHBOARD_BUCKET": None}):
        response = handler(rest_event("key=processed/orders_for_viz*"), None)
    assert response["statusCode"] == 500
    assert body(response) == {"error": "internal error"}
    record = json.loads(capsys.readouterr().out)
    assert record["outcome"] == "config_error"
    assert record["detail"] == "CDR_DASHBOARD_BUCKET must be set to an S3 bucket name"


@pytest.mark.parametrize("event", [None, [], {}, {"foo": "bar"}, {"requestContext": {}}])
def test_an_event_that_is_not_from_api_gateway_is_a_400(published, event) -> None:
    response = handler(event, None)
    assert response["statusCode"] == 400
    assert body(response) == {"error": "bad request"}
