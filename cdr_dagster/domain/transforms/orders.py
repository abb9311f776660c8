"""``orders_for_viz``: the market's cumulative purchased and delivered tonnes and dollars, per day.

The page draws it as the "tons purchased vs delivered" line chart (ALL CDR / DAC ONLY toggle) and
reads two stats off its last row: "% tons delivered" (``tons_delivered_cum / tons_purchased_cum``)
and the DAC "total spent" (``dac_price_usd_cum``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cdr_dagster.domain.datasets import ORDERS_FOR_VIZ_COLUMNS
from cdr_dagster.domain.transforms.coerce import format_day
from cdr_dagster.domain.transforms.rules import (
    clean_orders_with_stats,
    empty_frame,
    is_counted_agreement,
    is_dac_method,
)

_DTYPES = {"date": "str", **dict.fromkeys(ORDERS_FOR_VIZ_COLUMNS[1:], "float64")}


def dac_imputed_prices(tons: pd.Series, prices: pd.Series, is_dac: pd.Series) -> tuple[pd.Series, int, float | None]:
    """DAC order values with undisclosed prices filled in (contract rule for ``dac_price_usd_cum``).

    A DAC order with no public price (missing or 0) is valued at its tons times the
    tonnage-weighted average price of the DAC orders that do have one
    (``sum of their prices / sum of their tons``). ``tons`` must already have missing values as 0.

    Returns ``(value per order, number of orders imputed, weighted average or None)``; non-DAC
    orders are valued 0. With no priced DAC tonnage there is no average to use: the unpriced DAC
    orders then stay at 0, none counts as imputed, and the average is reported as ``None``.
    """
    # A negative price is no more a public price than a missing one.
    has_price = prices.gt(0).fillna(False)
    priced = is_dac & has_price
    unpriced = is_dac & ~has_price
    priced_tons = float(tons[priced].sum())
    average: float | None = float(prices[priced].sum()) / priced_tons if priced_tons > 0 else None
    values = prices.where(priced, 0.0)
    if average is not None:
        values = values.mask(unpriced, tons * average)
    imputed = int(unpriced.sum()) if average is not None else 0
    return values.astype("float64"), imputed, average


def orders_for_viz(orders: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Daily cumulative tonnes and dollars of the credit sales announced so far.

    Contract (``orders_for_viz``):

    - start from :func:`~cdr_dagster.domain.transforms.rules.clean_orders` (duplicates kept once, the two
      excluded ids removed);
    - keep ``Credit Sale`` orders with an ``announcement_date``; orders without one cannot be
      placed in time and are counted in ``stats["orders_without_date"]``;
    - missing tons and prices count as 0;
    - *after* filtering, value DAC orders with no public price at the DAC weighted average
      (:func:`dac_imputed_prices`); ``price_usd_cum`` sums raw prices only;
    - one row per calendar day from the first to the last announcement date; a day without an
      order carries the previous cumulative values forward.

    Cumulative tonnes delivered are placed on the order's announcement date (the only date every
    order has), as the old system did.

    Returns the dataset and run statistics:
    ``rows_in``, ``duplicate_order_ids_dropped``, ``excluded_orders_dropped``,
    ``unparseable_announcement_dates`` (from cleaning); ``non_credit_sale_orders`` (left out);
    ``orders_without_date`` (credit sales left out for want of a date);
    ``orders_counted``, ``dac_orders_counted``; ``dac_orders_imputed`` and
    ``dac_weighted_avg_price_usd_per_ton`` (``None`` when no DAC order has a price);
    ``days`` (rows), ``first_date`` and ``last_date`` (``None`` when empty).
    """
    cleaned, cleaning = clean_orders_with_stats(orders)
    credit_sale = is_counted_agreement(cleaned["type_of_agreement"])
    dated = cleaned["announcement_date"].notna()
    counted = cleaned.loc[credit_sale & dated]

    is_dac = is_dac_method(counted["method"])
    tons = counted["tons_purchased"].fillna(0.0)
    delivered = counted["tons_delivered"].fillna(0.0)
    prices = counted["price_usd"].fillna(0.0)
    dac_values, imputed, average = dac_imputed_prices(tons, prices, is_dac)

    stats: dict[str, Any] = {
        **cleaning.as_dict(),
        "non_credit_sale_orders": int((~credit_sale).sum()),
        "orders_without_date": int((credit_sale & ~dated).sum()),
        "orders_counted": len(counted),
        "dac_orders_counted": int(is_dac.sum()),
        "dac_orders_imputed": imputed,
        "dac_weighted_avg_price_usd_per_ton": average,
        "days": 0,
        "first_date": None,
        "last_date": None,
    }
    if counted.empty:
        return empty_frame(ORDERS_FOR_VIZ_COLUMNS, _DTYPES), stats

    per_order = pd.DataFrame(
        {
            "date": counted["announcement_date"],
            "tons_purchased_cum": tons,
            "tons_delivered_cum": delivered,
            "dac_tons_purchased_cum": tons.where(is_dac, 0.0),
            "dac_tons_delivered_cum": delivered.where(is_dac, 0.0),
            "price_usd_cum": prices,
            "dac_price_usd_cum": dac_values,
        }
    )
    daily = per_order.groupby("date").sum()
    # Every calendar day, so the chart's x axis is linear; empty days add 0 to the running sums,
    # which carries the previous cumulative values forward.
    all_days = pd.date_range(daily.index.min(), daily.index.max(), freq="D", name="date")
    cumulative = daily.reindex(all_days, fill_value=0.0).cumsum().astype("float64").reset_index()
    cumulative["date"] = format_day(cumulative["date"])
    result = cumulative.loc[:, list(ORDERS_FOR_VIZ_COLUMNS)]
    stats.update(days=len(result), first_date=result["date"].iloc[0], last_date=result["date"].iloc[-1])
    return result, stats
