"""Headline figures of the published datasets, and the rounding applied before publication.

The figures are the numbers the page shows as stats, read off the datasets exactly as the page
does (last row of a cumulative dataset), so a reviewer can compare a run with the live page at a
glance. Their names carry their unit (``_t`` tonnes, ``_usd`` US dollars, ``_pct`` percent).
Plain dicts of JSON-friendly values (``None`` when a figure is undefined).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# Cumulative sums of floats pick up noise (117383851.29999998); a thousandth of a ton or dollar
# is far below what the page shows, and rounding keeps cumulative series non-decreasing.
PUBLISHED_DECIMALS = 3


def published_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The dataset as published: float columns rounded to :data:`PUBLISHED_DECIMALS`."""
    floats = frame.select_dtypes("float").columns
    return frame.assign(**{c: frame[c].round(PUBLISHED_DECIMALS) for c in floats})


def last(frame: pd.DataFrame | None, column: str) -> float | None:
    """The last row's value of ``column`` (a cumulative dataset's total), None for no rows."""
    return None if frame is None or frame.empty else float(frame[column].iloc[-1])


def _percent(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def orders_headline(orders_for_viz: pd.DataFrame) -> dict[str, Any]:
    """Total tonnes purchased and delivered, % delivered, DAC share of tonnes, DAC dollars.

    ``percent_delivered_pct`` is the page's "% tons delivered" (delivered_cum / purchased_cum of the last
    row); ``dac_share_pct`` is DAC tonnes purchased over all tonnes purchased;
    ``dac_total_spent_usd`` is the DAC "total spent" stat.
    """
    purchased = last(orders_for_viz, "tons_purchased_cum") or 0.0
    delivered = last(orders_for_viz, "tons_delivered_cum") or 0.0
    dac_purchased = last(orders_for_viz, "dac_tons_purchased_cum") or 0.0
    dac_delivered = last(orders_for_viz, "dac_tons_delivered_cum") or 0.0
    return {
        "tons_purchased_t": round(purchased, 1),
        "tons_delivered_t": round(delivered, 1),
        "percent_delivered_pct": _percent(delivered, purchased),
        "dac_tons_purchased_t": round(dac_purchased, 1),
        "dac_tons_delivered_t": round(dac_delivered, 1),
        "dac_percent_delivered_pct": _percent(dac_delivered, dac_purchased),
        "dac_share_pct": _percent(dac_purchased, purchased),
        "dac_total_spent_usd": round(last(orders_for_viz, "dac_price_usd_cum") or 0.0),
        "last_date": str(orders_for_viz["date"].iloc[-1]) if len(orders_for_viz) else None,
    }


def purchasers_headline(purchasers_for_viz: pd.DataFrame) -> dict[str, Any]:
    """Unique purchasers, all and DAC (the page's "unique purchasers" stat)."""
    return {
        "unique_purchasers": int(last(purchasers_for_viz, "purchasers_count_cum") or 0.0),
        "dac_unique_purchasers": int(last(purchasers_for_viz, "dac_purchasers_count_cum") or 0.0),
    }


def ccn_headline(ccn_data: pd.DataFrame) -> dict[str, Any]:
    """Companies founded, all and DAC, and the year range covered."""
    return {
        "companies_founded": int(last(ccn_data, "companies_founded_cum") or 0.0),
        "dac_companies_founded": int(last(ccn_data, "dac_companies_founded_cum") or 0.0),
        "first_year": int(ccn_data["year"].iloc[0]) if len(ccn_data) else None,
        "last_year": int(ccn_data["year"].iloc[-1]) if len(ccn_data) else None,
    }


def carbon_pricing_headline(carbon_pricing: pd.DataFrame) -> dict[str, Any]:
    """The "countries" and "emissions covered" stats: the latest year's figures."""
    if carbon_pricing.empty:
        return {"latest_year": None, "countries_count": None, "global_emissions_pct": None}
    last = carbon_pricing.iloc[-1]
    return {
        "latest_year": int(last["year"]),
        "countries_count": int(last["countries_count"]),
        "global_emissions_pct": round(float(last["global_emissions_pct"]), 2),
    }
