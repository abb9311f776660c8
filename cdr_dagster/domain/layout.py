"""The bucket's layout: every prefix and key the platform reads or writes, in one place.

The same keys are used in the local data folder (``./data/<key>``) and in the deployment's S3
bucket. The page reads only ``processed/``; ``raw/`` holds inputs and ``staging/`` holds datasets
waiting for their checks. Each run writes its own files under ``raw/<run_id>/`` and
``staging/<run_id>/``: another run can never replace a file this run has checked.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

RAW_PREFIX: Final = "raw"
STAGING_PREFIX: Final = "staging"
PUBLISHED_PREFIX: Final = "processed"
#: The gates' baseline of each publication, under its stamp: a copy of each raw input the
#: published datasets were built from, and ``inputs.json``, the private record of them (rows,
#: columns, SHA-256, when their pulls started). Never public.
PUBLISHED_INPUTS_PREFIX: Final = "raw/published"
MANIFEST_KEY: Final = "processed/manifest.json"
#: Every manifest that went live, under its stamp: what a roll-back puts back.
MANIFEST_ARCHIVE_PREFIX: Final = "processed/manifests"

#: The page's own code (dashboard/viz_files.py lists its files): this project's under a versioned
#: prefix; today's live embed loads a flat key, which this project never writes.
VIZ_PREFIX: Final = "viz/v2/"
LEGACY_ENTRY_KEY: Final = "viz/chart_templates.js"

#: Hand-dropped inputs (a person puts them there; the pipeline only reads them).
CCN_INPUT_KEY: Final = "raw/ccn_companies.csv"
CARBON_PRICING_INPUT_KEY: Final = "raw/world_bank_carbon_pricing.csv"

# <stem>_YYYYMMDD.csv, or <stem>_YYYYMMDD_<n>.csv for the n-th version of the same day (n >= 2)
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # Dagster's are UUIDs
_DATED = re.compile(r"^(?P<stem>.+?)_(?P<date>\d{8})(?:_(?P<seq>[1-9]\d*))?\.csv$")
_STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_STAMP = r"\d{8}T\d{6}Z"
_ARCHIVE_KEY = re.compile(rf"^{MANIFEST_ARCHIVE_PREFIX}/(?P<stamp>{_STAMP})\.json$")
# what a manifest may name: one file straight under processed/ (a roll-back refuses anything else)
_PUBLISHED_DATASET_KEY = re.compile(rf"^{PUBLISHED_PREFIX}/[a-z0-9_]+\.csv$")


@dataclass(frozen=True, order=True)
class DatedKey:
    """A parsed ``<prefix>/<stem>_YYYYMMDD[_n].csv`` key; orders by day, then sequence."""

    date: str
    seq: int
    stem: str
    key: str


def parse_dated_key(key: str) -> DatedKey | None:
    match = _DATED.match(key.rsplit("/", 1)[-1])
    if not match:
        return None
    return DatedKey(match["date"], int(match["seq"] or 1), match["stem"], key)


def utc_date_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%d")


def dated_key(prefix: str, stem: str, date: str, seq: int = 1) -> str:
    suffix = "" if seq == 1 else f"_{seq}"
    return f"{prefix}/{stem}_{date}{suffix}.csv"


def is_raw(key: str) -> bool:
    return key.startswith(f"{RAW_PREFIX}/")


def published_day_prefix(dataset: str, day: str) -> str:
    """The prefix of every published version of ``dataset`` on the UTC day ``day`` (YYYYMMDD)."""
    return f"{PUBLISHED_PREFIX}/{dataset}_{day}"


def next_published_key(dataset: str, day: str, existing: list[str]) -> str:
    """Where ``dataset`` is published next on ``day``: ``processed/<dataset>_<day>.csv``, or
    ``..._<day>_<n>.csv`` after that day's highest version among ``existing``."""
    return next_dated_key(PUBLISHED_PREFIX, dataset, day, existing)


def is_published_dataset_key(key: str) -> bool:
    return bool(_PUBLISHED_DATASET_KEY.match(key))


def run_key(prefix: str, run_id: str, stem: str, date: str) -> str:
    """``<prefix>/<run_id>/<stem>_YYYYMMDD.csv``: a file only the run ``run_id`` writes."""
    if not _RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} cannot be part of a key")
    return f"{prefix}/{run_id}/{stem}_{date}.csv"


def next_dated_key(prefix: str, stem: str, date: str, existing: list[str]) -> str:
    """``<prefix>/<stem>_<date>.csv``, or ``..._<date>_<n>.csv`` after the highest version of that
    day among ``existing`` (no upper bound: a published key is never reused, however many
    publications a day brings)."""
    same_day = [d.seq for d in map(parse_dated_key, existing) if d and d.stem == stem and d.date == date]
    return dated_key(prefix, stem, date, max(same_day, default=0) + 1)


def stamp(moment: datetime) -> str:
    """A publication's stamp: its manifest's generation time, ``YYYYMMDDTHHMMSSZ`` (UTC)."""
    return moment.astimezone(UTC).strftime(_STAMP_FORMAT)


def parse_stamp(value: str) -> datetime:
    return datetime.strptime(value, _STAMP_FORMAT).replace(tzinfo=UTC)


def manifest_archive_key(publication: str) -> str:
    """The archived copy of the manifest of the publication stamped ``publication``."""
    return f"{MANIFEST_ARCHIVE_PREFIX}/{publication}.json"


def manifest_archive_stamp(key: str) -> str | None:
    """The publication stamp of an archived manifest's key, or None for any other key."""
    match = _ARCHIVE_KEY.match(key)
    return match["stamp"] if match else None


def baseline_prefix(publication: str) -> str:
    """Where the gates' baseline of the publication stamped ``publication`` lives."""
    return f"{PUBLISHED_INPUTS_PREFIX}/{publication}"


#: The name of a publication's baseline record in its baseline folder.
BASELINE_RECORD: Final = "inputs.json"


def baseline_record_key(publication: str) -> str:
    return f"{baseline_prefix(publication)}/{BASELINE_RECORD}"


def baseline_input_key(publication: str, asset: str) -> str:
    return f"{baseline_prefix(publication)}/{asset}.csv"


def baseline_record_stamp(key: str) -> str | None:
    """The publication stamp of a baseline record's key (``raw/published/<stamp>/inputs.json``),
    or None for any other key (a baseline's input copies included)."""
    publication, _, name = key.removeprefix(f"{PUBLISHED_INPUTS_PREFIX}/").partition("/")
    return publication if key.startswith(f"{PUBLISHED_INPUTS_PREFIX}/") and name == BASELINE_RECORD else None


#: What the page downloads, stored gzip-compressed: its datasets and its own versioned code.
#: Not the manifest (the presign Lambda and rollback-data read its bytes with boto3, which does
#: not undo Content-Encoding; it is 2 KB) and never today's embed's flat ``viz/<file>``.
_STORED_GZIPPED = re.compile(r"^(?:processed/[^/]+\.csv|viz/v\d+/[^/]+\.(?:js|css))$")
#: A published dataset version is never overwritten, so a browser or CDN may keep it for a year.
IMMUTABLE: Final = "public, max-age=31536000, immutable"
#: The manifest and the page's code change in place: revalidate on every use.
REVALIDATE: Final = "no-cache"


def stored_gzipped(key: str) -> bool:
    """Whether ``key`` is stored gzip-compressed (``Content-Encoding: gzip``) in the bucket."""
    return bool(_STORED_GZIPPED.match(key))


def cache_control(key: str) -> str | None:
    """The ``Cache-Control`` the bucket serves ``key`` with (None: S3's default, none)."""
    if key.startswith(f"{PUBLISHED_PREFIX}/") and key.count("/") == 1 and parse_dated_key(key):
        return IMMUTABLE
    if key == MANIFEST_KEY or stored_gzipped(key):
        return REVALIDATE
    return None


def stored_object(key: str, data: bytes, content_type: str) -> dict[str, Any]:
    """S3 ``put_object`` arguments (without the bucket) that store ``data`` at ``key`` as the page
    reads it: gzip-compressed where ``stored_gzipped`` says so (a browser undoes it; the bytes are
    the same for the same data), with its ``Cache-Control``."""
    stored: dict[str, Any] = {"Key": key, "Body": data, "ContentType": content_type}
    if stored_gzipped(key):
        stored.update(Body=gzip.compress(data, compresslevel=9, mtime=0), ContentEncoding="gzip")
    if cache := cache_control(key):
        stored["CacheControl"] = cache
    return stored
