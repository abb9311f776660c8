"""The presign service: one request in, one API Gateway response out, one JSON log line written."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from presign_lambda import cors
from presign_lambda.events import BadEvent, HttpRequest, parse_event
from presign_lambda.keys import KeyKind, KeyRefused, KeyRequest, parse_key
from presign_lambda.manifest import ManifestCache, ManifestSnapshot
from presign_lambda.s3 import object_exists, presign_get
from presign_lambda.settings import DATASETS, Settings

ROUTE = "/presigned-url"
# The key as asked is logged, cut to this length: enough to see an attack, not a log flood.
LOGGED_KEY_CHARS = 256


@dataclass
class Outcome:
    """The answer to one request before it is shaped for API Gateway."""

    status: int
    body: dict[str, str] | None
    outcome: str  # short machine-readable reason for the log
    extra_headers: dict[str, str] = field(default_factory=dict)
    object_key: str | None = None  # the S3 key presigned (never the URL)
    manifest: str | None = None  # manifest status when it was consulted


def _error(status: int, message: str, outcome: str, **kw: Any) -> Outcome:
    return Outcome(status, {"error": message}, outcome, **kw)


class PresignService:
    """Holds the warm state (settings, S3 client, manifest cache) and answers requests."""

    def __init__(
        self,
        settings: Settings,
        client: Any,
        *,
        clock: Callable[[], float] = time.monotonic,
        log_stream: TextIO | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.manifest = ManifestCache(client, settings.bucket, settings.manifest_cache_seconds, clock)
        self._log_stream = log_stream

    def handle(self, event: Any, request_id: str | None = None) -> dict[str, Any]:
        """Answer one API Gateway event (payload 1.0 or 2.0) with a proxy-integration response."""
        started = time.perf_counter()
        request: HttpRequest | None = None
        try:
            request = parse_event(event)
            result = self._answer(request)
        except BadEvent:
            result = _error(400, "bad request", "bad_event")
        except Exception as exc:  # noqa: BLE001 - the client must never see internals
            result = _error(500, "internal error", f"error:{type(exc).__name__}")
        origin = request.header("origin") if request else None
        response = _response(result, cors.cors_headers(origin, self.settings.allowed_origins))
        self._log(request, request_id, result, started)
        return response

    def _answer(self, request: HttpRequest) -> Outcome:
        origin = request.header("origin")
        if origin is not None and not cors.origin_allowed(origin, self.settings.allowed_origins):
            # A browser would block the answer anyway; refusing saves the work and says why.
            return _error(403, "origin not allowed", "origin_refused")
        if request.path is not None and not request.path.endswith(ROUTE):
            return _error(404, "not found", "no_route")
        if request.method == "OPTIONS":
            return Outcome(204, None, "preflight", cors.preflight_headers())
        if request.method != "GET":
            return _error(405, "method not allowed", "method_refused",
                          extra_headers={"Allow": cors.ALLOWED_METHODS})
        if "bucket" in request.query:
            return _error(400, "the bucket parameter is not accepted", "bucket_refused")
        keys = request.query.get("key", [])
        if len(keys) > 1:
            return _error(400, "key given more than once", "key_repeated")
        if not keys or not keys[0]:
            return _error(400, "missing key parameter", "key_missing")
        try:
            asked = parse_key(keys[0])
        except KeyRefused as exc:
            return _error(400, str(exc), "key_refused")
        return self._presign(asked)

    def _presign(self, asked: KeyRequest) -> Outcome:
        if asked.kind is KeyKind.VIZ:
            # The page's own code: presigned without a HEAD, to stay off the network.
            return self._url(asked, asked.object_key)
        if asked.dataset and asked.dataset not in DATASETS:
            return _error(404, "unknown dataset", "unknown_dataset")
        snapshot = self.manifest.get()
        published = snapshot.keys  # None when no manifest could be read: the allowlist applies
        if asked.kind is KeyKind.MANIFEST:
            if published is None:
                return _error(404, "no manifest published", "no_manifest", manifest=snapshot.status)
            return self._url(asked, asked.object_key, snapshot)
        dataset = asked.dataset
        if published is not None and dataset not in published:
            return _error(404, f"{dataset} is not published", "not_published", manifest=snapshot.status)
        if asked.kind is KeyKind.PATTERN:
            if published is None:
                return _error(404, f"no published version of {dataset}", "no_version",
                              manifest=snapshot.status)
            return self._url(asked, published[dataset], snapshot)
        # One version: a HEAD makes a missing version a clean 404. It is the only network call
        # besides the cached manifest read, and only this key form pays for it.
        if not object_exists(self.client, self.settings.bucket, asked.object_key):
            return _error(404, "no such version", "no_such_version", manifest=snapshot.status)
        return self._url(asked, asked.object_key, snapshot)

    def _url(self, asked: KeyRequest, key: str, snapshot: ManifestSnapshot | None = None) -> Outcome:
        url = presign_get(
            self.client, self.settings.bucket, key, asked.content_type,
            self.settings.url_expires_seconds,
        )
        return Outcome(200, {"url": url}, "presigned", object_key=key,
                       manifest=snapshot.status if snapshot else None)

    def _log(
        self, request: HttpRequest | None, request_id: str | None, result: Outcome, started: float
    ) -> None:
        keys = request.query.get("key", []) if request else []
        request_id = request_id or (request.request_id if request else None) or str(uuid.uuid4())
        record = {
            "request_id": request_id,
            "method": request.method if request else None,
            "key": keys[0][:LOGGED_KEY_CHARS] if keys else None,
            "status": result.status,
            "outcome": result.outcome,
            "object_key": result.object_key,
            "manifest": result.manifest,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        stream = self._log_stream or sys.stdout  # Lambda sends stdout to CloudWatch as is
        stream.write(json.dumps(record) + "\n")
        stream.flush()


def _response(result: Outcome, cors_headers: dict[str, str]) -> dict[str, Any]:
    headers = {
        **cors_headers,
        **result.extra_headers,
        "Cache-Control": "no-store",  # a presigned URL must not outlive its expiry in a cache
        "X-Content-Type-Options": "nosniff",
    }
    if result.body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "statusCode": result.status,
        "headers": headers,
        "body": json.dumps(result.body) if result.body is not None else "",
        "isBase64Encoded": False,
    }
