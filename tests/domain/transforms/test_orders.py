"""orders_for_viz: the cumulative tonnes and dollars line chart, one rule per test."""

from __future__ import annotations

import pandas as pd
import pytest

from cdr_dagster.domain.datasets import ORDERS_FOR_VIZ_COLUMNS
from cdr_dagster.domain.transforms.coerce import InputSchemaError
from cdr_dagster.domain.transforms.orders import orders_for_viz

from .builders import (
    BIOCHAR,
    DACCS_SEQUESTRATION,
    DACCS_STORAGE,
    EXCLUDED_A,
    EXCLUDED_B,
    NA,
    as_read_from_csv,
    orders,
    records,
)

# Columns: date, tons_purchased_cum, tons_delivered_cum, dac_tons_purchased_cum,
# dac_tons_delivered_cum, price_usd_cum, dac_price_usd_cum


def test_only_credit_sales_count() -> None:
    raw = orders(
        {"tons_purchased": 10, "tons_delivered": 2, "price_usd": 1000},
        {"type_of_agreement": "Delivery Agreement", "tons_purchased": 100, "price_usd": 5},
        {"type_of_agreement": NA, "tons_purchased": 50},
        {"type_of_agreement": "Credit Sale ", "tons_purchased": 1},  # stray space, still a credit sale
    )
    result, stats = orders_for_viz(raw)
    # 10 + 1 tonnes; the delivery agreement and the order without a type are left out.
    assert records(result) == [("2024-01-01", 11.0, 2.0, 0.0, 0.0, 1000.0, 0.0)]
    assert stats["orders_counted"] == 2
    assert stats["non_credit_sale_orders"] == 2


def test_both_excluded_ids_are_left_out() -> None:
    raw = orders(
        {"order_id": EXCLUDED_A, "tons_purchased": 100, "price_usd": 100},
        {"order_id": EXCLUDED_B, "tons_purchased": 200, "method": "DAC", "price_usd": 200},
        {"order_id": "kept", "tons_purchased": 5, "price_usd": 50},
    )
    result, stats = orders_for_viz(raw)
    assert records(result) == [("2024-01-01", 5.0, 0.0, 0.0, 0.0, 50.0, 0.0)]
    assert stats["excluded_orders_dropped"] == 2


def test_the_three_dac_method_names_are_dac() -> None:
    raw = orders(
        {"method": "DAC", "tons_purchased": 1, "tons_delivered": 1},
        {"method": DACCS_STORAGE, "tons_purchased": 2},
        {"method": DACCS_SEQUESTRATION, "tons_purchased": 4, "tons_delivered": 0.5},
        {"method": BIOCHAR, "tons_purchased": 8, "tons_delivered": 8},
        {"method": "Direct Air Capture", "tons_purchased": 16},  # not one of the three names
    )
    result, stats = orders_for_viz(raw)
    # all: 1+2+4+8+16 = 31 t, delivered 1+0.5+8 = 9.5; DAC: 1+2+4 = 7 t, delivered 1+0.5 = 1.5
    assert records(result) == [("2024-01-01", 31.0, 9.5, 7.0, 1.5, 0.0, 0.0)]
    assert stats["dac_orders_counted"] == 3


def test_dac_orders_without_price_valued_at_weighted_average_of_priced_dac_orders() -> None:
    raw = orders(
        {"method": "DAC", "tons_purchased": 10, "price_usd": 5000, "announcement_date": "2024-03-01"},
        {"method": DACCS_STORAGE, "tons_purchased": 30, "price_usd": 9000, "announcement_date": "2024-03-01"},
        {"method": BIOCHAR, "tons_purchased": 100, "price_usd": 15000, "announcement_date": "2024-03-01"},
        {"method": "DAC", "tons_purchased": 4, "price_usd": NA, "announcement_date": "2024-03-02"},
        {"method": DACCS_SEQUESTRATION, "tons_purchased": 6, "price_usd": 0, "announcement_date": "2024-03-02"},
        # Filtered out BEFORE the average: would give (5000+9000+1000)/(10+30+1000) if kept.
        {"method": "DAC", "type_of_agreement": "Delivery Agreement", "tons_purchased": 1000, "price_usd": 1000},
        # No date: also filtered out before the average.
        {"method": "DAC", "announcement_date": NA, "tons_purchased": 50, "price_usd": 100000},
    )
    result, stats = orders_for_viz(raw)
    # Average over priced DAC credit sales with a date: (5000 + 9000) / (10 + 30) = 350 $/t.
    # Imputed: 4 t * 350 = 1400 and 6 t * 350 = 2100.
    # dac_price_usd_cum: day 1: 5000 + 9000 = 14000; day 2: 14000 + 1400 + 2100 = 17500.
    # price_usd_cum uses raw prices (missing and 0 stay 0): 5000 + 9000 + 15000 = 29000 both days.
    # tons: day 1 10+30+100 = 140, day 2 140+4+6 = 150; DAC: 40, then 50.
    assert records(result) == [
        ("2024-03-01", 140.0, 0.0, 40.0, 0.0, 29000.0, 14000.0),
        ("2024-03-02", 150.0, 0.0, 50.0, 0.0, 29000.0, 17500.0),
    ]
    assert stats["dac_orders_imputed"] == 2
    assert stats["dac_weighted_avg_price_usd_per_ton"] == 350.0


def test_no_priced_dac_order_means_no_imputation() -> None:
    raw = orders({"method": "DAC", "tons_purchased": 3}, {"method": "DAC", "tons_purchased": 4, "price_usd": 0})
    result, stats = orders_for_viz(raw)
    assert records(result) == [("2024-01-01", 7.0, 0.0, 7.0, 0.0, 0.0, 0.0)]
    assert stats["dac_orders_imputed"] == 0
    assert stats["dac_weighted_avg_price_usd_per_ton"] is None


def test_missing_tons_and_prices_count_as_zero() -> None:
    raw = orders(
        {"tons_purchased": 10, "tons_delivered": NA, "price_usd": NA},
        {"tons_purchased": NA, "tons_delivered": 3, "price_usd": 700},
        {"tons_purchased": NA, "tons_delivered": NA, "price_usd": NA, "method": "DAC"},
    )
    result, _ = orders_for_viz(raw)
    # tons 10 + 0 + 0, delivered 0 + 3 + 0, price 0 + 700 + 0; the DAC order has no tons: 0 t, $0.
    assert records(result) == [("2024-01-01", 10.0, 3.0, 0.0, 0.0, 700.0, 0.0)]


def test_orders_without_announcement_date_are_left_out_and_counted() -> None:
    raw = orders(
        {"tons_purchased": 1, "announcement_date": "2024-01-01"},
        {"tons_purchased": 10, "announcement_date": NA},
        {"tons_purchased": 100, "announcement_date": ""},
        {"tons_purchased": 1000, "announcement_date": "soon"},
        # Not a credit sale: left out for that reason, not counted as "without date".
        {"tons_purchased": 10000, "announcement_date": NA, "type_of_agreement": "Delivery Agreement"},
    )
    result, stats = orders_for_viz(raw)
    assert records(result) == [("2024-01-01", 1.0, 0.0, 0.0, 0.0, 0.0, 0.0)]
    assert stats["orders_without_date"] == 3
    assert stats["unparseable_announcement_dates"] == 1
    assert stats["orders_counted"] == 1


def test_one_row_per_calendar_day_carrying_values_forward() -> None:
    raw = orders(
        # Input not in date order; 2024 is a leap year.
        {"announcement_date": "2024-03-01", "tons_purchased": 2, "price_usd": 20},
        {"announcement_date": "2024-02-27", "tons_purchased": 1, "price_usd": 10},
        {"announcement_date": "2024-03-01", "tons_purchased": 4, "tons_delivered": 4},
    )
    result, stats = orders_for_viz(raw)
    # 27 Feb: 1 t; 28 and 29 Feb: no order, carried forward; 1 Mar: 1 + 2 + 4 = 7 t.
    assert records(result) == [
        ("2024-02-27", 1.0, 0.0, 0.0, 0.0, 10.0, 0.0),
        ("2024-02-28", 1.0, 0.0, 0.0, 0.0, 10.0, 0.0),
        ("2024-02-29", 1.0, 0.0, 0.0, 0.0, 10.0, 0.0),
        ("2024-03-01", 7.0, 4.0, 0.0, 0.0, 30.0, 0.0),
    ]
    assert (stats["days"], stats["first_date"], stats["last_date"]) == (4, "2024-02-27", "2024-03-01")


def test_a_duplicated_order_id_is_counted_once() -> None:
    raw = orders(
        {"order_id": "same", "tons_purchased": 5, "price_usd": 50},
        {"order_id": "same", "tons_purchased": 7, "price_usd": 70},
    )
    result, stats = orders_for_viz(raw)
    assert records(result) == [("2024-01-01", 5.0, 0.0, 0.0, 0.0, 50.0, 0.0)]
    assert stats["duplicate_order_ids_dropped"] == 1


@pytest.mark.parametrize("read_options", [{}, {"dtype": str, "keep_default_na": False}])
def test_tables_read_back_from_csv(read_options: dict[str, object]) -> None:
    raw = orders(
        {"tons_purchased": 2.5, "tons_delivered": 1, "price_usd": 1000, "method": "DAC"},
        {"tons_purchased": 1.5, "announcement_date": "2024-01-02", "method": "DAC"},
    )
    result, stats = orders_for_viz(as_read_from_csv(raw, **read_options))
    # Average 1000 / 2.5 = 400 $/t; the 1.5 t order is valued 600.
    assert records(result) == [
        ("2024-01-01", 2.5, 1.0, 2.5, 1.0, 1000.0, 1000.0),
        ("2024-01-02", 4.0, 1.0, 4.0, 1.0, 1000.0, 1600.0),
    ]
    assert stats["dac_weighted_avg_price_usd_per_ton"] == 400.0


def test_output_types() -> None:
    result, _ = orders_for_viz(orders({"tons_purchased": 1}))
    assert list(result.columns) == list(ORDERS_FOR_VIZ_COLUMNS)
    assert isinstance(result["date"].iloc[0], str)
    assert all(result[c].dtype == "float64" for c in ORDERS_FOR_VIZ_COLUMNS[1:])


@pytest.mark.parametrize(
    "raw",
    [
        orders(),
        pd.DataFrame(),
        orders({"type_of_agreement": "Delivery Agreement", "tons_purchased": 1}),
    ],
    ids=["no rows", "no columns", "nothing counted"],
)
def test_empty_input_gives_empty_dataset(raw: pd.DataFrame) -> None:
    result, stats = orders_for_viz(raw)
    assert list(result.columns) == list(ORDERS_FOR_VIZ_COLUMNS)
    assert len(result) == 0
    assert stats["days"] == 0 and stats["first_date"] is None


def test_a_table_missing_a_column_is_refused() -> None:
    with pytest.raises(InputSchemaError, match="price_usd"):
        orders_for_viz(orders({"tons_purchased": 1}).drop(columns=["price_usd"]))
