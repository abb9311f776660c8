"""``suppliers_for_viz``: tonnes of CDR each supplier sold per year, split DAC / not DAC.

Computed by the old system for a supplier chart that is not drawn yet; kept so that chart can be
added without touching the pipeline.
"""

from __future__ import annotations

import pandas as pd

from cdr_dagster.domain.datasets import SUPPLIERS_FOR_VIZ_COLUMNS
from cdr_dagster.domain.transforms.names import name_lookup, names_for
from cdr_dagster.domain.transforms.rules import (
    UNKNOWN_SUPPLIER,
    clean_orders,
    empty_frame,
    is_counted_agreement,
    is_dac_method,
)

_DTYPES = {"year": "int64", "name": "str", "is_dac": "int64", "tons_sold": "float64"}


def suppliers_for_viz(orders: pd.DataFrame, suppliers: pd.DataFrame) -> pd.DataFrame:
    """Tonnes sold per (announcement year, supplier name, is_dac).

    Contract (``suppliers_for_viz``): ``Credit Sale`` orders with an announcement date, after the
    duplicate and excluded-id rules; missing tons count as 0; a supplier id that is missing or
    not in the suppliers table (or has a blank name) is grouped under ``Unknown Supplier``;
    ``is_dac`` is 1 for DAC methods, else 0.

    Grouping is by *name*, as the contract says, so two supplier ids with the same name are
    summed together. Sorted by ``year``, ``name``, ``is_dac``.
    """
    cleaned = clean_orders(orders)
    credit_sale = is_counted_agreement(cleaned["type_of_agreement"])
    counted = cleaned.loc[credit_sale & cleaned["announcement_date"].notna()]
    if counted.empty:
        return empty_frame(SUPPLIERS_FOR_VIZ_COLUMNS, _DTYPES)
    supplier_names = name_lookup(suppliers, "supplier_id", "suppliers")

    per_order = pd.DataFrame(
        {
            "year": counted["announcement_date"].dt.year.astype("int64"),
            "name": names_for(counted["supplier_id"], supplier_names, UNKNOWN_SUPPLIER),
            "is_dac": is_dac_method(counted["method"]).astype("int64"),
            "tons_sold": counted["tons_purchased"].fillna(0.0).astype("float64"),
        }
    )
    result = per_order.groupby(["year", "name", "is_dac"], as_index=False, sort=True)["tons_sold"].sum()
    return result.loc[:, list(SUPPLIERS_FOR_VIZ_COLUMNS)].reset_index(drop=True)
