"""The pipeline's manifest (``processed/manifest.json``), read from S3 and cached in the warm container.

Only ``datasets.<name>.key`` is used: the newest published key of each dataset. Other fields
(``generated_at``, ``rows``, ``sha256``, an ``inputs`` object if present, anything new) are ignored.
Entries for datasets outside the contract's allowlist, or whose key is not
``processed/<name>_YYYYMMDD[_<n>].csv``, are ignored, so a bad manifest can never widen what is
presigned. A document that is too big, nested too deep, not JSON or not a version-1 manifest is
refused as a whole: the last good copy keeps being served, and S3 is asked again only after a
back-off, not on every request.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from presign_lambda.keys import version_dataset
from presign_lambda.s3 import ObjectTooLarge, read_object
from presign_lambda.settings import DATASETS, MANIFEST_KEY

# The real manifest is a few kB (seven datasets, about 200 bytes each); 256 KiB leaves room for
# growth and keeps one read and parse cheap.
MAX_MANIFEST_BYTES = 256 * 1024
# The shape is {"datasets": {"<name>": {"key": ...}}}: 3 levels; unknown fields may nest a little.
MAX_MANIFEST_DEPTH = 8
MAX_MANIFEST_DATASETS = 64
MANIFEST_VERSION = 1
# A failed or refused read is retried after the cache period, and never sooner than this, so a
# broken manifest is not fetched on every request even when the cache is set to 0 s.
MIN_FAILED_READ_RETRY_SECONDS = 5.0
_MISSING_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}

# Strings are cut out before counting brackets, so "[" inside a value does not count.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class ManifestRefused(ValueError):
    """The document is not a manifest this service trusts (the message says why, in one sentence)."""


@dataclass(frozen=True)
class ManifestSnapshot:
    """What the service knows about published datasets at one moment.

    ``keys`` maps dataset -> newest key, or is None when no manifest could be read (then the fixed
    allowlist applies and pattern and version requests have no answer). ``status`` is for the
    request log: ``ok``, ``missing``, ``unreadable`` (refused: too big, too deep, not JSON,
    malformed), ``error`` (S3 or network) or ``stale`` (unreadable or error, the last good copy
    kept). ``problem`` is the sentence explaining a status other than ``ok``. ``refused`` says the
    document now in the bucket was read and refused (so it is not handed to the page either).
    """

    keys: dict[str, str] | None
    status: str
    problem: str | None = None
    refused: bool = False

    @property
    def available(self) -> bool:
        return self.keys is not None


def nesting_depth(text: str, limit: int) -> int:
    """How deep ``[``/``{`` nest outside strings; stops counting once past ``limit``.

    Checked before ``json.loads``, whose recursion on a deeply nested document raises
    RecursionError instead of a ValueError."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        else:
            depth -= 1
    return deepest


def parse_manifest(raw: bytes) -> dict[str, str]:
    """Newest key per allowlisted dataset; raises ManifestRefused when the document is not a
    version-1 manifest within the size and nesting limits."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestRefused(f"{MANIFEST_KEY} is {len(raw)} bytes, over the {MAX_MANIFEST_BYTES}-byte limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestRefused(f"{MANIFEST_KEY} is not UTF-8 (byte {exc.start})") from None
    if nesting_depth(text, MAX_MANIFEST_DEPTH) > MAX_MANIFEST_DEPTH:
        raise ManifestRefused(f"{MANIFEST_KEY} nests deeper than {MAX_MANIFEST_DEPTH} levels")
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestRefused(f"{MANIFEST_KEY} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError:  # e.g. an integer of more than 4300 digits
        raise ManifestRefused(f"{MANIFEST_KEY} holds a value JSON parsing refuses") from None
    except RecursionError:  # unreachable after the depth check; kept as a last guard
        raise ManifestRefused(f"{MANIFEST_KEY} nests deeper than {MAX_MANIFEST_DEPTH} levels") from None
    if not isinstance(doc, dict):
        raise ManifestRefused(f"{MANIFEST_KEY} is not a JSON object")
    version = doc.get("version")
    if type(version) is not int or version != MANIFEST_VERSION:
        raise ManifestRefused(f"{MANIFEST_KEY} has version {json.dumps(version)}, expected {MANIFEST_VERSION}")
    datasets = doc.get("datasets")
    if not isinstance(datasets, dict):
        raise ManifestRefused(f"{MANIFEST_KEY} has no 'datasets' object")
    if len(datasets) > MAX_MANIFEST_DATASETS:
        raise ManifestRefused(f"{MANIFEST_KEY} lists {len(datasets)} datasets, over the limit of {MAX_MANIFEST_DATASETS}")
    keys: dict[str, str] = {}
    for name, entry in datasets.items():
        key = entry.get("key") if isinstance(entry, dict) else None
        if name in DATASETS and isinstance(key, str) and version_dataset(key) == name:
            keys[name] = key
    return keys


class ManifestCache:
    """Reads the manifest at most once per ``ttl_seconds`` (after a failure, once per
    ``max(ttl_seconds, MIN_FAILED_READ_RETRY_SECONDS)``); ``clock`` is injectable for tests."""

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
        self._good: dict[str, str] | None = None  # the last good copy's keys
        self._next_read_at = 0.0
        self.fetches = 0  # how many times S3 was asked (tests and the bench read it)

    def get(self) -> ManifestSnapshot:
        """The cached snapshot until its next read is due, otherwise a new read."""
        with self._lock:
            now = self._clock()
            if self._snapshot is not None and now < self._next_read_at:
                return self._snapshot
            fresh = self._fetch()
            if fresh.status == "ok":
                self._good = fresh.keys
                self._next_read_at = now + self._ttl
            elif fresh.status == "missing":
                # Deliberately absent (nothing published yet): nothing to keep, no back-off needed.
                self._good = None
                self._next_read_at = now + self._ttl
            else:
                # Refused or failed: keep serving the last good copy, and back off.
                if self._good is not None:
                    fresh = ManifestSnapshot(self._good, "stale", fresh.problem, fresh.refused)
                self._next_read_at = now + max(self._ttl, MIN_FAILED_READ_RETRY_SECONDS)
            self._snapshot = fresh
            return fresh

    def _fetch(self) -> ManifestSnapshot:
        self.fetches += 1
        try:
            raw = read_object(self._client, self._bucket, MANIFEST_KEY, MAX_MANIFEST_BYTES)
        except ObjectTooLarge as exc:
            return ManifestSnapshot(None, "unreadable", str(exc), refused=True)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_CODES:
                return ManifestSnapshot(None, "missing", f"{MANIFEST_KEY} does not exist")
            return ManifestSnapshot(None, "error", f"S3 refused the read of {MANIFEST_KEY} ({code})")
        except BotoCoreError as exc:
            return ManifestSnapshot(None, "error", f"S3 could not be read ({type(exc).__name__})")
        try:
            return ManifestSnapshot(parse_manifest(raw), "ok")
        except ManifestRefused as exc:
            return ManifestSnapshot(None, "unreadable", str(exc), refused=True)
