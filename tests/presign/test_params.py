"""#13.10: a ``key`` or ``keys`` that is null, a number, a list or repeated, and events whose parts
have the wrong type, are answered with a 400 JSON error, never a 500 or an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest

from presign_lambda.handler import handler
from tests.presign.builders import Publisher, body, rest_event

ROUTES = {"key": "/presigned-url", "keys": "/presigned-urls"}
BAD_VALUES: list[Any] = [None, 5, 1.5, True, ["processed/ccn_data*"], {"a": "b"}]


def v1_single(name: str, value: Any) -> dict[str, Any]:
    event = rest_event(path=ROUTES[name])
    event["queryStringParameters"] = {name: value}
    event["multiValueQueryStringParameters"] = None
    return event


def v1_multi(name: str, value: Any) -> dict[str, Any]:
    event = rest_event(path=ROUTES[name])
    event["queryStringParameters"] = {name: "processed/ccn_data*"}
    event["multiValueQueryStringParameters"] = {name: value}
    return event


def answer(event: Any) -> tuple[int, dict]:
    response = handler(event, None)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], body(response)


@pytest.mark.parametrize("name", ["key", "keys"])
@pytest.mark.parametrize("value", BAD_VALUES, ids=[json.dumps(v) for v in BAD_VALUES])
def test_a_parameter_that_is_not_text_is_a_400(published: Publisher, name: str, value: Any) -> None:
    assert answer(v1_single(name, value)) == (400, {"error": f"{name} must be one text value"})


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
def test_repeated_is_a_400(published: Publisher, name: str) -> None:
    raw = f"{name}=processed/ccn_data*&{name}=viz/chart_templates.js"
    assert answer(rest_event(raw, path=ROUTES[name])) == (400, {"error": f"{name} given more than once"})


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
    ("path", "value"),
    [
        (["requestContext"], 5),
        (["queryStringParameters"], "key=processed/ccn_data*"),
        (["multiValueQueryStringParameters"], ["key"]),
        (["headers"], ["origin: https://evil.example"]),
        (["multiValueHeaders"], "Origin"),
        (["path"], ["/presigned-url"]),
    ],
    ids=["context", "query", "multi-query", "headers", "multi-headers", "path"],
)
def test_an_event_part_of_the_wrong_type_is_a_400(published: Publisher, path, value) -> None:
    event = corrupt(rest_event("key=processed/ccn_data*"), path, value)
    assert answer(event) == (400, {"error": "bad request"})


def test_header_values_that_are_not_text_are_ignored(published: Publisher) -> None:
    event = rest_event("key=processed/ccn_data*")
    event["headers"] = {"Origin": None}
    event["multiValueHeaders"] = {"Origin": [None]}
    status, _ = answer(event)
    assert status == 200  # no Origin at all, as for curl


def test_an_http_api_payload_2_event_is_not_read(published: Publisher) -> None:
    # the template builds a REST API (payload 1.0); a 2.0 event is no request of this service
    event = {
        "version": "2.0",
        "rawPath": "/presigned-url",
        "rawQueryString": "key=processed/ccn_data*",
        "requestContext": {"http": {"method": "GET", "path": "/presigned-url"}, "requestId": "r"},
    }
    assert answer(event) == (400, {"error": "bad request"})
