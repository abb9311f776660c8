"""purchasers_for_viz: cumulative unique purchasers, all CDR and DAC only."""

from __future__ import annotations

import pandas as pd

from cdr_dagster.domain.datasets import PURCHASERS_FOR_VIZ_COLUMNS
from cdr_dagster.domain.transforms.purchasers import purchasers_for_viz

from .builders import BIOCHAR, DACCS_SEQUESTRATION, EXCLUDED_A, NA, orders, purchasers, records


def test_purchasers_dated_by_first_order_with_created_at_fallback() -> None:
    table = purchasers(
        {"purchaser_id": "P1", "created_at": "2023-06-01T12:00:00Z"},  # has orders: created_at unused
        {"purchaser_id": "P2", "created_at": "2024-01-05T08:00:00.000Z"},  # no order: created_at
        {"purchaser_id": "P3", "created_at": NA},  # only an undated order: left out
        {"purchaser_id": "P4", "created_at": NA},  # nothing at all: left out
        # 23:30 at UTC-2 is 01:30 UTC on the 4th: created_at days are UTC days.
        {"purchaser_id": "P5", "created_at": "2024-01-03T23:30:00-02:00"},
    )
    raw = orders(
        # Any agreement type dates a purchaser: P1's first order is this delivery agreement.
        {"purchaser_id": "P1", "type_of_agreement": "Delivery Agreement", "announcement_date": "2024-01-02"},
        {"purchaser_id": "P1", "announcement_date": "2024-01-04"},
        # Excluded ids are removed everywhere, so this earlier order does not date P1.
        {"order_id": EXCLUDED_A, "purchaser_id": "P1", "announcement_date": "2023-12-01"},
        {"purchaser_id": "P3", "announcement_date": NA},
    )
    result, stats = purchasers_for_viz(raw, table)
    # P1 from 2 Jan, P5 from 4 Jan (UTC), P2 from 5 Jan; P3 and P4 never.
    assert records(result) == [
        ("2024-01-02", 1, 0),
        ("2024-01-03", 1, 0),
        ("2024-01-04", 2, 0),
        ("2024-01-05", 3, 0),
    ]
    assert stats["purchasers_dated_by_order"] == 1
    assert stats["purchasers_dated_by_created_at"] == 2
    assert stats["purchasers_without_date"] == 2
    assert stats["purchasers_counted"] == 3


def test_dac_purchasers_counted_from_their_first_dated_dac_order() -> None:
    table = purchasers(*({"purchaser_id": q} for q in ["Q1", "Q2", "Q3", "Q4"]))
    raw = orders(
        {"purchaser_id": "Q1", "method": BIOCHAR, "announcement_date": "2024-05-01"},
        {"purchaser_id": "Q1", "method": "DAC", "announcement_date": "2024-05-03"},
        {"purchaser_id": "Q1", "method": "DAC", "announcement_date": "2024-05-04"},
        {
            "purchaser_id": "Q2",
            "method": DACCS_SEQUESTRATION,
            "type_of_agreement": "Delivery Agreement",  # any agreement type
            "announcement_date": "2024-05-02",
        },
        {"purchaser_id": "Q3", "method": "DAC", "announcement_date": NA},  # undated DAC: not DAC
        {"purchaser_id": "Q3", "method": BIOCHAR, "announcement_date": "2024-05-02"},
        {"order_id": EXCLUDED_A, "purchaser_id": "Q4", "method": "DAC", "announcement_date": "2024-05-01"},
        {"purchaser_id": "Q4", "method": BIOCHAR, "announcement_date": "2024-05-04"},
    )
    result, stats = purchasers_for_viz(raw, table)
    # all: Q1 1 May, Q2 and Q3 2 May, Q4 4 May -> 1, 3, 3, 4
    # DAC: Q2 2 May, Q1 3 May -> 0, 1, 2, 2
    assert records(result) == [
        ("2024-05-01", 1, 0),
        ("2024-05-02", 3, 1),
        ("2024-05-03", 3, 2),
        ("2024-05-04", 4, 2),
    ]
    assert stats["dac_purchasers_counted"] == 2


def test_a_purchaser_is_counted_once_even_if_listed_twice_or_only_in_orders() -> None:
    table = purchasers(
        {"purchaser_id": "A", "created_at": "2024-01-01T00:00:00Z"},
        {"purchaser_id": "A", "created_at": "2024-01-01T00:00:00Z"},  # shifted across a page
    )
    # "B" bought but is not in the purchasers table (pulled later): its order proves it exists.
    raw = orders({"purchaser_id": "B", "announcement_date": "2024-01-02"})
    result, stats = purchasers_for_viz(raw, table)
    assert records(result) == [("2024-01-01", 1, 0), ("2024-01-02", 2, 0)]
    assert stats["purchasers_only_in_orders"] == 1
    assert stats["purchasers_in_table"] == 1


def test_output_types_and_empty_inputs() -> None:
    result, _ = purchasers_for_viz(orders({"purchaser_id": "A"}), purchasers({"purchaser_id": "A"}))
    assert list(result.columns) == list(PURCHASERS_FOR_VIZ_COLUMNS)
    assert isinstance(result["date"].iloc[0], str)
    assert result["purchasers_count_cum"].dtype == "int64"
    assert result["dac_purchasers_count_cum"].dtype == "int64"

    empty, stats = purchasers_for_viz(orders(), pd.DataFrame(columns=["purchaser_id", "name", "created_at"]))
    assert list(empty.columns) == list(PURCHASERS_FOR_VIZ_COLUMNS)
    assert len(empty) == 0
    assert stats["purchasers_counted"] == 0


def test_days_run_to_the_latest_first_dac_date() -> None:
    raw = orders(
        {"purchaser_id": "A", "method": BIOCHAR, "announcement_date": "2024-05-01"},
        {"purchaser_id": "A", "method": "DAC", "announcement_date": "2024-05-03"},
    )
    result, _ = purchasers_for_viz(raw, purchasers({"purchaser_id": "A"}))
    # A counts from 1 May, as DAC from 3 May: the last date is the DAC one.
    assert records(result) == [("2024-05-01", 1, 0), ("2024-05-02", 1, 0), ("2024-05-03", 1, 1)]
