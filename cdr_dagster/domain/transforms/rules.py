"""The dashboard contract's business rules, as named constants and small functions.

Source of truth: ``docs/dashboard-contract.md``, section "Rules the old system
applied, made precise". Every transform imports its rules from here, so a rule changes in one
place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pandas as pd

from cdr_dagster.domain.transforms.coerce import (
    normalise_ids,
    normalise_text,
    require_columns,
    to_number,
    to_utc_day,
)

# --- Orders excluded everywhere -------------------------------------------------------------
#: Excluded from every dataset on cdr.fyi's advice: a prepay and a deal they reclassified.
EXCLUDED_ORDER_IDS: Final[frozenset[str]] = frozenset(
    {
        "45afd8e0-8be9-4598-8437-e30dc620a4c8",
        "8af105d5-fb61-5882-b2ea-98332d5ae20b",
    }
)

# --- DAC ------------------------------------------------------------------------------------
#: The method names cdr.fyi uses for direct air capture. An order is DAC when its method is one
#: of them (exact names; surrounding whitespace ignored).
DAC_METHODS: Final[tuple[str, ...]] = (
    "DAC",
    "Direct Air Carbon Capture and Storage (DACCS)",
    "Direct Air Carbon Capture and Sequestration (DACCS)",
)
#: How every DAC method is shown in ``latest_deals`` (the ticker says "NEW DAC DEAL").
DAC_DISPLAY_NAME: Final[str] = "DAC"
#: CCN pathways that count as DAC: ``DAC`` or any of the DAC method names.
CCN_DAC_PATHWAYS: Final[tuple[str, ...]] = tuple(dict.fromkeys((DAC_DISPLAY_NAME, *DAC_METHODS)))

# --- Agreement type -------------------------------------------------------------------------
#: Only credit sales count as purchased volume (cdr.fyi's official rule for order volume).
COUNTED_AGREEMENT_TYPE: Final[str] = "Credit Sale"

# --- Placeholders shown on the page -----------------------------------------------------------
UNKNOWN_SUPPLIER: Final[str] = "Unknown Supplier"
UNKNOWN_PURCHASER: Final[str] = "Unknown Purchaser"
UNKNOWN_METHOD: Final[str] = "Unknown Method"

#: Number of deals in the ticker.
LATEST_DEALS_COUNT: Final[int] = 10

#: The single metric name of the ``dollars_spent`` dataset.
DOLLARS_SPENT_METRIC: Final[str] = "dollars_spent"

# --- Raw input columns the transforms read ------------------------------------------------------
#: Order columns the transforms read (more may be present and are carried through untouched).
ORDER_COLUMNS: Final[tuple[str, ...]] = (
    "order_id",
    "purchaser_id",
    "supplier_id",
    "method",
    "type_of_agreement",
    "announcement_date",
    "tons_purchased",
    "tons_delivered",
    "price_usd",
)
ORDER_ID_COLUMNS: Final[tuple[str, ...]] = ("order_id", "purchaser_id", "supplier_id")
ORDER_NUMERIC_COLUMNS: Final[tuple[str, ...]] = ("tons_purchased", "tons_delivered", "price_usd")
ORDER_TEXT_COLUMNS: Final[tuple[str, ...]] = ("method", "type_of_agreement")


def is_dac_method(methods: pd.Series) -> pd.Series:
    """Boolean mask: the order's method is one of :data:`DAC_METHODS`.

    Missing methods are not DAC. Returns plain ``bool`` (never ``<NA>``) aligned on the input.
    """
    return normalise_text(methods).isin(DAC_METHODS).astype(bool)


def is_counted_agreement(agreement_types: pd.Series) -> pd.Series:
    """Boolean mask: the order is a :data:`COUNTED_AGREEMENT_TYPE` (``Credit Sale``)."""
    return normalise_text(agreement_types).eq(COUNTED_AGREEMENT_TYPE).fillna(False).astype(bool)


@dataclass(frozen=True)
class OrderCleaning:
    """What :func:`clean_orders_with_stats` removed or could not read, for run metadata."""

    rows_in: int
    duplicate_order_ids_dropped: int
    excluded_orders_dropped: int
    unparseable_announcement_dates: int

    def as_dict(self) -> dict[str, int]:
        return {
            "rows_in": self.rows_in,
            "duplicate_order_ids_dropped": self.duplicate_order_ids_dropped,
            "excluded_orders_dropped": self.excluded_orders_dropped,
            "unparseable_announcement_dates": self.unparseable_announcement_dates,
        }


def clean_orders_with_stats(orders: pd.DataFrame) -> tuple[pd.DataFrame, OrderCleaning]:
    """:func:`clean_orders`, also reporting what it dropped."""
    frame = require_columns(orders, ORDER_COLUMNS, "orders").copy()
    rows_in = len(frame)
    for col in ORDER_ID_COLUMNS:
        frame[col] = normalise_ids(frame[col])
    for col in ORDER_TEXT_COLUMNS:
        frame[col] = normalise_text(frame[col])
    for col in ORDER_NUMERIC_COLUMNS:
        frame[col] = to_number(frame[col])
    raw_dates = normalise_text(frame["announcement_date"])
    frame["announcement_date"] = to_utc_day(frame["announcement_date"])
    unparseable = int((raw_dates.notna() & frame["announcement_date"].isna()).sum())

    # Same id twice (a row shifted across a page boundary during a pull): keep the first copy.
    # Rows without an id cannot be recognised as duplicates, so they are all kept.
    duplicated = frame["order_id"].notna() & frame["order_id"].duplicated(keep="first")
    # UUIDs are case-insensitive: an upper-cased copy of an excluded id is still excluded.
    excluded = frame["order_id"].str.lower().isin(EXCLUDED_ORDER_IDS)
    kept = frame.loc[~duplicated & ~excluded].reset_index(drop=True)
    return kept, OrderCleaning(
        rows_in=rows_in,
        duplicate_order_ids_dropped=int(duplicated.sum()),
        excluded_orders_dropped=int((excluded & ~duplicated).sum()),
        unparseable_announcement_dates=unparseable,
    )


def clean_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """The raw orders every dataset starts from (contract: duplicates kept once, two ids excluded).

    - a duplicated ``order_id`` is kept once (the first occurrence);
    - the :data:`EXCLUDED_ORDER_IDS` are removed;
    - ids become trimmed strings, ``method``/``type_of_agreement`` trimmed strings,
      ``tons_purchased``/``tons_delivered``/``price_usd`` floats (NaN when missing),
      ``announcement_date`` a naive day (NaT when missing or not ISO 8601).

    Missing values are left as NaN/NaT here; each dataset applies "missing counts as 0" itself.
    Other columns are carried through untouched.
    """
    return clean_orders_with_stats(orders)[0]


def empty_frame(columns: tuple[str, ...], dtypes: dict[str, str]) -> pd.DataFrame:
    """An empty output frame with the contract's columns and sensible dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "object")) for c in columns})
