"""The manifest: newest versions come from it, it is cached while fresh, and the warm path stays
off the network. Time is the injected test clock; nothing sleeps."""

from __future__ import annotations

import contextlib
import io
import json
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from devtools.s3_server import patched_env, running_s3_server
from presign_lambda.handler import handler
from presign_lambda.s3 import build_s3_client
from presign_lambda.service import PresignService
from presign_lambda.settings import Settings
from tests.presign.builders import Clock, Publisher, body, rest_event
from tests.presign.conftest import CSV, service_env

V27 = b"date,tons_purchased_cum\n2026-11-27,12\n"
V28 = b"date,tons_purchased_cum\n2026-11-28,15\n"
OWN_BUCKET_1 = "cdr-dashboard-stopped-1"
OWN_BUCKET_2 = "cdr-dashboard-stopped-2"


def ask(service: PresignService, key: str) -> tuple[int, dict]:
    response = service.handle(rest_event(f"key={key}"))
    return response["statusCode"], body(response)


def ask_handler(key: str) -> tuple[int, dict]:
    response = handler(rest_event(f"key={key}"), None)
    return response["statusCode"], body(response)


def object_key(url: str, bucket: str) -> str:
    return urlsplit(url).path.removeprefix(f"/{bucket}/")


def count_sends(client) -> list[str]:
    """Every HTTP request the client sends, recorded through botocore's own event hooks."""
    sent: list[str] = []

    def record(request, **_) -> None:
        sent.append(request.method)  # returning None lets the request go out unchanged

    client.meta.events.register("before-send.s3", record)
    return sent


def test_pattern_follows_a_new_publish_once_the_cache_expires(publisher: Publisher, make_service, clock: Clock) -> None:
    publisher.publish("orders_for_viz", "20261127", V27)
    service, _ = make_service()
    status, answer = ask(service, "processed/orders_for_viz*")
    assert status == 200
    assert requests.get(answer["url"], timeout=10).content == V27

    publisher.publish("orders_for_viz", "20261128", V28)
    clock.now += 59.9  # still fresh: the old version, without asking S3
    assert object_key(ask(service, "orders_for_viz*")[1]["url"], publisher.bucket) == "processed/orders_for_viz_20261127.csv"
    assert service.manifest.fetches == 1

    clock.now += 0.1  # 60 s: stale, read again
    url = ask(service, "orders_for_viz*")[1]["url"]
    assert object_key(url, publisher.bucket) == "processed/orders_for_viz_20261128.csv"
    assert requests.get(url, timeout=10).content == V28
    assert service.manifest.fetches == 2


def test_cache_of_zero_seconds_reads_the_manifest_every_time(publisher: Publisher) -> None:
    publisher.publish("ccn_data", "20261127", b"year\n2026\n")
    with patched_env({"PRESIGN_MANIFEST_CACHE_SECONDS": "0"}):
        first = body(handler(rest_event("key=ccn_data*"), None))["url"]
        publisher.publish("ccn_data", "20261128", b"year\n2027\n")
        second = body(handler(rest_event("key=ccn_data*"), None))["url"]
    assert object_key(first, publisher.bucket) == "processed/ccn_data_20261127.csv"
    assert object_key(second, publisher.bucket) == "processed/ccn_data_20261128.csv"


def test_warm_requests_send_nothing(published: Publisher, make_service) -> None:
    service, log = make_service()
    sent = count_sends(service.client)
    assert ask(service, "processed/orders_for_viz*")[0] == 200
    assert sent == ["GET"]  # the manifest, once
    for key in [
        "processed/orders_for_viz*",
        "latest_deals_*",
        "processed/manifest.json",
        "viz/chart_templates.js",
        "viz/v2/chart_templates.css",
        "processed/nope*",
        "raw/x.csv",
        "processed/orders_for_viz_20261127.csv",
        "processed/orders_for_viz_20261126.csv",
    ]:
        ask(service, key)
    # A version is checked against the manifest, not with a HEAD: still the one GET.
    assert sent == ["GET"]
    manifests = [json.loads(line)["manifest"] for line in log.getvalue().splitlines()]
    assert manifests == ["ok", "ok", "ok", "ok", None, None, None, None, "ok", "ok"]


def test_cached_answers_survive_the_s3_server_going_away() -> None:
    # A server of its own, so it can be stopped while the handler stays warm. (moto's state is
    # per process, shared with the session's server: hence a bucket name of its own too.)
    s3_alive = contextlib.ExitStack()
    own = s3_alive.enter_context(running_s3_server())
    with s3_alive, service_env(own, OWN_BUCKET_1):
        own.create_bucket(OWN_BUCKET_1)
        Publisher(own.client(), OWN_BUCKET_1).publish("orders_for_viz", "20261127", CSV["orders_for_viz"])
        cold = handler(rest_event("key=processed/orders_for_viz*"), None)
        assert cold["statusCode"] == 200

        s3_alive.close()  # S3 is gone from here on
        with pytest.raises(requests.ConnectionError):
            requests.get(body(cold)["url"], timeout=10)
        for key in ["processed/orders_for_viz*", "processed/manifest.json", "viz/chart_templates.js"]:
            warm = handler(rest_event(f"key={key}"), None)
            assert warm["statusCode"] == 200, key
        warm = handler(rest_event("key=orders_for_viz*"), None)
        assert object_key(body(warm)["url"], OWN_BUCKET_1) == "processed/orders_for_viz_20261127.csv"


def test_s3_failures_keep_the_last_manifest_and_back_off(clock: Clock) -> None:
    s3_alive = contextlib.ExitStack()
    own = s3_alive.enter_context(running_s3_server())
    with s3_alive, service_env(own, OWN_BUCKET_2):
        own.create_bucket(OWN_BUCKET_2)
        Publisher(own.client(), OWN_BUCKET_2).publish("latest_deals", "20261127", CSV["latest_deals"])
        log = io.StringIO()
        # One attempt per call: botocore's retry back-off would only slow the test down.
        service = PresignService(Settings.from_env(), build_s3_client(attempts=1), clock=clock, log_stream=log)
        assert ask(service, "latest_deals*")[0] == 200
        s3_alive.close()

        clock.now += 61  # the cache is stale, the re-read fails: the last good copy is kept
        status, answer = ask(service, "latest_deals*")
        assert status == 200
        assert object_key(answer["url"], OWN_BUCKET_2) == "processed/latest_deals_20261127.csv"
        # The version the kept copy lists is still served: it needs no S3 call either.
        assert ask(service, "processed/latest_deals_20261127.csv")[0] == 200
        clock.now += 59.9  # the failed read is not retried before the cache period is over
        assert ask(service, "latest_deals_*")[0] == 200
        assert service.manifest.fetches == 2

    records = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [(r["status"], r["outcome"], r["manifest"], r.get("manifest_problem")) for r in records] == [
        (200, "presigned", "ok", None),
        (200, "presigned", "stale", "S3 could not be read (EndpointConnectionError)"),
        (200, "presigned", "stale", "S3 could not be read (EndpointConnectionError)"),
        (200, "presigned", "stale", "S3 could not be read (EndpointConnectionError)"),
    ]
    assert own.endpoint_url not in log.getvalue()


def test_an_unexpected_failure_is_a_500_that_says_nothing(
    published: Publisher, make_service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A function whose role gave it no credentials cannot sign: botocore raises, the client
    # learns nothing more than "internal error", the log names only the exception's class.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a new container: no credentials cached
    no_credentials = {name: None for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")}
    with patched_env(
        {
            **no_credentials,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_CONFIG_FILE": "/nonexistent",
        }
    ):
        service, log = make_service()
        response = service.handle(rest_event("key=viz/chart_templates.js"))
    assert (response["statusCode"], body(response)) == (500, {"error": "internal error"})
    assert response["headers"]["Cache-Control"] == "no-store"
    record = json.loads(log.getvalue())
    assert (record["status"], record["outcome"]) == (500, "error:NoCredentialsError")


def test_without_a_manifest_nothing_under_processed_answers(publisher: Publisher) -> None:
    publisher.put("processed/orders_for_viz_20261127.csv", V27)
    publisher.put("viz/chart_templates.js", b"//")
    assert ask_handler("processed/orders_for_viz*") == (404, {"error": "no published version of orders_for_viz"})
    assert ask_handler("processed/manifest.json") == (404, {"error": "no manifest published"})
    assert ask_handler("processed/unknown*") == (404, {"error": "unknown dataset"})
    # The object exists, but no manifest lists it: not published (#13.11).
    assert ask_handler("processed/orders_for_viz_20261127.csv") == (404, {"error": "version not published"})
    assert ask_handler("viz/chart_templates.js")[0] == 200


def test_an_unreadable_manifest_is_treated_as_missing(publisher: Publisher, make_service) -> None:
    publisher.put("processed/orders_for_viz_20261127.csv", V27)
    publisher.put("processed/manifest.json", b"<html>not json</html>")
    service, log = make_service()
    assert ask(service, "orders_for_viz*") == (404, {"error": "no published version of orders_for_viz"})
    assert ask(service, "processed/orders_for_viz_20261127.csv") == (404, {"error": "version not published"})
    assert ask(service, "processed/manifest.json") == (404, {"error": "no valid manifest published"})
    records = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [(r["manifest"], r["manifest_problem"]) for r in records] == [
        ("unreadable", "processed/manifest.json is not JSON (line 1, column 1: Expecting value)")
    ] * 3


def test_a_manifest_cannot_widen_what_is_presigned(publisher: Publisher) -> None:
    publisher.put("raw/ccn_companies.csv", b"secret")
    publisher.put("processed/secret_table_20261127.csv", b"secret")
    publisher.publish("dollars_spent", "20261127", CSV["dollars_spent"], manifest=False)
    publisher.write_manifest(
        extra={
            "orders_for_viz": {"key": "raw/ccn_companies.csv"},
            "latest_deals": {"key": "processed/dollars_spent_20261127.csv"},
            "secret_table": {"key": "processed/secret_table_20261127.csv"},
        }
    )
    assert ask_handler("processed/orders_for_viz*") == (404, {"error": "orders_for_viz is not published"})
    assert ask_handler("latest_deals*") == (404, {"error": "latest_deals is not published"})
    assert ask_handler("secret_table*") == (404, {"error": "unknown dataset"})
    assert ask_handler("processed/secret_table_20261127.csv") == (404, {"error": "unknown dataset"})
    # Intersected with the manifest: a contract dataset it does not list is not published yet.
    assert ask_handler("processed/ccn_data_20261127.csv") == (404, {"error": "ccn_data is not published"})
    assert ask_handler("dollars_spent*")[0] == 200
