"""Defensive coercion of the raw tables before any business rule is applied.

The raw cdr.fyi tables reach the transforms as CSVs written by the pipeline and read back, so a
column's dtype depends on what the reader guessed: ids may be ``object`` or ``str``, numbers may
be strings or floats with NaN, dates are ``YYYY-MM-DD`` strings (``created_at`` is an ISO
timestamp) or missing. Everything here turns such columns into one predictable shape, vectorised:

- ids -> nullable ``string`` dtype, trimmed, blank -> ``<NA>`` (so joins never miss on ``1`` vs
  ``"1"`` or on stray whitespace);
- numbers -> ``float64`` with NaN for anything unreadable;
- dates -> naive ``datetime64`` at midnight of the **UTC** calendar day, NaT for anything missing
  or not ISO 8601 (we never guess between day-first and month-first forms).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_float_dtype


class InputSchemaError(ValueError):
    """A raw table lacks a column a transform needs (the upstream schema changed)."""


def require_columns(frame: pd.DataFrame, columns: Iterable[str], table: str) -> pd.DataFrame:
    """Return ``frame`` with every column in ``columns`` present.

    A table that has rows but lacks a needed column means the source changed shape: fail loudly
    rather than publish a silently wrong chart. A table with no rows at all (for instance an empty
    CSV with only some headers) gets the missing columns added as empty, so empty inputs give
    empty outputs.
    """
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return frame
    if len(frame) > 0:
        raise InputSchemaError(f"table {table!r} is missing required column(s) {missing}; columns present: {list(frame.columns)}")
    return frame.assign(**{c: pd.Series(dtype="object", index=frame.index) for c in missing})


def normalise_ids(series: pd.Series) -> pd.Series:
    """Ids as trimmed nullable strings; blank or missing ids become ``<NA>``.

    Integral floats (``1.0``, what a reader makes of an int column with gaps) are written as
    ``"1"`` so they still match the same id read as an integer or a string elsewhere.
    """
    if is_float_dtype(series.dtype):
        non_null = series.dropna()
        if (non_null == non_null.round()).all():
            series = series.astype("Int64")
    text = series.astype("string").str.strip()
    return text.mask(text.eq("").fillna(False))


def normalise_text(series: pd.Series) -> pd.Series:
    """Free text (names, methods, agreement types) as trimmed nullable strings, blank -> ``<NA>``."""
    text = series.astype("string").str.strip()
    return text.mask(text.eq("").fillna(False))


def to_number(series: pd.Series) -> pd.Series:
    """Numbers as ``float64``; anything missing or unreadable becomes NaN."""
    if series.dtype == "object" or not pd.api.types.is_numeric_dtype(series.dtype):
        series = series.astype("string").str.strip()
    return pd.to_numeric(series, errors="coerce").astype("float64")


def to_utc_day(series: pd.Series) -> pd.Series:
    """Dates and timestamps as naive ``datetime64`` at midnight of their UTC calendar day.

    Accepts ``YYYY-MM-DD`` strings, ISO 8601 timestamps with or without an offset (a naive value
    is taken as UTC), already-parsed datetimes, and missing values. Non-ISO text becomes NaT:
    ``05/01/2024`` could be May or January, and a wrong day is worse than a reported gap.
    """
    if is_datetime64_any_dtype(series.dtype):
        parsed = series
        if getattr(parsed.dt, "tz", None) is None:
            parsed = parsed.dt.tz_localize("UTC")
    else:
        text = normalise_text(series)
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    return parsed.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()


def format_day(series: pd.Series) -> pd.Series:
    """Days as the contract's ``YYYY-MM-DD`` strings."""
    return series.dt.strftime("%Y-%m-%d")
