"""Headline figures of the published datasets, for run metadata.

They are the numbers the page shows as stats, read off the datasets exactly as the page does
(last row of a cumulative dataset), so a reviewer can compare a run with the live page at a
glance. Plain dicts of JSON-friendly values (``None`` when a figure is undefined).
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def _last(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].iloc[-1]) if len(frame) else 0.0


def _percent(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def orders_headline(orders_for_viz: pd.DataFrame) -> dict[str, Any]:
    """Total tonnes purchased and delivered, % delivered, DAC share of tonnes, DAC dollars.

    ``pct_delivered`` is the page's "% tons delivered" (delivered_cum / purchased_cum of the last
    row); ``dac_share_pct`` is DAC tonnes purchased over all tonnes purchased;
    ``dac_total_spent_usd`` is the DAC "total spent" stat.
    """
    purchased = _last(orders_for_viz, "tons_purchased_cum")
    delivered = _last(orders_for_viz, "tons_delivered_cum")
    dac_purchased = _last(orders_for_viz, "dac_tons_purchased_cum")
    dac_delivered = _last(orders_for_viz, "dac_tons_delivered_cum")
    return {
        "tons_purchased": purchased,
        "tons_delivered": delivered,
        "pct_delivered": _percent(delivered, purchased),
        "dac_tons_purchased": dac_purchased,
        "dac_tons_delivered": dac_delivered,
        "dac_pct_delivered": _percent(dac_delivered, dac_purchased),
        "dac_share_pct": _percent(dac_purchased, purchased),
        "dac_total_spent_usd": _last(orders_for_viz, "dac_price_usd_cum"),
        "last_date": str(orders_for_viz["date"].iloc[-1]) if len(orders_for_viz) else None,
    }


def purchasers_headline(purchasers_for_viz: pd.DataFrame) -> dict[str, Any]:
    """Unique purchasers, all and DAC (the page's "unique purchasers" stat)."""
    return {
        "unique_purchasers": int(_last(purchasers_for_viz, "purchasers_count_cum")),
        "dac_unique_purchasers": int(_last(purchasers_for_viz, "dac_purchasers_count_cum")),
    }


def ccn_headline(ccn_data: pd.DataFrame) -> dict[str, Any]:
    """Companies founded, all and DAC, and the year range covered."""
    return {
        "companies_founded": int(_last(ccn_data, "companies_founded_cum")),
        "dac_companies_founded": int(_last(ccn_data, "dac_companies_founded_cum")),
        "first_year": int(ccn_data["year"].iloc[0]) if len(ccn_data) else None,
        "last_year": int(ccn_data["year"].iloc[-1]) if len(ccn_data) else None,
    }


def headline_figures(
    orders_for_viz: pd.DataFrame | None = None,
    purchasers_for_viz: pd.DataFrame | None = None,
    ccn_data: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The headline figures of whichever datasets are given, merged into one dict."""
    figures: dict[str, Any] = {}
    if orders_for_viz is not None:
        figures.update(orders_headline(orders_for_viz))
    if purchasers_for_viz is not None:
        figures.update(purchasers_headline(purchasers_for_viz))
    if ccn_data is not None:
        figures.update(ccn_headline(ccn_data))
    return figures
