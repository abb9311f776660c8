"""Which keys the page may ask for, and what each one means.

A key is accepted only if it matches one of four kinds of exact shape (dataset pattern, dataset
version, the manifest, page code): a whitelist, not a blacklist. The explicit checks before the
shapes exist to give a clear error for the usual attacks.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum

from presign_lambda.settings import MANIFEST_KEY

MAX_KEY_LENGTH = 200

# A dataset name: lower-case words joined by single underscores (orders_for_viz, carbon_pricing).
# No trailing or doubled underscore, so "latest_deals_*" can only mean latest_deals.
_NAME = r"[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*"
# The live page spells the "newest version" pattern both ways: processed/<dataset>* and
# processed/<dataset>_* (its deals ticker asks processed/latest_deals_*); no prefix means processed/.
_PATTERN = re.compile(rf"^(?:processed/)?(?P<dataset>{_NAME})_?\*$")
# processed/<dataset>_YYYYMMDD.csv (first publication of a UTC day) and
# processed/<dataset>_YYYYMMDD_<n>.csv (a same-day republish, n = 2..999, no leading zero).
_VERSION = re.compile(rf"^processed/(?P<dataset>{_NAME})_(?P<date>[0-9]{{8}})(?:_(?P<seq>[2-9]|[1-9][0-9]{{1,2}}))?\.csv$")
# The page's code: one flat file name (dot-separated words: chart_templates.js, dashboard.min.css),
# either directly under viz/ (today's embed) or one level down in a version folder viz/v<digits>/.
_VIZ = re.compile(r"^viz/(?:v[0-9]+/)?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.(?P<ext>js|css)$")

KEY_NOT_ALLOWED = (
    "key not allowed: expected processed/<dataset>* (or <dataset>_*), "
    "processed/<dataset>_YYYYMMDD[_<n>].csv, processed/manifest.json, "
    "viz/<file>.js|.css or viz/v<digits>/<file>.js|.css"
)

_VIZ_CONTENT_TYPES = {"js": "application/javascript", "css": "text/css"}
CSV_CONTENT_TYPE = "text/csv"
JSON_CONTENT_TYPE = "application/json"


class KeyKind(Enum):
    PATTERN = "pattern"  # processed/<dataset>* or processed/<dataset>_*: the newest version
    VERSION = "version"  # processed/<dataset>_YYYYMMDD[_<n>].csv: one version
    MANIFEST = "manifest"  # processed/manifest.json
    VIZ = "viz"  # viz/<file>.js|.css or viz/v<digits>/<file>.js|.css: the page's own code


@dataclass(frozen=True)
class KeyRequest:
    """A key that passed validation. ``object_key`` is "" for a pattern (the manifest decides);
    ``dataset`` is "" for the manifest and viz files."""

    kind: KeyKind
    object_key: str
    content_type: str
    dataset: str = ""


class KeyRefused(ValueError):
    """The key is malformed or outside what the page may read (always HTTP 400)."""


def parse_key(key: str) -> KeyRequest:
    """Validate a key exactly as the client sent it (after the gateway's one URL-decoding)."""
    _refuse_tricks(key)
    if key == MANIFEST_KEY:
        return KeyRequest(KeyKind.MANIFEST, MANIFEST_KEY, JSON_CONTENT_TYPE)
    if m := _PATTERN.match(key):
        return KeyRequest(KeyKind.PATTERN, "", CSV_CONTENT_TYPE, m["dataset"])
    if m := _VERSION.match(key):
        try:
            dt.datetime.strptime(m["date"], "%Y%m%d")
        except ValueError:
            raise KeyRefused("the date in the key is not a real YYYYMMDD date") from None
        return KeyRequest(KeyKind.VERSION, key, CSV_CONTENT_TYPE, m["dataset"])
    if m := _VIZ.match(key):
        return KeyRequest(KeyKind.VIZ, key, _VIZ_CONTENT_TYPES[m["ext"]])
    raise KeyRefused(KEY_NOT_ALLOWED)


def version_dataset(key: str) -> str | None:
    """The dataset of a ``processed/<dataset>_YYYYMMDD[_<n>].csv`` key, else None (checks manifest
    entries)."""
    try:
        parsed = parse_key(key)
    except KeyRefused:
        return None
    return parsed.dataset if parsed.kind is KeyKind.VERSION else None


def _refuse_tricks(key: str) -> None:
    if not key:
        raise KeyRefused("missing key parameter")
    if len(key) > MAX_KEY_LENGTH:
        raise KeyRefused(f"key longer than {MAX_KEY_LENGTH} characters")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in key):
        raise KeyRefused("key contains control characters")
    # The gateway already decoded the query once; a '%' left over means double encoding.
    if "%" in key:
        raise KeyRefused("key must not be URL-encoded twice")
    if "\\" in key:
        raise KeyRefused("key must not contain backslashes")
    if ".." in key:
        raise KeyRefused("key must not contain '..'")
    if "://" in key or key.startswith("/"):
        raise KeyRefused("key must be a relative key, not a URL or absolute path")
    if "//" in key:
        raise KeyRefused("key must not contain '//'")
