"""The bundled sample snapshot, served the way cdr.fyi serves the real data.

On a laptop without a token the platform still runs end to end: a requests transport adapter
answers the client's HTTP requests from ``cdr_dagster/sample_data/`` with cdr.fyi's behaviour
(bearer auth, ``x-page``/``x-limit`` header paging), so the sample exercises the same client code
as a live pull. Everything it produces is labelled ``source: sample``.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter

from cdr_dagster.cdr_fyi.schema import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from cdr_dagster.sample_data import FRONT_PAGE_FILE, SNAPSHOT_FILE, sample_bytes

SAMPLE_TOKEN = "sample-token"  # not a secret: only the bundled adapter accepts it


def parse_paging(
    headers: Mapping[str, str], default_limit: int = DEFAULT_PAGE_SIZE, max_limit: int = MAX_PAGE_SIZE
) -> tuple[int | None, int | None, str | None]:
    """cdr.fyi's paging rule: (page, limit, error or None) from the x-page / x-limit headers.

    Shared by the bundled sample and the fake server in devtools/, so both page alike."""
    page = limit = None
    errors = []
    raw_page, raw_limit = headers.get("x-page"), headers.get("x-limit")
    try:
        page = 1 if raw_page is None else int(raw_page)
        if page < 1:
            raise ValueError
    except ValueError:
        page = None
        errors.append(f"x-page must be an integer >= 1, got {raw_page!r}")
    try:
        limit = default_limit if raw_limit is None else int(raw_limit)
        if not 1 <= limit <= max_limit:
            raise ValueError
    except ValueError:
        limit = None
        errors.append(f"x-limit must be an integer between 1 and {max_limit}, got {raw_limit!r}")
    return page, limit, "; ".join(errors) or None


def page_of(rows: list[dict[str, Any]], page: int, limit: int) -> list[dict[str, Any]]:
    """The records of one 1-based page."""
    start = (page - 1) * limit
    return list(rows[start : start + limit])


@functools.lru_cache(maxsize=1)
def sample_tables() -> dict[str, list[dict[str, Any]]]:
    return json.loads(gzip.decompress(sample_bytes(SNAPSHOT_FILE)))["tables"]


def _response(request: requests.PreparedRequest, status: int, body: bytes, content_type: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = content_type
    response.url = request.url or ""
    response.request = request
    response.reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}.get(status, "")
    return response


def _json(request: requests.PreparedRequest, status: int, payload: Any) -> requests.Response:
    return _response(request, status, json.dumps(payload).encode(), "application/json")


class SampleCdrFyiAdapter(BaseAdapter):
    """Answers ``GET <base>/<table>`` from the snapshot, paging by headers like cdr.fyi."""

    def __init__(self, token: str = SAMPLE_TOKEN) -> None:
        super().__init__()
        self.token = token

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json(request, 401, {"error": "Unauthorized"})
        table = urlsplit(request.url or "").path.rstrip("/").rsplit("/", 1)[-1]
        tables = sample_tables()
        if request.method != "GET" or table not in tables:
            return _json(request, 404, {"error": "Not found"})
        page, limit, error = parse_paging(request.headers)
        if error or page is None or limit is None:
            return _json(request, 400, {"error": error})
        return _json(request, 200, {table: page_of(tables[table], page, limit)})

    def close(self) -> None:
        pass


class SampleFrontPageAdapter(BaseAdapter):
    """Answers any GET with the bundled imitation of cdr.fyi's front page."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        return _response(request, 200, sample_bytes(FRONT_PAGE_FILE), "text/html; charset=utf-8")

    def close(self) -> None:
        pass
