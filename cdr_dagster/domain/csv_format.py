"""How the platform writes DataFrames to CSV and reads them back with the right types.

CSV keeps no types, so reading applies the types declared beside the fields: cdr.fyi's in
``cdr_fyi/schema.py`` (``FIELD_TYPES``), the datasets' in ``domain/datasets.py``
(``COLUMN_TYPES``). Dates parse to datetimes, numbers to numbers, ``True``/``False`` to booleans,
each only when every present value reads so (otherwise the text stays, so a check can name the
bad values); any other column, ids included (leading zeros kept), is text.

Formula prefixes (``=``, ``+``, ``-``, ``@``, tab, carriage return): a spreadsheet runs a cell such
as ``=HYPERLINK(...)`` as a formula. The raw CSVs (``raw/``: the copies people download to look
into a week) are written ``spreadsheet_safe``: such a text cell gets a leading ``'`` (and a cell
that already starts with ``'`` gets another), which a spreadsheet shows as text, and reading with
``spreadsheet_safe`` removes exactly that ``'``. Plain numbers (``-2.5``) are left alone. The
page's datasets are written as they are: the page shows them as text, and a ``'`` would show on
the page (docs/dashboard-contract.md).
"""

from __future__ import annotations

import io
import re

import pandas as pd

from cdr_dagster.cdr_fyi.schema import FIELD_TYPES
from cdr_dagster.domain.datasets import COLUMN_TYPES, ColumnType

DECLARED_TYPES: dict[str, ColumnType] = {**FIELD_TYPES, **COLUMN_TYPES}
_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _formula_like(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(text)


def neutralise(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, made text (reversible, see restore)."""
    if isinstance(value, str) and (value.startswith("'") or _formula_like(value)):
        return "'" + value
    return value


def restore(value: object) -> object:
    """The inverse of :func:`neutralise`."""
    if isinstance(value, str) and value.startswith("'") and (value[1:].startswith("'") or _formula_like(value[1:])):
        return value[1:]
    return value


def frame_to_csv_bytes(frame: pd.DataFrame, spreadsheet_safe: bool = False) -> bytes:
    """UTF-8 CSV with a header row, no index, ``\\n`` line ends; quotes where a value needs them.
    ``spreadsheet_safe``: formula-like text cells neutralised (raw CSVs)."""
    if spreadsheet_safe:
        frame = frame.copy()
        for name in frame.columns:
            if frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name]):
                frame[name] = frame[name].map(neutralise)
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _parse_dates(values: pd.Series) -> pd.Series:
    """Dates when every present value parses; otherwise the text, so a check can name the bad ones."""
    present = values.dropna()
    if present.map(lambda v: bool(_PLAIN_DATE.match(v))).all():
        parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    else:
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
    return parsed if parsed.notna().sum() == len(present) else values


def _typed(kind: ColumnType, values: pd.Series) -> pd.Series:
    present = values.dropna()
    if kind == "text" or present.empty:
        return values
    if kind == "date":
        return _parse_dates(values)
    if kind == "bool":
        if present.isin(["True", "False"]).all():
            return values.map({"True": True, "False": False}).astype("boolean")
        return values
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers if numbers.notna().sum() == len(present) else values


def csv_bytes_to_frame(data: bytes, spreadsheet_safe: bool = False) -> pd.DataFrame:
    """Read a CSV written by :func:`frame_to_csv_bytes` (or by cdr.fyi's tables) with types;
    ``spreadsheet_safe`` for a file written so (the ``'`` added to formula-like cells removed)."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
    for name in frame.columns:
        values = frame[name].map(restore) if spreadsheet_safe else frame[name]
        frame[name] = _typed(DECLARED_TYPES.get(str(name), "text"), values)
    return frame
