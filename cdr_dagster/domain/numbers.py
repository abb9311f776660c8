"""Numbers as people read them: in check descriptions and metadata, materialization metadata,
previews, the weekly summary, alerts and the terminal summary.

Thousands separators, a precision that suits the size, a unit (``t``, ``USD``, ``%``) and never
scientific notation (``1e+12`` reads as ``1,000,000,000,000``). The raw values stay numeric in the
metadata, for plots; these strings are only for reading.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

SHOWN_IDS = 5  # ids or lines a message names before "+N more"


def number(value: Any, unit: str = "", decimals: int | None = None) -> str:
    """``1234567.891`` -> ``1,234,567.89``; whole numbers without decimals; ``n/a`` for nothing.

    Without ``decimals``: none from 1,000 up, two below (a small share or price keeps its cents)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and math.isinf(value):
        return "infinite"
    if decimals is None:
        decimals = 0 if float(value).is_integer() or abs(value) >= 1000 else 2
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]  # -0.00 reads as 0.00
    return f"{text} {unit}" if unit else text


def tons(value: Any) -> str:
    """Whole tonnes: ``22.5`` -> ``22 t`` (the page shows no fractions of a tonne)."""
    return number(value, "t", decimals=0)


def usd(value: Any) -> str:
    """Whole dollars: ``1,250 USD``."""
    return number(value, "USD", decimals=0)


def signed(value: Any, unit: str = "", decimals: int | None = 0) -> str:
    """A change: ``+1,200 t``, ``-3 USD``, ``0 t`` (whole units unless ``decimals`` says)."""
    text = number(value, unit, decimals)
    return text if text.startswith(("-", "n/a", "0")) else f"+{text}"


def share(value: Any, decimals: int = 0) -> str:
    """A share (0.25) as a percentage: ``25%``."""
    if value is None:
        return "n/a"
    return f"{float(value) * 100:,.{decimals}f}%"


def change(value: Any, decimals: int = 1) -> str:
    """A relative change (0.402) as a signed percentage: ``+40.2%``."""
    if value is None:
        return "n/a"
    return f"{float(value) * 100:+,.{decimals}f}%"


def few(items: Sequence[Any], shown: int = SHOWN_IDS) -> str:
    """The first ``shown`` items, then ``+N more``: ``a, b, c, +397 more``."""
    head = ", ".join(str(i) for i in list(items[:shown]))
    more = len(items) - shown
    return f"{head}, +{number(more)} more" if more > 0 else head


def ranges(lines: Sequence[int], shown: int = SHOWN_IDS) -> str:
    """File lines (or years) as ranges, the first few of them: ``2-400001`` or ``2, 5-7, 9, +12 more``."""
    ranges: list[str] = []
    ordered = sorted(set(lines))
    start = prev = ordered[0] if ordered else 0
    for line in [*ordered[1:], None]:
        if line is not None and line == prev + 1:
            prev = line
            continue
        ranges.append(str(start) if start == prev else f"{start}-{prev}")
        if line is not None:
            start = prev = line
    return few(ranges, shown) if ordered else ""


def readable_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text a person reads: numbers with separators (years without), whole dates
    without a time."""

    def cell(value: Any) -> str:
        if isinstance(value, pd.Timestamp):
            return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            return number(value)
        return "" if value is None or value is pd.NA else str(value)

    def column(values: pd.Series) -> pd.Series:
        if str(values.name).endswith("year"):  # a year reads 2024, never 2,024
            return values.astype("object").map(lambda v: "" if pd.isna(v) else str(v))
        return values.astype("object").map(cell)

    return frame.apply(column) if len(frame.columns) else frame


def markdown_table(frame: pd.DataFrame, limit: int, total: int | None = None) -> str:
    """The first ``limit`` rows as a markdown table with readable numbers, then how many in all
    when some are left out (``total`` when the frame was already cut)."""
    total = len(frame) if total is None else total
    table = readable_frame(frame.head(limit)).to_markdown(index=False, disable_numparse=True)
    if total > min(limit, len(frame)):
        table += f"\n\nShowing {number(min(limit, len(frame)))} of {number(total)} rows."
    return table
