"""CORS: the page's origins get their own origin echoed back; nobody else gets a header."""

from __future__ import annotations

import pytest

from devtools.s3_server import patched_env
from presign_lambda.handler import handler
from presign_lambda.settings import DEFAULT_ALLOWED_ORIGINS
from tests.presign.builders import Publisher, body, rest_event

PAGE = "key=processed/orders_for_viz*"


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


@pytest.mark.parametrize("origin", DEFAULT_ALLOWED_ORIGINS)
def test_preflight_from_each_page_origin(published: Publisher, origin: str) -> None:
    headers = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    response = handler(rest_event(PAGE, method="OPTIONS", headers=headers), None)
    assert response["statusCode"] == 204
    assert response["body"] == ""
    assert response["headers"] == preflight_headers(origin)


@pytest.mark.parametrize("origin", DEFAULT_ALLOWED_ORIGINS)
def test_get_from_each_page_origin_echoes_it(published: Publisher, origin: str) -> None:
    response = handler(rest_event(PAGE, headers={"Origin": origin}), None)
    assert response["statusCode"] == 200
    assert response["headers"]["Access-Control-Allow-Origin"] == origin
    assert response["headers"]["Vary"] == "Origin"


def test_errors_for_the_page_carry_the_header_so_it_can_read_them(published: Publisher) -> None:
    origin = "https://www.deepskyclimate.com"
    response = handler(rest_event("key=processed/nope*", headers={"Origin": origin}), None)
    assert (response["statusCode"], body(response)) == (404, {"error": "unknown dataset"})
    assert response["headers"]["Access-Control-Allow-Origin"] == origin


def test_no_origin_means_no_cors_header_but_an_answer(published: Publisher) -> None:
    # curl and server-side callers send no Origin; CORS is not what protects the bucket.
    response = handler(rest_event(PAGE), None)
    assert response["statusCode"] == 200
    assert "Access-Control-Allow-Origin" not in response["headers"]
    preflight = handler(rest_event(PAGE, method="OPTIONS"), None)
    assert preflight["statusCode"] == 204
    assert "Access-Control-Allow-Origin" not in preflight["headers"]


def test_localhost_only_when_configured(published: Publisher) -> None:
    local = {"Origin": "http://localhost:8000"}
    assert handler(rest_event(PAGE, headers=local), None)["statusCode"] == 403
    with patched_env({"PRESIGN_ALLOWED_ORIGINS": "http://localhost:8000,https://deepsky.webflow.io"}):
        from presign_lambda import handler as module

        module.reset()  # a new container reads the new setting
        ok = handler(rest_event(PAGE, headers=local), None)
        production = handler(rest_event(PAGE, headers={"Origin": "https://www.deepskyclimate.com"}), None)
    assert ok["statusCode"] == 200
    assert ok["headers"]["Access-Control-Allow-Origin"] == "http://localhost:8000"
    # The configured list replaces the defaults.
    assert production["statusCode"] == 403
    assert "Access-Control-Allow-Origin" not in production["headers"]


def test_two_origins_in_one_header_match_nothing(published: Publisher) -> None:
    both = "https://www.deepskyclimate.com,https://evil.example"
    event = rest_event(PAGE)
    event["multiValueHeaders"] = {"Origin": ["https://www.deepskyclimate.com", "https://evil.example"]}
    event["headers"] = {"Origin": "https://evil.example"}
    response = handler(event, None)
    assert response["statusCode"] == 403
    assert "Access-Control-Allow-Origin" not in response["headers"]
    response = handler(rest_event(PAGE, headers={"Origin": both}), None)
    assert response["statusCode"] == 403
