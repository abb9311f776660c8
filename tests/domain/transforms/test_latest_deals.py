"""latest_deals: the ticker of the ten newest deals."""

from __future__ import annotations

import pandas as pd

from cdr_dagster.domain.datasets import LATEST_DEALS_COLUMNS
from cdr_dagster.domain.transforms.latest_deals import latest_deals

from .builders import (
    BIOCHAR,
    DACCS_SEQUESTRATION,
    DACCS_STORAGE,
    EXCLUDED_B,
    NA,
    csv_round_trip,
    orders,
    purchasers,
    records,
    suppliers,
)

SUPPLIERS = suppliers(
    {"supplier_id": "s-1", "name": "Climeworks"},
    {"supplier_id": "s-2", "name": "Heirloom"},
    {"supplier_id": "s-3", "name": "  "},  # blank name: shown as unknown
)
PURCHASERS = purchasers(
    {"purchaser_id": "p-1", "name": "Frontier"},
    {"purchaser_id": "p-2", "name": "Microsoft"},
    {"purchaser_id": "p-3", "name": NA},
)


def _deal(order_id: str, day: str, tons: float, **extra: object) -> dict[str, object]:
    return {"order_id": order_id, "announcement_date": day, "tons_purchased": tons, **extra}


def test_ten_newest_deals_with_names_placeholders_and_dac_display_name() -> None:
    raw = orders(
        _deal("o-01", "2024-01-01", 10),  # 11th newest: left out
        _deal("o-02", "2024-01-02", 20, method="DAC"),
        _deal(
            "o-03",
            "2024-01-03",
            30,
            supplier_id="s-2",
            purchaser_id="p-2",
            method=DACCS_STORAGE,
            type_of_agreement="Delivery Agreement",
        ),  # any agreement type
        _deal("o-04", "2024-01-04", NA, supplier_id="s-404", method=DACCS_SEQUESTRATION),
        _deal("o-05", "2024-01-05", 50, purchaser_id="p-404", method=NA),
        _deal("o-06", "2024-01-06", 60, supplier_id=NA, purchaser_id=NA, method="Enhanced Weathering"),
        _deal("o-07b", "2024-01-07", 70),
        _deal("o-07a", "2024-01-07", 71),  # same day: order_id breaks the tie, o-07a first
        _deal("o-08", "2024-01-08", 80, supplier_id="s-3", purchaser_id="p-3"),
        _deal("o-09", "2024-01-09", 90),
        _deal("o-10", "2024-01-10", 100),
        _deal("o-nodate", NA, 1),  # cannot be among the newest
        _deal(EXCLUDED_B, "2024-12-31", 5),  # excluded everywhere
        _deal("o-10", "2024-01-10", 999),  # duplicate of o-10: first copy kept
    )
    result = latest_deals(raw, PURCHASERS, SUPPLIERS)
    assert list(result.columns) == list(LATEST_DEALS_COLUMNS)
    assert records(result) == [
        ("2024-01-10", "Climeworks", "Frontier", 100.0, BIOCHAR),
        ("2024-01-09", "Climeworks", "Frontier", 90.0, BIOCHAR),
        ("2024-01-08", "Unknown Supplier", "Unknown Purchaser", 80.0, BIOCHAR),
        ("2024-01-07", "Climeworks", "Frontier", 71.0, BIOCHAR),
        ("2024-01-07", "Climeworks", "Frontier", 70.0, BIOCHAR),
        ("2024-01-06", "Unknown Supplier", "Unknown Purchaser", 60.0, "Enhanced Weathering"),
        ("2024-01-05", "Climeworks", "Unknown Purchaser", 50.0, "Unknown Method"),
        ("2024-01-04", "Unknown Supplier", "Frontier", 0.0, "DAC"),
        ("2024-01-03", "Heirloom", "Microsoft", 30.0, "DAC"),
        ("2024-01-02", "Climeworks", "Frontier", 20.0, "DAC"),
    ]


def test_fewer_than_ten_and_empty() -> None:
    result = latest_deals(orders(_deal("a", "2024-01-01", 1)), PURCHASERS, SUPPLIERS)
    assert records(result) == [("2024-01-01", "Climeworks", "Frontier", 1.0, BIOCHAR)]

    empty = latest_deals(orders(_deal("a", NA, 1)), PURCHASERS, SUPPLIERS)
    assert list(empty.columns) == list(LATEST_DEALS_COLUMNS)
    assert len(empty) == 0


def test_names_survive_a_csv_round_trip() -> None:
    names = {
        "s-1": "Carbon, Inc.",
        "s-2": 'The "Best" Removal Co',
        "s-3": "Line one\nLine two",
    }
    buyers = {"p-1": "Société Générale – Ørsted 碳 🌍", "p-2": 'Quote "and", comma'}
    raw = orders(
        _deal("a", "2024-01-03", 1.5, supplier_id="s-1", purchaser_id="p-1"),
        _deal("b", "2024-01-02", 2, supplier_id="s-2", purchaser_id="p-2", method="DAC"),
        _deal("c", "2024-01-01", 3, supplier_id="s-3", purchaser_id="p-1", method='Mineral, "in situ"'),
    )
    result = latest_deals(
        raw,
        pd.DataFrame({"purchaser_id": list(buyers), "name": list(buyers.values())}),
        pd.DataFrame({"supplier_id": list(names), "name": list(names.values())}),
    )
    assert records(csv_round_trip(result)) == [
        ("2024-01-03", "Carbon, Inc.", "Société Générale – Ørsted 碳 🌍", "1.5", BIOCHAR),
        ("2024-01-02", 'The "Best" Removal Co', 'Quote "and", comma', "2.0", "DAC"),
        ("2024-01-01", "Line one\nLine two", "Société Générale – Ørsted 碳 🌍", "3.0", 'Mineral, "in situ"'),
    ]
