"""#13.9: a manifest that is too big, too deep, not JSON or malformed is refused with a sentence
saying why; the last good copy keeps being served; S3 is asked again only after the cache period.
Unknown fields are ignored and ``inputs`` is not required."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import requests

from presign_lambda.manifest import (
    MAX_MANIFEST_BYTES,
    MAX_MANIFEST_DEPTH,
    ManifestRefused,
    nesting_depth,
    parse_manifest,
)
from tests.presign.builders import Clock, Publisher, body, rest_event

V27 = b"date,tons_purchased_cum\n2026-11-27,12\n"
GOOD = {
    "version": 1,
    "generated_at": "2026-11-27T23:59:00Z",
    "deployment": "test",
    "datasets": {"orders_for_viz": {"key": "processed/orders_for_viz_20261127.csv"}},
}


def deep(levels: int) -> dict:
    """The good manifest with an extra field nested ``levels`` deep in total."""
    inner: object = 1
    for _ in range(levels - 1):
        inner = [inner]
    return {**GOOD, "extra": inner}


def padded(total: int) -> bytes:
    """The good manifest padded with an unknown string field to exactly ``total`` bytes."""
    base = json.dumps({**GOOD, "pad": ""}).encode()
    return json.dumps({**GOOD, "pad": "x" * (total - len(base))}).encode()


BAD: list[tuple[str, bytes, str]] = [
    (
        "too-big",
        padded(MAX_MANIFEST_BYTES + 1),
        f"processed/manifest.json is {MAX_MANIFEST_BYTES + 1} bytes, over the 262144-byte limit",
    ),
    ("too-deep", json.dumps(deep(MAX_MANIFEST_DEPTH + 1)).encode(), "processed/manifest.json nests deeper than 8 levels"),
    (
        "very-deep",
        b'{"version": 1, "datasets": {}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "processed/manifest.json nests deeper than 8 levels",
    ),
    ("not-json", b"<html>gateway timeout</html>", "processed/manifest.json is not JSON (line 1, column 1: Expecting value)"),
    (
        "truncated",
        json.dumps(GOOD).encode()[:40],
        "processed/manifest.json is not JSON (line 1, column 32: Unterminated string starting at)",
    ),
    ("not-utf8", b'{"version": 1, "datasets": {}, "x": "\xff"}', "processed/manifest.json is not UTF-8 (byte 37)"),
    (
        "huge-integer",
        b'{"version": 1, "datasets": {}, "x": ' + b"9" * 5000 + b"}",
        "processed/manifest.json holds a value JSON parsing refuses",
    ),
    ("a-list", b"[]", "processed/manifest.json is not a JSON object"),
    ("no-version", json.dumps({"datasets": GOOD["datasets"]}).encode(), "processed/manifest.json has version null, expected 1"),
    ("version-2", json.dumps({**GOOD, "version": 2}).encode(), "processed/manifest.json has version 2, expected 1"),
    ("version-text", json.dumps({**GOOD, "version": "1"}).encode(), 'processed/manifest.json has version "1", expected 1'),
    ("version-true", json.dumps({**GOOD, "version": True}).encode(), "processed/manifest.json has version true, expected 1"),
    ("datasets-list", json.dumps({**GOOD, "datasets": []}).encode(), "processed/manifest.json has no 'datasets' object"),
    ("no-datasets", json.dumps({"version": 1}).encode(), "processed/manifest.json has no 'datasets' object"),
    (
        "too-many-datasets",
        json.dumps({**GOOD, "datasets": {f"d{n}": {"key": "x"} for n in range(65)}}).encode(),
        "processed/manifest.json lists 65 datasets, over the limit of 64",
    ),
]


@pytest.mark.parametrize(("raw", "problem"), [(raw, problem) for _, raw, problem in BAD], ids=[name for name, _, _ in BAD])
def test_refused_documents_say_why(raw: bytes, problem: str) -> None:
    with pytest.raises(ManifestRefused) as refused:
        parse_manifest(raw)
    assert str(refused.value) == problem


def test_limits_are_inclusive() -> None:
    assert parse_manifest(padded(MAX_MANIFEST_BYTES)) == {"orders_for_viz": "processed/orders_for_viz_20261127.csv"}
    assert parse_manifest(json.dumps(deep(MAX_MANIFEST_DEPTH)).encode())["orders_for_viz"]
    many = {**GOOD, "datasets": {**{f"d{n}": {} for n in range(63)}, **GOOD["datasets"]}}
    assert parse_manifest(json.dumps(many).encode()) == {"orders_for_viz": "processed/orders_for_viz_20261127.csv"}


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({**GOOD, "note": '[[[[[[[[[[{{{{{{{{{{ \\" [[[['})
    assert nesting_depth(text, 8) == 3
    assert parse_manifest(text.encode())["orders_for_viz"]


def test_unknown_fields_are_ignored_and_inputs_is_not_required() -> None:
    doc = {
        **GOOD,
        "inputs": {"orders": {"key": "raw/published/orders.csv", "columns": ["id"]}},
        "archived_as": "processed/manifests/20261127T235900Z.json",
        "future": {"a": [1, {"b": None}]},
        "datasets": {
            "orders_for_viz": {
                "key": "processed/orders_for_viz_20261127_2.csv",
                "rows": 5,
                "sha256": "0" * 64,
                "new_field": [1, 2],
            },
            "carbon_pricing": {"key": "processed/carbon_pricing_20261127.csv"},
            "a_dataset_of_the_future": {"key": "processed/a_dataset_of_the_future_20261127.csv"},
        },
    }
    expected = {
        "orders_for_viz": "processed/orders_for_viz_20261127_2.csv",
        "carbon_pricing": "processed/carbon_pricing_20261127.csv",
    }
    assert parse_manifest(json.dumps(doc).encode()) == expected
    del doc["inputs"]
    assert parse_manifest(json.dumps(doc).encode()) == expected


def ask(service, key: str) -> tuple[int, dict]:
    response = service.handle(rest_event(f"key={key}"))
    return response["statusCode"], body(response)


def object_key(url: str, bucket: str) -> str:
    return urlsplit(url).path.removeprefix(f"/{bucket}/")


@pytest.mark.parametrize(("raw", "problem"), [(raw, problem) for _, raw, problem in BAD], ids=[name for name, _, _ in BAD])
def test_a_refused_manifest_keeps_the_last_good_copy_and_backs_off(
    publisher: Publisher, make_service, clock: Clock, raw: bytes, problem: str
) -> None:
    publisher.publish("orders_for_viz", "20261127", V27)
    service, log = make_service()
    assert ask(service, "orders_for_viz*")[0] == 200

    publisher.put("processed/manifest.json", raw)
    clock.now += 60  # due for a re-read: it is refused, the last good copy answers
    status, answer = ask(service, "processed/orders_for_viz_*")
    assert status == 200
    assert object_key(answer["url"], publisher.bucket) == "processed/orders_for_viz_20261127.csv"
    assert requests.get(answer["url"], timeout=10).content == V27
    assert ask(service, "processed/orders_for_viz_20261127.csv")[0] == 200
    # The refused document is not handed to the page either.
    assert ask(service, "processed/manifest.json") == (404, {"error": "no valid manifest published"})
    assert service.manifest.fetches == 2

    clock.now += 59.9  # not re-read on every request: only once the cache period is over
    assert ask(service, "orders_for_viz*")[0] == 200
    assert service.manifest.fetches == 2
    clock.now += 0.1
    assert ask(service, "orders_for_viz*")[0] == 200
    assert service.manifest.fetches == 3

    records = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [(r["manifest"], r.get("manifest_problem")) for r in records] == [("ok", None)] + [("stale", problem)] * 5


def test_a_good_manifest_after_a_refused_one_is_picked_up(publisher: Publisher, make_service, clock: Clock) -> None:
    publisher.put("processed/manifest.json", b"{")
    publisher.put("processed/orders_for_viz_20261127.csv", V27)
    service, log = make_service()
    assert ask(service, "orders_for_viz*") == (404, {"error": "no published version of orders_for_viz"})
    publisher.publish("orders_for_viz", "20261127", V27)
    assert ask(service, "orders_for_viz*")[0] == 404  # backing off
    clock.now += 60
    assert ask(service, "orders_for_viz*")[0] == 200
    assert service.manifest.fetches == 2
    assert [json.loads(line)["manifest"] for line in log.getvalue().splitlines()] == ["unreadable", "unreadable", "ok"]


def test_with_no_cache_a_refused_manifest_is_still_not_read_every_time(publisher: Publisher, make_service, clock: Clock) -> None:
    from devtools.s3_server import patched_env

    publisher.publish("orders_for_viz", "20261127", V27)
    publisher.put("processed/manifest.json", padded(MAX_MANIFEST_BYTES + 1))
    with patched_env({"PRESIGN_MANIFEST_CACHE_SECONDS": "0"}):
        service, _ = make_service()
    for _ in range(5):
        assert ask(service, "orders_for_viz*")[0] == 404
    assert service.manifest.fetches == 1
    clock.now += 5  # MIN_FAILED_READ_RETRY_SECONDS
    ask(service, "orders_for_viz*")
    assert service.manifest.fetches == 2


def test_a_deleted_manifest_is_not_replaced_by_the_old_copy(publisher: Publisher, make_service, clock: Clock) -> None:
    # Missing is a state of its own (nothing published), not a fault to ride out.
    publisher.publish("orders_for_viz", "20261127", V27)
    service, _ = make_service()
    assert ask(service, "orders_for_viz*")[0] == 200
    publisher.client.delete_object(Bucket=publisher.bucket, Key="processed/manifest.json")
    clock.now += 60
    assert ask(service, "orders_for_viz*") == (404, {"error": "no published version of orders_for_viz"})
