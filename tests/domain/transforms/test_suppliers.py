"""suppliers_for_viz: tonnes sold per year, supplier name and DAC flag."""

from __future__ import annotations

import pandas as pd

from cdr_dagster.domain.datasets import SUPPLIERS_FOR_VIZ_COLUMNS
from cdr_dagster.domain.transforms.suppliers import suppliers_for_viz

from .builders import BIOCHAR, DACCS_STORAGE, EXCLUDED_A, NA, csv_round_trip, orders, records, suppliers

SUPPLIERS = suppliers(
    {"supplier_id": "s-1", "name": "Climeworks"},
    {"supplier_id": "s-2", "name": "Carbon Co"},
    {"supplier_id": "s-3", "name": "Climeworks"},  # another id, same name: grouped by name
)


def test_tons_per_year_supplier_and_dac_with_unknown_suppliers_kept() -> None:
    raw = orders(
        {"supplier_id": "s-1", "method": "DAC", "tons_purchased": 10, "announcement_date": "2023-05-01"},
        {"supplier_id": "s-1", "method": "DAC", "tons_purchased": 5, "announcement_date": "2023-11-30"},
        {"supplier_id": "s-1", "method": BIOCHAR, "tons_purchased": 2, "announcement_date": "2023-07-01"},
        {"supplier_id": "s-1", "method": DACCS_STORAGE, "tons_purchased": 1.5, "announcement_date": "2024-01-01"},
        {"supplier_id": "s-3", "method": "DAC", "tons_purchased": 0.5, "announcement_date": "2024-06-01"},
        {"supplier_id": "s-404", "method": BIOCHAR, "tons_purchased": 7, "announcement_date": "2023-02-01"},
        {"supplier_id": NA, "method": BIOCHAR, "tons_purchased": NA, "announcement_date": "2023-03-01"},
        # Left out: not a credit sale / no date / excluded id.
        {"supplier_id": "s-2", "type_of_agreement": "Delivery Agreement", "tons_purchased": 100},
        {"supplier_id": "s-2", "announcement_date": NA, "tons_purchased": 100},
        {"order_id": EXCLUDED_A, "supplier_id": "s-2", "tons_purchased": 100},
    )
    result = suppliers_for_viz(raw, SUPPLIERS)
    # 2023 Climeworks non-DAC: 2; DAC: 10 + 5 = 15; unknown (s-404 and no id): 7 + 0 = 7
    # 2024 Climeworks DAC: 1.5 (s-1) + 0.5 (s-3, same name) = 2
    assert records(result) == [
        (2023, "Climeworks", 0, 2.0),
        (2023, "Climeworks", 1, 15.0),
        (2023, "Unknown Supplier", 0, 7.0),
        (2024, "Climeworks", 1, 2.0),
    ]
    assert list(result.columns) == list(SUPPLIERS_FOR_VIZ_COLUMNS)
    assert [str(result[c].dtype) for c in ["year", "is_dac", "tons_sold"]] == ["int64", "int64", "float64"]


def test_empty_input() -> None:
    result = suppliers_for_viz(orders(), SUPPLIERS)
    assert list(result.columns) == list(SUPPLIERS_FOR_VIZ_COLUMNS)
    assert len(result) == 0


def test_names_survive_a_csv_round_trip() -> None:
    table = pd.DataFrame(
        {
            "supplier_id": ["a", "b", "c", "d"],
            "name": ["Carbon, Inc.", 'The "Best" Removal Co', "Line one\nLine two", "Ørsted Bioénergie 碳"],
        }
    )
    raw = orders(*({"supplier_id": s, "tons_purchased": 1.25} for s in ["a", "b", "c", "d"]))
    assert records(csv_round_trip(suppliers_for_viz(raw, table))) == [
        ("2024", "Carbon, Inc.", "0", "1.25"),
        ("2024", "Line one\nLine two", "0", "1.25"),
        ("2024", 'The "Best" Removal Co', "0", "1.25"),
        ("2024", "Ørsted Bioénergie 碳", "0", "1.25"),
    ]
