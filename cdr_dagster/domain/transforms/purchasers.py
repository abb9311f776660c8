"""``purchasers_for_viz``: how many distinct buyers the CDR market (and DAC) has had, per day.

The page draws it as a line chart and shows the last row as the "unique purchasers" stat, with
the ALL CDR / DAC ONLY toggle switching between the two counts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cdr_dagster.domain.datasets import PURCHASERS_FOR_VIZ_COLUMNS
from cdr_dagster.domain.transforms.coerce import format_day, normalise_ids, require_columns, to_utc_day
from cdr_dagster.domain.transforms.rules import clean_orders, empty_frame, is_dac_method

PURCHASER_COLUMNS: tuple[str, ...] = ("purchaser_id", "created_at")
_DTYPES = {"date": "str", "purchasers_count_cum": "int64", "dac_purchasers_count_cum": "int64"}


def purchaser_first_dates(orders: pd.DataFrame, purchasers: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The day each purchaser entered the market, and its first DAC day.

    Contract (``purchasers_for_viz``): a purchaser counts from its first announced order (earliest
    ``announcement_date`` over all its orders, any agreement type, after the duplicate and
    excluded-id rules); with no dated order it falls back to its ``created_at`` day (UTC); with
    neither it is left out. It is a DAC purchaser from its first dated DAC order.

    A purchaser id that appears on orders but not in the purchasers table (the two pulls are not
    atomic) still counts: its orders prove it bought.

    Returns one row per purchaser id with ``first_date`` and ``first_dac_date`` (NaT when not
    DAC), only for purchasers that have a ``first_date``, and counts for run metadata.
    """
    cleaned = clean_orders(orders)
    table = require_columns(purchasers, PURCHASER_COLUMNS, "purchasers")
    table = pd.DataFrame(
        {
            "purchaser_id": normalise_ids(table["purchaser_id"]),
            "created_at": to_utc_day(table["created_at"]),
        }
    )
    # The same purchaser twice (page shift during the pull): keep the first copy.
    table = table.dropna(subset=["purchaser_id"]).drop_duplicates("purchaser_id", keep="first")

    dated = cleaned.loc[cleaned["purchaser_id"].notna() & cleaned["announcement_date"].notna()]
    first_order = dated.groupby("purchaser_id")["announcement_date"].min()
    dac_orders = dated.loc[is_dac_method(dated["method"])]
    first_dac = dac_orders.groupby("purchaser_id")["announcement_date"].min()

    ordering_ids = pd.Index(cleaned["purchaser_id"].dropna().unique())
    all_ids = pd.Index(table["purchaser_id"]).union(ordering_ids)
    created = table.set_index("purchaser_id")["created_at"].reindex(all_ids)
    by_order = first_order.reindex(all_ids)
    first_date = by_order.fillna(created)
    frame = pd.DataFrame({"first_date": first_date, "first_dac_date": first_dac.reindex(all_ids)}, index=all_ids).rename_axis(
        "purchaser_id"
    )
    counts = {
        "purchasers_in_table": len(table),
        "purchasers_only_in_orders": int((~all_ids.isin(table["purchaser_id"])).sum()),
        "purchasers_dated_by_order": int(by_order.notna().sum()),
        "purchasers_dated_by_created_at": int((by_order.isna() & created.notna()).sum()),
        "purchasers_without_date": int(first_date.isna().sum()),
    }
    return frame.loc[frame["first_date"].notna()].reset_index(), counts


def purchasers_for_viz(orders: pd.DataFrame, purchasers: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Daily cumulative count of unique purchasers, all CDR and DAC only.

    Dates per purchaser follow :func:`purchaser_first_dates`. One row per calendar day from the
    earliest to the latest of those dates; days without a newcomer carry the counts forward.

    Returns the dataset and run statistics: ``purchasers_in_table``,
    ``purchasers_only_in_orders``, ``purchasers_dated_by_order``,
    ``purchasers_dated_by_created_at``, ``purchasers_without_date`` (left out),
    ``purchasers_counted``, ``dac_purchasers_counted``, ``days``, ``first_date``, ``last_date``.
    """
    firsts, counts = purchaser_first_dates(orders, purchasers)
    stats: dict[str, Any] = {
        **counts,
        "purchasers_counted": len(firsts),
        "dac_purchasers_counted": int(firsts["first_dac_date"].notna().sum()),
        "days": 0,
        "first_date": None,
        "last_date": None,
    }
    if firsts.empty:
        return empty_frame(PURCHASERS_FOR_VIZ_COLUMNS, _DTYPES), stats

    newcomers = firsts.groupby("first_date").size()
    dac_newcomers = firsts.dropna(subset=["first_dac_date"]).groupby("first_dac_date").size()
    # "Those dates" include the DAC ones: a purchaser's first DAC order can be its latest event.
    dates = pd.concat([firsts["first_date"], firsts["first_dac_date"]]).dropna()
    all_days = pd.date_range(dates.min(), dates.max(), freq="D", name="date")
    result = (
        pd.DataFrame(
            {
                "purchasers_count_cum": newcomers.reindex(all_days, fill_value=0).cumsum(),
                "dac_purchasers_count_cum": dac_newcomers.reindex(all_days, fill_value=0).cumsum(),
            },
            index=all_days,
        )
        .astype("int64")
        .reset_index()
    )
    result["date"] = format_day(result["date"])
    result = result.loc[:, list(PURCHASERS_FOR_VIZ_COLUMNS)]
    stats.update(days=len(result), first_date=result["date"].iloc[0], last_date=result["date"].iloc[-1])
    return result, stats
