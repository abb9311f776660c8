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
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter

SAMPLE_TOKEN = "sample-token"  # not a secret: only the bundled adapter accepts it
SNAPSHOT_FILE = "cdr_fyi_snapshot.json.gz"
FRONT_PAGE_FILE = "cdr_fyi_front_page.html"
CCN_COMPANIES_FILE = "ccn_companies.csv"


def sample_bytes(name: str) -> bytes:
    return resources.files("cdr_dagster.sample_data").joinpath(name).read_bytes()


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

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json(request, 401, {"error": "Unauthorized"})
        table = urlsplit(request.url or "").path.rstrip("/").rsplit("/", 1)[-1]
        tables = sample_tables()
        if request.method != "GET" or table not in tables:
            return _json(request, 404, {"error": "Not found"})
        try:
            page = int(request.headers.get("x-page", "1"))
            limit = int(request.headers.get("x-limit", "10"))
        except ValueError:
            return _json(request, 400, {"error": "x-page and x-limit must be integers"})
        if page < 1 or not 1 <= limit <= 100:
            return _json(request, 400, {"error": "x-page must be >= 1 and x-limit 1..100"})
        start = (page - 1) * limit
        return _json(request, 200, {table: tables[table][start : start + limit]})

    def close(self) -> None:
        pass


class SampleFrontPageAdapter(BaseAdapter):
    """Answers any GET with the bundled imitation of cdr.fyi's front page."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        return _response(request, 200, sample_bytes(FRONT_PAGE_FILE), "text/html; charset=utf-8")

    def close(self) -> None:
        pass
