"""The bucket's layout: every prefix and key the platform reads or writes, in one place.

The same keys are used in the local data folder (``./data/<key>``) and in the deployment's S3
bucket. The page reads only ``processed/``; ``raw/`` holds inputs and ``staging/`` holds datasets
waiting for their checks. Each run writes its own files under ``raw/<run_id>/`` and
``staging/<run_id>/``: another run can never replace a file this run has checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

RAW_PREFIX: Final = "raw"
STAGING_PREFIX: Final = "staging"
PUBLISHED_PREFIX: Final = "processed"
#: A copy of each raw input the published datasets were built from (next week's baseline).
PUBLISHED_INPUTS_PREFIX: Final = "raw/published"
#: The private record of that baseline (row counts and columns of each input); never public.
PUBLISHED_INPUTS_KEY: Final = "raw/published/inputs.json"
MANIFEST_KEY: Final = "processed/manifest.json"
#: Every manifest ever published, by generation time: what a roll-back puts back.
MANIFEST_ARCHIVE_PREFIX: Final = "processed/manifests"
#: Held by the one publication running (its run id and expiry); private, never served.
PUBLICATION_LOCK_KEY: Final = "staging/publication.lock"

#: Hand-dropped inputs (a person puts them there; the pipeline only reads them).
CCN_INPUT_KEY: Final = "raw/ccn_companies.csv"
CARBON_PRICING_INPUT_KEY: Final = "raw/world_bank_carbon_pricing.csv"

# <stem>_YYYYMMDD.csv, or <stem>_YYYYMMDD_<n>.csv for the n-th version of the same day (n >= 2)
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # Dagster's are UUIDs
_DATED = re.compile(r"^(?P<stem>.+?)_(?P<date>\d{8})(?:_(?P<seq>[1-9]\d{0,2}))?\.csv$")


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


def run_key(prefix: str, run_id: str, stem: str, date: str) -> str:
    """``<prefix>/<run_id>/<stem>_YYYYMMDD.csv``: a file only the run ``run_id`` writes."""
    if not _RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} cannot be part of a key")
    return f"{prefix}/{run_id}/{stem}_{date}.csv"


def newest_dated(keys: list[str], stem: str, today: str | None = None) -> DatedKey | None:
    """The newest dated version of ``stem`` among ``keys``, ignoring any dated after ``today``
    (a stray future-dated file must never win "newest" forever)."""
    today = today or utc_date_stamp()
    found = [d for d in map(parse_dated_key, keys) if d and d.stem == stem and d.date <= today]
    return max(found) if found else None


def manifest_archive_key(generated_at: datetime) -> str:
    return f"{MANIFEST_ARCHIVE_PREFIX}/{generated_at.strftime('%Y%m%dT%H%M%SZ')}.json"
