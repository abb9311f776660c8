"""Expiry: the URL carries the configured lifetime inside its signature, and S3's rule refuses it
once that lifetime is over.

moto (5.2) does not check presigned signatures or expiry, so ``sigv4.check_presigned_get`` applies
S3's check with botocore's signer; time is a parameter of that check, so there is no waiting.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import requests

from devtools.s3_server import patched_env
from presign_lambda.handler import handler
from tests.presign.builders import Publisher, body, rest_event
from tests.presign.conftest import CSV
from tests.presign.sigv4 import check_presigned_get, signed_at

SECRET = "testing"  # the fake secret key of devtools/s3_server.py
SECOND = dt.timedelta(seconds=1)


def presign(key: str) -> str:
    return body(handler(rest_event(f"key={key}"), None))["url"]


def test_url_is_signed_now_and_refused_after_300_seconds(published: Publisher) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    url = presign("processed/orders_for_viz*")
    after = dt.datetime.now(dt.UTC)
    signed = signed_at(url)
    assert before <= signed <= after
    assert requests.get(url, timeout=10).content == CSV["orders_for_viz"]
    assert check_presigned_get(url, SECRET, signed) == "ok"
    assert check_presigned_get(url, SECRET, signed + 299 * SECOND) == "ok"
    assert check_presigned_get(url, SECRET, signed + 301 * SECOND) == "expired"


def test_configured_lifetime_is_the_one_enforced(published: Publisher) -> None:
    with patched_env({"PRESIGN_URL_EXPIRES_SECONDS": "5"}):
        url = presign("viz/chart_templates.js")
    signed = signed_at(url)
    assert check_presigned_get(url, SECRET, signed + 4 * SECOND) == "ok"
    assert check_presigned_get(url, SECRET, signed + 6 * SECOND) == "expired"


def test_lifetime_bucket_key_and_type_cannot_be_edited(published: Publisher) -> None:
    url = presign("processed/orders_for_viz*")
    signed = signed_at(url)
    assert check_presigned_get(url, "another-secret", signed) == "bad signature"
    for original, edited in [
        ("X-Amz-Expires=300", "X-Amz-Expires=604800"),
        ("orders_for_viz_20261127.csv", "orders_for_viz_20261126.csv"),
        ("response-content-type=text%2Fcsv", "response-content-type=text%2Fhtml"),
    ]:
        assert original in url
        assert check_presigned_get(url.replace(original, edited), SECRET, signed) == "bad signature"
    other_bucket = url.replace(urlsplit(url).path, "/other-bucket/processed/orders_for_viz_20261127.csv")
    assert check_presigned_get(other_bucket, SECRET, signed) == "bad signature"
