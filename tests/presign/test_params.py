"""#13.10: a ``key`` or ``keys`` that is null, a number, a list or repeated, in either payload
format, and events whose parts have the wrong type, are answered with a 400 JSON error, never a
500 or an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest

from presign_lambda.handler import handler
from tests.presign.builders import Publisher, body, v1_event, v2_event

ROUTES = {"key": "/presigned-url", "keys": "/presigned-urls"}
BAD_VALUES: list[Any] = [None, 5, 1.5, True, ["processed/ccn_data*"], {"a": "b"}]


def v2_without_raw(name: str, value: Any) -> dict[str, Any]:
    """A payload-2.0 event as a hand-made or replayed test event looks: no rawQueryString."""
    event = v2_event(path=ROUTES[name])
    del event["rawQueryString"]
    event["queryStringParameters"] = {name: value}
    return event


def v1_single(name: str, value: Any) -> dict[str, Any]:
    event = v1_event(path=ROUTES[name])
    event["queryStringParameters"] = {name: value}
    event["multiValueQueryStringParameters"] = None
    return event


def v1_multi(name: str, value: Any) -> dict[str, Any]:
    event = v1_event(path=ROUTES[name])
    event["queryStringParameters"] = {name: "processed/ccn_data*"}
    event["multiValueQueryStringParameters"] = {name: value}
    return event


def answer(event: Any) -> tuple[int, dict]:
    response = handler(event, None)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], body(response)


@pytest.mark.parametrize("name", ["key", "keys"])
@pytest.mark.parametrize("value", BAD_VALUES, ids=[json.dumps(v) for v in BAD_VALUES])
@pytest.mark.parametrize("build", [v2_without_raw, v1_single], ids=["v2", "v1"])
def test_a_parameter_that_is_not_text_is_a_400(published: Publisher, build, name: str, value: Any) -> None:
    assert answer(build(name, value)) == (400, {"error": f"{name} must be one text value"})


@pytest.mark.parametrize("name", ["key", "keys"])
@pytest.mark.parametrize(
    "value",
    [None, "processed/ccn_data*", 5, [None], [5], ["processed/ccn_data*", None], [["a"]]],
    ids=["null", "string-not-list", "number", "list-of-null", "list-of-number", "mixed", "nested"],
)
def test_a_multi_value_that_is_not_a_list_of_text_is_a_400(published: Publisher, name: str, value: Any) -> None:
    event = v1_multi(name, value)
    if value is None:  # a null list of values means the parameter was sent with no value at all
        event["multiValueQueryStringParameters"] = {name: None}
    assert answer(event) == (400, {"error": f"{name} must be one text value"})


@pytest.mark.parametrize("name", ["key", "keys"])
def test_repeated_in_either_format_is_a_400(published: Publisher, name: str) -> None:
    raw = f"{name}=processed/ccn_data*&{name}=viz/chart_templates.js"
    expected = (400, {"error": f"{name} given more than once"})
    assert answer(v2_event(raw, path=ROUTES[name])) == expected
    assert answer(v1_event(raw, path=ROUTES[name])) == expected
    # Payload 2.0 without rawQueryString joins repeats with ",": an illegal key, or two batch keys.
    joined = v2_without_raw(name, "processed/ccn_data*,viz/chart_templates.js")
    status, _ = answer(joined)
    assert status == (400 if name == "key" else 200)


def test_an_empty_list_of_values_is_a_missing_key(published: Publisher) -> None:
    event = v1_multi("key", [])
    event["queryStringParameters"] = None
    assert answer(event) == (400, {"error": "missing key parameter"})


def test_a_null_bucket_parameter_is_still_refused(published: Publisher) -> None:
    event = v1_single("key", "processed/ccn_data*")
    event["queryStringParameters"]["bucket"] = None
    assert answer(event) == (400, {"error": "the bucket parameter is not accepted"})


def corrupt(event: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    target = event
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return event


@pytest.mark.parametrize(
    ("build", "path", "value"),
    [
        (v2_event, ["requestContext"], "not an object"),
        (v2_event, ["requestContext", "http"], ["GET"]),
        (v2_event, ["headers"], ["origin: https://evil.example"]),
        (v2_event, ["rawPath"], 5),
        (v1_event, ["requestContext"], 5),
        (v1_event, ["queryStringParameters"], "key=processed/ccn_data*"),
        (v1_event, ["multiValueQueryStringParameters"], ["key"]),
        (v1_event, ["multiValueHeaders"], "Origin"),
        (v1_event, ["path"], ["/presigned-url"]),
    ],
    ids=[
        "v2-context",
        "v2-http",
        "v2-headers",
        "v2-path",
        "v1-context",
        "v1-query",
        "v1-multi-query",
        "v1-multi-headers",
        "v1-path",
    ],
)
def test_an_event_part_of_the_wrong_type_is_a_400(published: Publisher, build, path, value) -> None:
    event = corrupt(build("key=processed/ccn_data*"), path, value)
    assert answer(event) == (400, {"error": "bad request"})


def test_header_values_that_are_not_text_are_ignored(published: Publisher) -> None:
    event = v1_event("key=processed/ccn_data*")
    event["headers"] = {"Origin": None}
    event["multiValueHeaders"] = {"Origin": [None]}
    status, _ = answer(event)
    assert status == 200  # no Origin at all, as for curl
