"""How the platform writes DataFrames to CSV and reads them back with the right types.

CSV keeps no types, so reading applies the platform's naming conventions: ``*_id`` columns stay
strings (UUIDs, and ids that look like numbers must not lose leading zeros), date columns parse
to datetimes, numeric columns to numbers, ``True``/``False`` to booleans; everything else is text.
"""

from __future__ import annotations

import io
import re

import pandas as pd

_ID = re.compile(r"(^|_)id$")
_DATE = re.compile(r"(^date$|_date$|_at$)")
_TEXT = re.compile(r"(name|slug|method|methods|status|notes|description|tagline|pathway|key|metric)$")
_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def frame_to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a header row, no index, ``\\n`` line ends; quotes where a value needs them."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _parse_dates(values: pd.Series) -> pd.Series:
    """Dates when every present value parses; otherwise the text, so a check can name the bad ones."""
    present = values.dropna()
    if present.map(lambda v: bool(_PLAIN_DATE.match(v))).all():
        parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    else:
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
    return parsed if parsed.notna().sum() == len(present) else values


def _typed(name: str, values: pd.Series) -> pd.Series:
    if _ID.search(name) or _TEXT.search(name):
        return values
    present = values.dropna()
    if present.empty:
        return values
    if _DATE.search(name):
        return _parse_dates(values)
    if present.isin(["True", "False"]).all():
        return values.map({"True": True, "False": False}).astype("boolean")
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().sum() == len(present):
        return numbers
    return values


def csv_bytes_to_frame(data: bytes) -> pd.DataFrame:
    """Read a CSV written by :func:`frame_to_csv_bytes` (or by cdr.fyi's tables) with types."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
    for name in frame.columns:
        frame[name] = _typed(str(name), frame[name])
    return frame
