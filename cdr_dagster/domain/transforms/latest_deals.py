"""``latest_deals``: the ten most recently announced CDR deals, for the page's scrolling ticker.

Each row reads "<supplier> sold <tons> t of <method> to <purchaser>"; DAC deals are flagged
"NEW DAC DEAL" by the page, which is why every DAC method is shown as plain ``DAC``.
"""

from __future__ import annotations

import pandas as pd

from cdr_dagster.domain.datasets import LATEST_DEALS_COLUMNS
from cdr_dagster.domain.transforms.coerce import format_day
from cdr_dagster.domain.transforms.names import name_lookup, names_for
from cdr_dagster.domain.transforms.rules import (
    DAC_DISPLAY_NAME,
    LATEST_DEALS_COUNT,
    UNKNOWN_METHOD,
    UNKNOWN_PURCHASER,
    UNKNOWN_SUPPLIER,
    clean_orders,
    empty_frame,
    is_dac_method,
)

_DTYPES = {**dict.fromkeys(LATEST_DEALS_COLUMNS, "str"), "tons_purchased": "float64"}


def latest_deals(
    orders: pd.DataFrame,
    purchasers: pd.DataFrame,
    suppliers: pd.DataFrame,
    count: int = LATEST_DEALS_COUNT,
) -> pd.DataFrame:
    """The ``count`` (10) orders with the newest ``announcement_date``, newest first.

    Contract (``latest_deals``): any agreement type, after the duplicate and excluded-id rules;
    unknown supplier/purchaser (id missing, not in its table, or blank name) shown as
    ``Unknown Supplier`` / ``Unknown Purchaser``; missing method as ``Unknown Method``; DAC
    methods as ``DAC``; missing tons as 0.

    Orders without an announcement date cannot be among the newest and are left out.
    Tie-break, so reruns publish the same ten: newest ``announcement_date`` first, then
    ``order_id`` ascending (orders without an id last), then input order.
    """
    cleaned = clean_orders(orders)
    dated = cleaned.loc[cleaned["announcement_date"].notna()]
    if dated.empty:
        return empty_frame(LATEST_DEALS_COLUMNS, _DTYPES)

    newest = dated.sort_values(
        ["announcement_date", "order_id"],
        ascending=[False, True],
        na_position="last",
        kind="stable",
    ).head(count)

    method = newest["method"].fillna(UNKNOWN_METHOD)
    method = method.mask(is_dac_method(newest["method"]), DAC_DISPLAY_NAME)
    supplier_names = name_lookup(suppliers, "supplier_id", "suppliers")
    purchaser_names = name_lookup(purchasers, "purchaser_id", "purchasers")
    return pd.DataFrame(
        {
            "announcement_date": format_day(newest["announcement_date"]),
            "supplier_name": names_for(newest["supplier_id"], supplier_names, UNKNOWN_SUPPLIER),
            "purchaser_name": names_for(newest["purchaser_id"], purchaser_names, UNKNOWN_PURCHASER),
            "tons_purchased": newest["tons_purchased"].fillna(0.0).astype("float64"),
            "method": method.astype("str"),
        }
    ).reset_index(drop=True)
