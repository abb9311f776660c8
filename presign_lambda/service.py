"""The presign service: one request in, one API Gateway response out, one JSON log line written.

Two routes: ``GET /presigned-url?key=<key>`` (the live page's contract, unchanged) and
``GET /presigned-urls?keys=<k1>,<k2>,...`` (D5: up to 20 keys in one call, each judged exactly as
the single route would judge it). A request makes at most one S3 call, the manifest read, and
only when the cached copy is due for a refresh.
"""

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
from presign_lambda.keys import MAX_KEY_LENGTH, KeyKind, KeyRefused, KeyRequest, parse_key
from presign_lambda.manifest import ManifestCache, ManifestSnapshot
from presign_lambda.s3 import presign_get
from presign_lambda.settings import DATASETS, Settings

ROUTE = "/presigned-url"
BATCH_ROUTE = "/presigned-urls"
MAX_BATCH_KEYS = 20
# Twenty keys of the longest allowed length and their commas: anything longer cannot be valid.
MAX_BATCH_CHARS = MAX_BATCH_KEYS * (MAX_KEY_LENGTH + 1) - 1
# The key as asked is logged, cut to this length: enough to see an attack, not a log flood.
LOGGED_KEY_CHARS = 256


@dataclass
class Outcome:
    """The answer to one request (or to one key of a batch) before it is shaped for API Gateway."""

    status: int
    body: dict[str, Any] | None
    outcome: str  # short machine-readable reason for the log
    extra_headers: dict[str, str] = field(default_factory=dict)
    object_key: str | None = None  # the S3 key presigned (never the URL)
    manifest: ManifestSnapshot | None = None  # when it was consulted
    cacheable: bool = False  # a browser or CDN may reuse the answer for a while
    log_extra: dict[str, Any] = field(default_factory=dict)


def _error(status: int, message: str, outcome: str, **kw: Any) -> Outcome:
    return Outcome(status, {"error": message}, outcome, **kw)


class _RequestManifest:
    """The manifest as one request sees it: read from the cache once, so a batch of keys costs
    at most one S3 call even with a cache period of 0 s."""

    def __init__(self, cache: ManifestCache) -> None:
        self._cache = cache
        self.snapshot: ManifestSnapshot | None = None

    def get(self) -> ManifestSnapshot:
        if self.snapshot is None:
            self.snapshot = self._cache.get()
        return self.snapshot


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
        """Answer one API Gateway REST API proxy event with a proxy-integration response."""
        started = time.perf_counter()
        request: HttpRequest | None = None
        try:
            request = parse_event(event)
            result = self._answer(request)
        except BadEvent:
            result = _error(400, "bad request", "bad_event")
        except Exception as exc:
            result = _error(500, "internal error", f"error:{type(exc).__name__}")
        origin = request.header("origin") if request else None
        response = _response(
            result, cors.cors_headers(origin, self.settings.allowed_origins), self.settings.answer_max_age_seconds
        )
        self._log(request, request_id, result, started)
        return response

    def _answer(self, request: HttpRequest) -> Outcome:
        origin = request.header("origin")
        if origin is not None and not cors.origin_allowed(origin, self.settings.allowed_origins):
            # A browser would block the answer anyway; refusing saves the work and says why.
            return _error(403, "origin not allowed", "origin_refused")
        route = _route(request.path)
        if route is None:
            return _error(404, "not found", "no_route")
        if request.method == "OPTIONS":
            return Outcome(204, None, "preflight", cors.preflight_headers())
        if request.method != "GET":
            return _error(405, "method not allowed", "method_refused", extra_headers={"Allow": cors.ALLOWED_METHODS})
        if "bucket" in request.query or "bucket" in request.malformed:
            return _error(400, "the bucket parameter is not accepted", "bucket_refused")
        if route == BATCH_ROUTE:
            return self._batch(request)
        key = _one_param(request, "key")
        if isinstance(key, Outcome):
            return key
        result = self._presign_key(key, _RequestManifest(self.manifest))
        result.cacheable = result.status == 200
        return result

    def _batch(self, request: HttpRequest) -> Outcome:
        raw = _one_param(request, "keys")
        if isinstance(raw, Outcome):
            return raw
        if len(raw) > MAX_BATCH_CHARS:
            return _error(400, f"keys longer than {MAX_BATCH_CHARS} characters", "keys_too_long")
        asked = raw.split(",")
        if len(asked) > MAX_BATCH_KEYS:
            return _error(400, f"{len(asked)} keys asked, at most {MAX_BATCH_KEYS} per request", "keys_too_many")
        if "" in asked:
            return _error(400, "keys has an empty entry (a comma at an end, or two in a row)", "keys_empty_entry")
        manifest = _RequestManifest(self.manifest)
        urls: dict[str, str] = {}
        errors: dict[str, dict[str, Any]] = {}
        object_keys: list[str] = []
        for key in dict.fromkeys(asked):  # a key asked twice is answered once
            result = self._presign_key(key, manifest)
            answer = result.body or {}
            if result.status == 200:
                urls[key] = answer["url"]
                object_keys.append(result.object_key or "")
            else:
                errors[key] = {"status": result.status, "error": answer["error"]}
        outcome = "presigned" if not errors else ("presigned_some" if urls else "presigned_none")
        return Outcome(
            200,
            {"urls": urls, "errors": errors},
            outcome,
            manifest=manifest.snapshot,
            # An answer holding an error (say, a dataset not published yet) is not reused.
            cacheable=not errors,
            log_extra={"object_keys": object_keys, "errors": {k[:LOGGED_KEY_CHARS]: e["status"] for k, e in errors.items()}},
        )

    def _presign_key(self, key: str, manifest: _RequestManifest) -> Outcome:
        try:
            asked = parse_key(key)
        except KeyRefused as exc:
            return _error(400, str(exc), "key_refused")
        return self._presign(asked, manifest)

    def _presign(self, asked: KeyRequest, manifest: _RequestManifest) -> Outcome:
        if asked.kind is KeyKind.VIZ:
            # The page's own code: presigned without any S3 call.
            return self._url(asked, asked.object_key)
        if asked.dataset and asked.dataset not in DATASETS:
            return _error(404, "unknown dataset", "unknown_dataset")
        snapshot = manifest.get()
        published = snapshot.keys  # None when no manifest could be read: nothing is published
        if asked.kind is KeyKind.MANIFEST:
            if snapshot.refused:
                # The document in the bucket is not one this service trusts (too big, malformed):
                # the page is not sent to download it.
                return _error(404, "no valid manifest published", "manifest_refused", manifest=snapshot)
            if published is None:
                return _error(404, "no manifest published", "no_manifest", manifest=snapshot)
            return self._url(asked, asked.object_key, snapshot)
        dataset = asked.dataset
        if published is not None and dataset not in published:
            return _error(404, f"{dataset} is not published", "not_published", manifest=snapshot)
        if asked.kind is KeyKind.PATTERN:
            if published is None:
                return _error(404, f"no published version of {dataset}", "no_version", manifest=snapshot)
            return self._url(asked, published[dataset], snapshot)
        # One version: only the exact key the manifest lists now. An older or rolled-back version
        # is not handed out, even though its object is still in the bucket.
        if published is None or published[dataset] != asked.object_key:
            return _error(404, "version not published", "version_not_published", manifest=snapshot)
        return self._url(asked, asked.object_key, snapshot)

    def _url(self, asked: KeyRequest, key: str, snapshot: ManifestSnapshot | None = None) -> Outcome:
        url = presign_get(
            self.client,
            self.settings.bucket,
            key,
            asked.content_type,
            self.settings.url_expires_seconds,
        )
        return Outcome(200, {"url": url}, "presigned", object_key=key, manifest=snapshot)

    def _log(self, request: HttpRequest | None, request_id: str | None, result: Outcome, started: float) -> None:
        keys = request.query.get("key", []) if request else []
        request_id = request_id or (request.request_id if request else None) or str(uuid.uuid4())
        snapshot = result.manifest
        record: dict[str, Any] = {
            "request_id": request_id,
            "method": request.method if request else None,
            "key": keys[0][:LOGGED_KEY_CHARS] if keys else None,
            "status": result.status,
            "outcome": result.outcome,
            "object_key": result.object_key,
            "manifest": snapshot.status if snapshot else None,
        }
        if request is not None and _route(request.path) == BATCH_ROUTE:
            asked = request.query.get("keys", [])
            record["keys"] = [k[:LOGGED_KEY_CHARS] for k in (asked[0].split(",")[:MAX_BATCH_KEYS] if asked else [])]
            record.update(result.log_extra)
        if snapshot is not None and snapshot.problem:
            record["manifest_problem"] = snapshot.problem
        record["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
        stream = self._log_stream or sys.stdout  # Lambda sends stdout to CloudWatch as is
        stream.write(json.dumps(record) + "\n")
        stream.flush()


def _route(path: str | None) -> str | None:
    """Which route a path is (any stage prefix allowed), or None. No path means the single route."""
    if path is None or path.endswith(ROUTE):
        return ROUTE
    if path.endswith(BATCH_ROUTE):
        return BATCH_ROUTE
    return None


def _one_param(request: HttpRequest, name: str) -> str | Outcome:
    """The one text value of query parameter ``name``, or the 400 that says what is wrong with it."""
    if name in request.malformed:
        return _error(400, f"{name} must be one text value", f"{name}_malformed")
    values = request.query.get(name, [])
    if len(values) > 1:
        return _error(400, f"{name} given more than once", f"{name}_repeated")
    if not values or not values[0]:
        return _error(400, f"missing {name} parameter", f"{name}_missing")
    return values[0]


def _response(result: Outcome, cors_headers: dict[str, str], max_age: int) -> dict[str, Any]:
    # A reused answer must leave its URL most of its lifetime (max_age is at most expiry / 5);
    # errors, preflights and answers holding an error are never reused.
    cacheable = result.cacheable and result.status == 200 and max_age > 0
    headers = {
        **cors_headers,
        **result.extra_headers,
        "Cache-Control": f"public, max-age={max_age}" if cacheable else "no-store",
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
