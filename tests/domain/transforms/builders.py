"""Small hand-built raw tables for the transform tests.

Every builder fills the columns the transforms read with harmless defaults, so a test only spells
out what its rule is about.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

NA = np.nan
EXCLUDED_A = "45afd8e0-8be9-4598-8437-e30dc620a4c8"
EXCLUDED_B = "8af105d5-fb61-5882-b2ea-98332d5ae20b"
BIOCHAR = "Biochar Carbon Removal (BCR)"
DACCS_STORAGE = "Direct Air Carbon Capture and Storage (DACCS)"
DACCS_SEQUESTRATION = "Direct Air Carbon Capture and Sequestration (DACCS)"

ORDER_DEFAULTS: dict[str, Any] = {
    "purchaser_id": "p-1",
    "supplier_id": "s-1",
    "method": BIOCHAR,
    "type_of_agreement": "Credit Sale",
    "announcement_date": "2024-01-01",
    "tons_purchased": NA,
    "tons_delivered": NA,
    "price_usd": NA,
    "status": "Undelivered",
}


def orders(*rows: dict[str, Any]) -> pd.DataFrame:
    """An orders table; rows without an ``order_id`` get ``o-1``, ``o-2``, ... by position."""
    filled = [{"order_id": f"o-{i}", **ORDER_DEFAULTS, **row} for i, row in enumerate(rows, start=1)]
    return pd.DataFrame(filled, columns=["order_id", *ORDER_DEFAULTS])


def purchasers(*rows: dict[str, Any]) -> pd.DataFrame:
    filled = [{"name": f"Purchaser {row['purchaser_id']}", "created_at": NA, **row} for row in rows]
    return pd.DataFrame(filled, columns=["purchaser_id", "name", "created_at"])


def suppliers(*rows: dict[str, Any]) -> pd.DataFrame:
    filled = [{"name": f"Supplier {row['supplier_id']}", **row} for row in rows]
    return pd.DataFrame(filled, columns=["supplier_id", "name"])


def as_read_from_csv(frame: pd.DataFrame, **read_options: Any) -> pd.DataFrame:
    """``frame`` written by the pipeline and read back, the way the assets will see it."""
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)), **read_options)


def csv_round_trip(frame: pd.DataFrame) -> pd.DataFrame:
    """A published dataset as the page's CSV parser would see it: every cell as text."""
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)), dtype=str, keep_default_na=False)


def records(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as plain tuples, for exact comparisons."""
    return [tuple(row) for row in frame.itertuples(index=False, name=None)]
