"""Headline figures for run metadata, read off the datasets as the page reads them."""

from __future__ import annotations

import pandas as pd

from cdr_dagster.domain.transforms.ccn import ccn_data
from cdr_dagster.domain.transforms.orders import orders_for_viz
from cdr_dagster.domain.transforms.purchasers import purchasers_for_viz
from cdr_dagster.domain.transforms.summary import ccn_headline, last, orders_headline, purchasers_headline

from .builders import orders, purchasers


def test_headline_figures() -> None:
    raw = orders(
        {"purchaser_id": "A", "method": "DAC", "tons_purchased": 10, "tons_delivered": 5, "price_usd": 6000},
        {"purchaser_id": "B", "tons_purchased": 30, "tons_delivered": 1, "announcement_date": "2024-01-02"},
    )
    viz, _ = orders_for_viz(raw)
    buyers, _ = purchasers_for_viz(raw, purchasers({"purchaser_id": "A"}, {"purchaser_id": "B"}))
    companies = pd.DataFrame(
        {"company_name": ["X", "Y", "Z"], "year_founded": [2019, 2021, 2021], "pathway": ["DAC", "Biochar", "BECCS"]}
    )
    figures = {**orders_headline(viz), **purchasers_headline(buyers), **ccn_headline(ccn_data(companies))}
    # 40 t purchased, 6 delivered -> 15 %; DAC 10 of 40 t -> 25 %, 5 of 10 delivered -> 50 %
    assert figures == {
        "tons_purchased_t": 40.0,
        "tons_delivered_t": 6.0,
        "percent_delivered_pct": 15.0,
        "dac_tons_purchased_t": 10.0,
        "dac_tons_delivered_t": 5.0,
        "dac_percent_delivered_pct": 50.0,
        "dac_share_pct": 25.0,
        "dac_total_spent_usd": 6000.0,
        "last_date": "2024-01-02",
        "unique_purchasers": 2,
        "dac_unique_purchasers": 1,
        "companies_founded": 3,
        "dac_companies_founded": 1,
        "first_year": 2019,
        "last_year": 2021,
    }


def test_headline_figures_of_empty_datasets() -> None:
    viz, _ = orders_for_viz(orders())
    assert orders_headline(viz)["percent_delivered_pct"] is None
    assert orders_headline(viz)["tons_purchased_t"] == 0.0
    assert last(viz, "tons_purchased_cum") is None and last(None, "tons_purchased_cum") is None
