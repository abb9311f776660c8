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
#: The gates' baseline of each publication, under its stamp: a copy of each raw input the
#: published datasets were built from, and ``inputs.json``, the private record of them (rows,
#: columns, SHA-256, when their pulls started). Never public.
PUBLISHED_INPUTS_PREFIX: Final = "raw/published"
MANIFEST_KEY: Final = "processed/manifest.json"
#: Every manifest that went live, under its stamp: what a roll-back puts back.
MANIFEST_ARCHIVE_PREFIX: Final = "processed/manifests"

#: Hand-dropped inputs (a person puts them there; the pipeline only reads them).
CCN_INPUT_KEY: Final = "raw/ccn_companies.csv"
CARBON_PRICING_INPUT_KEY: Final = "raw/world_bank_carbon_pricing.csv"

# <stem>_YYYYMMDD.csv, or <stem>_YYYYMMDD_<n>.csv for the n-th version of the same day (n >= 2)
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # Dagster's are UUIDs
_DATED = re.compile(r"^(?P<stem>.+?)_(?P<date>\d{8})(?:_(?P<seq>[1-9]\d*))?\.csv$")
_STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


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


def baseline_prefix(publication: str) -> str:
    """Where the gates' baseline of the publication stamped ``publication`` lives."""
    return f"{PUBLISHED_INPUTS_PREFIX}/{publication}"


#: The name of a publication's baseline record in its baseline folder.
BASELINE_RECORD: Final = "inputs.json"


def baseline_record_key(publication: str) -> str:
    return f"{baseline_prefix(publication)}/{BASELINE_RECORD}"


def baseline_input_key(publication: str, asset: str) -> str:
    return f"{baseline_prefix(publication)}/{asset}.csv"
