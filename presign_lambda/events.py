"""API Gateway REST API proxy events (payload 1.0: what deployment/template.yaml's API sends) read
into the request shape the service looks at.

Anything in the event that is not of the type API Gateway sends is either a BadEvent (the event
itself is not usable) or, for one query parameter, a name in ``HttpRequest.malformed`` (a null,
number or list where a string belongs), which the service answers with a 400 naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class BadEvent(ValueError):
    """The event is not a REST API proxy event."""


@dataclass(frozen=True)
class HttpRequest:
    """The parts of a request the service looks at. Query values are URL-decoded once."""

    method: str
    path: str | None
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    request_id: str | None = None
    malformed: frozenset[str] = frozenset()  # query parameters whose value was not text

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def parse_event(event: Any) -> HttpRequest:
    """Normalise a REST API proxy event; raise BadEvent for anything else."""
    if not isinstance(event, Mapping) or not isinstance(event.get("httpMethod"), str):
        raise BadEvent("not an API Gateway REST API event")
    context = _mapping(event.get("requestContext"), "requestContext")
    multi = _mapping(event.get("multiValueQueryStringParameters"), "multiValueQueryStringParameters")
    single = _mapping(event.get("queryStringParameters"), "queryStringParameters")
    query: dict[str, list[str]] = {}
    malformed: set[str] = set()
    if multi:
        for name, values in multi.items():
            if isinstance(values, list) and all(isinstance(v, str) for v in values):
                query[str(name)] = list(values)
            else:
                malformed.add(str(name))
    else:
        for name, value in single.items():
            if isinstance(value, str):
                query[str(name)] = [value]
            else:
                malformed.add(str(name))
    headers = _lower(event.get("headers"))
    multi_headers = _mapping(event.get("multiValueHeaders"), "multiValueHeaders")
    for name, values in multi_headers.items():
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            headers[str(name).lower()] = ",".join(values)  # several Origin values then match nothing
    return HttpRequest(
        method=str(event.get("httpMethod", "")).upper(),
        path=_path(event.get("path")),
        query=query,
        headers=headers,
        request_id=_text(context.get("requestId")),
        malformed=frozenset(malformed),
    )


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    """``value`` when it is an object, {} when absent (null); BadEvent for any other type."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadEvent(f"{name} is not an object")
    return value


def _path(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise BadEvent("the path is not text")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _lower(headers: Any) -> dict[str, str]:
    """Header names lower-cased; values that are not text are dropped (API Gateway sends text)."""
    return {str(k).lower(): v for k, v in _mapping(headers, "headers").items() if isinstance(v, str)}
