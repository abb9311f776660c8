"""The pipeline's manifest (``processed/manifest.json``), read from S3 and cached in the warm container.

Only ``datasets.<name>.key`` is used: the newest published key of each dataset. Entries for
datasets outside the contract's allowlist, or whose key is not ``processed/<name>_YYYYMMDD.csv``,
are ignored, so a bad manifest can never widen what is presigned.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from presign_lambda.keys import version_dataset
from presign_lambda.settings import DATASETS, MANIFEST_KEY

# The real manifest is a few kB; anything far larger is not ours and is not parsed.
MAX_MANIFEST_BYTES = 1_000_000
_MISSING_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}


@dataclass(frozen=True)
class ManifestSnapshot:
    """What the service knows about published datasets at one moment.

    ``keys`` maps dataset -> newest key, or is None when no manifest could be read (then the fixed
    allowlist applies and pattern requests have no answer). ``status`` is for the request log:
    ``ok``, ``missing``, ``unreadable``, ``error`` or ``stale`` (an error, old copy kept).
    """

    keys: dict[str, str] | None
    status: str

    @property
    def available(self) -> bool:
        return self.keys is not None


def parse_manifest(raw: bytes) -> dict[str, str]:
    """Newest key per allowlisted dataset; raises ValueError when the document is not a manifest."""
    doc: Any = json.loads(raw)
    if not isinstance(doc, dict) or not isinstance(doc.get("datasets"), dict):
        raise ValueError("manifest has no 'datasets' object")
    keys: dict[str, str] = {}
    for name, entry in doc["datasets"].items():
        key = entry.get("key") if isinstance(entry, dict) else None
        if name in DATASETS and isinstance(key, str) and version_dataset(key) == name:
            keys[name] = key
    return keys


class ManifestCache:
    """Reads the manifest at most once per ``ttl_seconds``; ``clock`` is injectable for tests."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()  # the local server is threaded; Lambda is not
        self._snapshot: ManifestSnapshot | None = None
        self._fetched_at = 0.0
        self.fetches = 0  # how many times S3 was asked (tests and the bench read it)

    def get(self) -> ManifestSnapshot:
        """The cached snapshot while fresh, otherwise a new read (failures are cached too)."""
        with self._lock:
            now = self._clock()
            if self._snapshot is not None and now - self._fetched_at < self._ttl:
                return self._snapshot
            fresh = self._fetch()
            # A transient S3 error keeps the last good copy rather than hiding every dataset.
            if fresh.status == "error" and self._snapshot is not None and self._snapshot.available:
                fresh = ManifestSnapshot(self._snapshot.keys, "stale")
            self._snapshot, self._fetched_at = fresh, now
            return fresh

    def _fetch(self) -> ManifestSnapshot:
        self.fetches += 1
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=MANIFEST_KEY)["Body"]
            with body:
                raw = body.read(MAX_MANIFEST_BYTES + 1)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            return ManifestSnapshot(None, "missing" if code in _MISSING_CODES else "error")
        except BotoCoreError:
            return ManifestSnapshot(None, "error")
        if len(raw) > MAX_MANIFEST_BYTES:
            return ManifestSnapshot(None, "unreadable")
        try:
            return ManifestSnapshot(parse_manifest(raw), "ok")
        except ValueError:  # includes JSON and UTF-8 decoding errors
            return ManifestSnapshot(None, "unreadable")
