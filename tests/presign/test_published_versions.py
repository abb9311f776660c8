"""#13.11: a dated version is presigned only while the current manifest lists that exact key; a
rolled-back or superseded version stays in the bucket but is no longer handed out; manifest archive
copies (D4) never are."""

from __future__ import annotations

import json

import requests

from presign_lambda.handler import handler
from tests.presign.builders import Publisher, body, rest_event

V27 = b"date,tons_purchased_cum\n2026-11-27,12\n"
V28 = b"date,tons_purchased_cum\n2026-11-28,15\n"
V28_2 = b"date,tons_purchased_cum\n2026-11-28,16\n"
NOT_PUBLISHED = (404, {"error": "version not published"})


def ask(key: str) -> tuple[int, dict]:
    response = handler(rest_event(f"key={key}"), None)
    return response["statusCode"], body(response)


def downloads(key: str) -> bytes:
    status, answer = ask(key)
    assert status == 200, answer
    return requests.get(answer["url"], timeout=10).content


def test_publish_republish_and_roll_back(publisher: Publisher) -> None:
    # PRESIGN_MANIFEST_CACHE_SECONDS defaults to 60 s: each step is a new container (cold handler).
    from presign_lambda import handler as module

    publisher.publish("orders_for_viz", "20261127", V27)
    first_manifest = publisher.write_manifest()
    publisher.put("processed/manifests/20261127T235900Z.json", first_manifest)
    assert downloads("processed/orders_for_viz_20261127.csv") == V27

    publisher.publish("orders_for_viz", "20261128", V28)
    module.reset()
    assert downloads("processed/orders_for_viz*") == V28
    assert downloads("processed/orders_for_viz_20261128.csv") == V28
    assert ask("processed/orders_for_viz_20261127.csv") == NOT_PUBLISHED

    # Same-day republish: a new key, the manifest switch is the moment of change (D3).
    publisher.publish("orders_for_viz", "20261128", V28_2, republish=2)
    second_manifest = publisher.write_manifest()
    module.reset()
    assert downloads("processed/orders_for_viz_*") == V28_2
    assert downloads("processed/orders_for_viz_20261128_2.csv") == V28_2
    assert ask("processed/orders_for_viz_20261128.csv") == NOT_PUBLISHED

    # Roll back: the archived manifest's bytes go back to processed/manifest.json (D4).
    publisher.put("processed/manifest.json", first_manifest)
    module.reset()
    assert downloads("processed/orders_for_viz*") == V27
    assert downloads("processed/orders_for_viz_20261127.csv") == V27
    assert ask("processed/orders_for_viz_20261128_2.csv") == NOT_PUBLISHED
    assert ask("processed/orders_for_viz_20261128.csv") == NOT_PUBLISHED
    assert json.loads(downloads("processed/manifest.json")) == json.loads(first_manifest)
    assert second_manifest != first_manifest

    # The archive copies are never presigned, whatever they hold.
    assert ask("processed/manifests/20261127T235900Z.json")[0] == 400


def test_a_version_of_another_dataset_listed_in_the_manifest_is_not_published(publisher: Publisher) -> None:
    publisher.publish("orders_for_viz", "20261127", V27)
    publisher.publish("latest_deals", "20261127", b"announcement_date\n2026-11-27\n")
    assert ask("processed/latest_deals_20261127.csv")[0] == 200
    assert ask("processed/orders_for_viz_20261127.csv")[0] == 200
    assert ask("processed/dollars_spent_20261127.csv") == (404, {"error": "dollars_spent is not published"})
