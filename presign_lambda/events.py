"""API Gateway events (REST payload 1.0 and HTTP API payload 2.0) read into one request shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


class BadEvent(ValueError):
    """The event is neither payload 1.0 nor 2.0."""


@dataclass(frozen=True)
class HttpRequest:
    """The parts of a request the service looks at. Query values are URL-decoded once."""

    method: str
    path: str | None
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    request_id: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def parse_event(event: Any) -> HttpRequest:
    """Normalise either payload format; raise BadEvent for anything else."""
    if not isinstance(event, Mapping):
        raise BadEvent("event is not an object")
    context = event.get("requestContext") or {}
    if event.get("version") == "2.0" or isinstance(context.get("http"), Mapping):
        return _from_v2(event, context)
    if isinstance(event.get("httpMethod"), str):
        return _from_v1(event, context)
    raise BadEvent("not an API Gateway event")


def _from_v2(event: Mapping[str, Any], context: Mapping[str, Any]) -> HttpRequest:
    http = context.get("http") or {}
    raw_query = event.get("rawQueryString")
    if isinstance(raw_query, str):
        # The raw string keeps repeated parameters apart (queryStringParameters joins them with ",").
        query: dict[str, list[str]] = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            query.setdefault(name, []).append(value)
    else:
        query = {k: [v] for k, v in (event.get("queryStringParameters") or {}).items()}
    return HttpRequest(
        method=str(http.get("method", "")).upper(),
        path=event.get("rawPath") or http.get("path"),
        query=query,
        headers=_lower(event.get("headers")),
        request_id=context.get("requestId"),
    )


def _from_v1(event: Mapping[str, Any], context: Mapping[str, Any]) -> HttpRequest:
    multi = event.get("multiValueQueryStringParameters")
    if multi:
        query = {k: list(v) for k, v in multi.items()}
    else:
        query = {k: [v] for k, v in (event.get("queryStringParameters") or {}).items()}
    headers = _lower(event.get("headers"))
    for name, values in (event.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ",".join(values)  # several Origin values then match nothing
    return HttpRequest(
        method=str(event.get("httpMethod", "")).upper(),
        path=event.get("path"),
        query=query,
        headers=headers,
        request_id=context.get("requestId"),
    )


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}
