"""The contract's rules as constants, and the cleaning every orders dataset starts from."""

from __future__ import annotations

import pandas as pd
import pytest

from cdr_dagster.domain import datasets
from cdr_dagster.domain.transforms import rules
from cdr_dagster.domain.transforms.coerce import InputSchemaError
from cdr_dagster.domain.transforms.rules import clean_orders, clean_orders_with_stats, is_dac_method

from .builders import DACCS_SEQUESTRATION, DACCS_STORAGE, EXCLUDED_A, EXCLUDED_B, NA, orders


def test_contract_constants() -> None:
    assert {
        "45afd8e0-8be9-4598-8437-e30dc620a4c8",
        "8af105d5-fb61-5882-b2ea-98332d5ae20b",
    } == rules.EXCLUDED_ORDER_IDS
    assert rules.DAC_METHODS == (
        "DAC",
        "Direct Air Carbon Capture and Storage (DACCS)",
        "Direct Air Carbon Capture and Sequestration (DACCS)",
    )
    assert rules.COUNTED_AGREEMENT_TYPE == "Credit Sale"
    assert rules.DAC_DISPLAY_NAME == "DAC"
    assert (rules.UNKNOWN_SUPPLIER, rules.UNKNOWN_PURCHASER, rules.UNKNOWN_METHOD) == (
        "Unknown Supplier",
        "Unknown Purchaser",
        "Unknown Method",
    )
    assert rules.LATEST_DEALS_COUNT == 10


def test_dataset_columns_in_contract_order() -> None:
    assert datasets.ORDERS_FOR_VIZ_COLUMNS == (
        "date",
        "tons_purchased_cum",
        "tons_delivered_cum",
        "dac_tons_purchased_cum",
        "dac_tons_delivered_cum",
        "price_usd_cum",
        "dac_price_usd_cum",
    )
    assert datasets.PURCHASERS_FOR_VIZ_COLUMNS == ("date", "purchasers_count_cum", "dac_purchasers_count_cum")
    assert datasets.LATEST_DEALS_COLUMNS == (
        "announcement_date",
        "supplier_name",
        "purchaser_name",
        "tons_purchased",
        "method",
    )
    assert datasets.DOLLARS_SPENT_COLUMNS == ("metric", "value")
    assert datasets.CCN_DATA_COLUMNS == (
        "year",
        "companies_founded",
        "dac_companies_founded",
        "companies_founded_cum",
        "dac_companies_founded_cum",
    )
    assert datasets.SUPPLIERS_FOR_VIZ_COLUMNS == ("year", "name", "is_dac", "tons_sold")
    assert datasets.CARBON_PRICING_COLUMNS == ("year", "countries_count", "global_emissions_pct")
    assert datasets.DATASET_NAMES == (
        "orders_for_viz",
        "purchasers_for_viz",
        "latest_deals",
        "suppliers_for_viz",
        "dollars_spent",
        "ccn_data",
        "carbon_pricing",
    )
    assert datasets.DATASETS["ccn_data"].cumulative == ("companies_founded_cum", "dac_companies_founded_cum")


def test_is_dac_method_matches_exactly_the_three_names() -> None:
    methods = pd.Series(
        ["DAC", DACCS_STORAGE, DACCS_SEQUESTRATION, " DAC ", "dac", "Direct Air Capture", "Biochar", NA, ""],
        index=[10, 11, 12, 13, 14, 15, 16, 17, 18],
    )
    result = is_dac_method(methods)
    # Trimmed, but the names are cdr.fyi's controlled vocabulary: case and wording must match.
    assert result.tolist() == [True, True, True, True, False, False, False, False, False]
    assert result.index.tolist() == [10, 11, 12, 13, 14, 15, 16, 17, 18]
    assert result.dtype == bool


def test_clean_orders_keeps_a_duplicated_id_once_first_copy() -> None:
    raw = orders(
        {"order_id": "dup", "tons_purchased": 5},
        {"order_id": "other", "tons_purchased": 1},
        {"order_id": "dup", "tons_purchased": 7},
    )
    cleaned, cleaning = clean_orders_with_stats(raw)
    assert cleaned["order_id"].tolist() == ["dup", "other"]
    assert cleaned["tons_purchased"].tolist() == [5.0, 1.0]
    assert cleaning.duplicate_order_ids_dropped == 1


def test_clean_orders_drops_both_excluded_ids() -> None:
    raw = orders(
        {"order_id": EXCLUDED_A},
        {"order_id": "kept"},
        {"order_id": EXCLUDED_B},
        {"order_id": EXCLUDED_A.upper()},  # UUIDs are case-insensitive
    )
    cleaned, cleaning = clean_orders_with_stats(raw)
    assert cleaned["order_id"].tolist() == ["kept"]
    assert cleaning.excluded_orders_dropped == 3


def test_clean_orders_coerces_text_numbers_and_dates() -> None:
    raw = orders(
        {"order_id": " o-1 ", "tons_purchased": "12.5", "price_usd": "", "announcement_date": "2024-02-29"},
        {"order_id": "o-2", "tons_purchased": "n/a", "price_usd": "100", "announcement_date": "2024-03-01T22:15:00Z"},
        {"order_id": "o-3", "tons_purchased": NA, "announcement_date": "01/03/2024"},
        {"order_id": "o-4", "tons_purchased": 3, "announcement_date": ""},
    )
    cleaned, cleaning = clean_orders_with_stats(raw)
    assert cleaned["order_id"].tolist() == ["o-1", "o-2", "o-3", "o-4"]
    assert cleaned["tons_purchased"].fillna(-1).tolist() == [12.5, -1.0, -1.0, 3.0]
    assert cleaned["price_usd"].fillna(-1).tolist() == [-1.0, 100.0, -1.0, -1.0]
    days = cleaned["announcement_date"]
    assert days.dt.strftime("%Y-%m-%d").fillna("NaT").tolist() == ["2024-02-29", "2024-03-01", "NaT", "NaT"]
    # Only the non-ISO text is "unparseable"; a blank date is just missing.
    assert cleaning.unparseable_announcement_dates == 1


def test_clean_orders_matches_integer_ids_read_as_floats() -> None:
    raw = orders({"order_id": "a", "supplier_id": 7.0}, {"order_id": "b", "supplier_id": NA})
    assert clean_orders(raw)["supplier_id"].fillna("<NA>").tolist() == ["7", "<NA>"]


def test_clean_orders_refuses_a_table_missing_a_needed_column() -> None:
    raw = orders({"order_id": "a"}).drop(columns=["type_of_agreement"])
    with pytest.raises(InputSchemaError, match="type_of_agreement"):
        clean_orders(raw)


def test_clean_orders_of_an_empty_table_without_columns() -> None:
    cleaned = clean_orders(pd.DataFrame())
    assert cleaned.empty
    assert set(rules.ORDER_COLUMNS) <= set(cleaned.columns)
