"""Test building blocks: API Gateway events as the gateway sends them, a publisher that writes
datasets and the manifest the way the pipeline does, and a settable clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

BUCKET = "presign-tests-standard"  # unique: moto keeps one store per process, shared by every test
ROUTE = "/presigned-url"


def _decoded(raw_query: str) -> list[tuple[str, str]]:
    # API Gateway URL-decodes the query once before handing it to the function.
    return parse_qsl(raw_query, keep_blank_values=True)


def rest_event(
    raw_query: str = "",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    path: str = ROUTE,
) -> dict[str, Any]:
    """A REST API proxy event (payload 1.0, what the template's API Gateway sends); the stage is in
    requestContext.path, not in path."""
    multi: dict[str, list[str]] = {}
    for name, value in _decoded(raw_query):
        multi.setdefault(name, []).append(value)
    headers = headers or {}
    return {
        "resource": ROUTE,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers) or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": "req-v1",
            "stage": "test",
            "path": f"/test{path}",
            "httpMethod": method,
            "resourcePath": ROUTE,
        },
        "body": None,
        "isBase64Encoded": False,
    }


def body(response: dict[str, Any]) -> dict[str, Any]:
    return json.loads(response["body"])


@dataclass
class Publisher:
    """Writes dataset versions and ``processed/manifest.json`` as the pipeline does."""

    client: Any
    bucket: str = BUCKET
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def publish(self, dataset: str, yyyymmdd: str, csv: bytes, manifest: bool = True, republish: int | None = None) -> str:
        """Write one version and (unless told not to, to batch) the manifest naming it newest.

        ``republish=n`` writes the same day's n-th publication, ``<dataset>_YYYYMMDD_<n>.csv`` (D3)."""
        suffix = f"_{republish}" if republish is not None else ""
        key = f"processed/{dataset}_{yyyymmdd}{suffix}.csv"
        self.put(key, csv)
        self.entries[dataset] = {
            "key": key,
            "rows": csv.count(b"\n") - 1,
            "sha256": "0" * 64,
            "updated_at": f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}T23:59:00Z",
            "source": "live",
        }
        if manifest:
            self.write_manifest()
        return key

    def write_manifest(self, extra: dict[str, Any] | None = None) -> bytes:
        doc = {
            "version": 1,
            "generated_at": "2026-11-27T23:59:00Z",
            "deployment": "test",
            "datasets": {**self.entries, **(extra or {})},
        }
        data = json.dumps(doc).encode()
        self.put("processed/manifest.json", data)
        return data


class Clock:
    """A monotonic clock the test moves by hand (stands in for time.monotonic)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
