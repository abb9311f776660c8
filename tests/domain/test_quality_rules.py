"""The quality rules and the weekly summary as plain functions, on small hand-built frames."""

from __future__ import annotations

import pandas as pd

from cdr_dagster.domain import quality
from cdr_dagster.domain.weekly_changes import Week, changes_text, weekly_changes


def test_ids_missing_or_repeated_are_named_by_csv_line_and_value() -> None:
    frame = pd.DataFrame({"order_id": ["a", "b", None, "b", " ", "c"]})
    outcome = quality.ids_present_and_unique(frame, "order_id", "cdr_fyi_orders")
    assert not outcome.passed
    # rows 2 and 4 (0-based) are blank: CSV lines 4 and 6 (header is line 1)
    assert outcome.metadata == {"rows_without_id (CSV lines)": ["4", "6"], "duplicated_ids": ["b"]}
    assert quality.ids_present_and_unique(frame.iloc[[0, 1, 5]], "order_id", "t").passed


def test_row_count_may_drop_at_most_the_allowed_share() -> None:
    assert quality.row_count_not_shrunk(800, 1000, 0.2, "t").passed  # exactly 20% fewer
    outcome = quality.row_count_not_shrunk(799, 1000, 0.2, "t")
    assert not outcome.passed and "at least 800 expected" in outcome.description
    assert quality.row_count_not_shrunk(5, None, 0.2, "t").passed  # nothing published yet


def test_negative_tons_name_the_orders() -> None:
    frame = pd.DataFrame({"order_id": ["a", "b", "c"], "tons_purchased": [1.0, -2.0, None], "tons_delivered": [0.0, 0.0, -0.5]})
    outcome = quality.not_negative(frame, ("tons_purchased", "tons_delivered"), "order_id", "o")
    assert not outcome.passed
    assert outcome.metadata == {"ids_by_column": {"tons_purchased": ["b"], "tons_delivered": ["c"]}}


def test_dates_that_do_not_parse_are_listed() -> None:
    frame = pd.DataFrame({"order_id": ["a", "b"], "announcement_date": ["2024-01-05", "05/13/2024x"]})
    outcome = quality.dates_parse(frame, "announcement_date", "order_id", "o")
    assert not outcome.passed
    assert outcome.metadata == {"offending": [{"order_id": "b", "announcement_date": "05/13/2024x"}]}


def test_schema_drift_reports_new_and_vanished_columns() -> None:
    outcome = quality.schema_drift(["a", "b", "d"], ["a", "b", "c"], "t")
    assert not outcome.passed and outcome.metadata == {"new_columns": ["d"], "vanished_columns": ["c"]}


def test_cumulative_drops_days_and_years() -> None:
    frame = pd.DataFrame({"date": ["2024-01-01", "2024-01-02", "2024-01-04"], "x_cum": [1.0, 3.0, 2.0]})
    drop = quality.never_decreasing(frame, ["x_cum"], "date", "d")
    assert not drop.passed
    assert drop.metadata == {"drops": [{"column": "x_cum", "date": "2024-01-04", "from": "3", "to": "2"}]}
    gaps = quality.contiguous_days(frame, "date", "d")
    assert not gaps.passed and gaps.metadata == {"breaks_at": ["2024-01-04"]}
    years = quality.contiguous_years(pd.DataFrame({"year": [2019, 2020, 2022]}), "year", "c")
    assert not years.passed and years.metadata == {"breaks_at": ["2022"]}


def test_latest_deals_count_and_dollars_band() -> None:
    assert quality.deal_count(10, 500, 10).passed
    assert quality.deal_count(3, 3, 10).passed
    assert not quality.deal_count(9, 500, 10).passed
    # band ±50% around 2.0e9: 1.0e9 .. 3.0e9
    assert quality.within_band(3.0e9, 2.0e9, 0.5, "d").passed
    assert not quality.within_band(3.1e9, 2.0e9, 0.5, "d").passed
    assert not quality.within_band(0.0, None, 0.5, "d").passed


def test_weekly_changes_counts_new_orders_entities_and_deltas() -> None:
    def orders(*rows: tuple) -> pd.DataFrame:
        return pd.DataFrame(
            rows,
            columns=[
                "order_id",
                "purchaser_id",
                "supplier_id",
                "method",
                "tons_purchased",
                "tons_delivered",
                "price_usd",
                "announcement_date",
                "type_of_agreement",
            ],
        )

    before = Week(
        orders=orders(("o1", "p1", "s1", "DAC", 10.0, 0.0, None, "2024-01-01", "Credit Sale")),
        purchasers=pd.DataFrame({"purchaser_id": ["p1"], "name": ["Acme"]}),
        suppliers=pd.DataFrame({"supplier_id": ["s1"], "name": ["Rockco"]}),
        orders_for_viz=pd.DataFrame({"tons_purchased_cum": [10.0], "tons_delivered_cum": [0.0]}),
        dollars_spent=1000.0,
    )
    now = Week(
        orders=orders(
            ("o1", "p1", "s1", "DAC", 10.0, 0.0, None, "2024-01-01", "Credit Sale"),
            ("o2", "p2", "s9", "Biochar", 5.0, 1.0, None, "2024-02-01", "Credit Sale"),
            ("o3", "p1", "s1", None, 7.5, 0.0, None, "2024-02-02", "Credit Sale"),
        ),
        purchasers=pd.DataFrame({"purchaser_id": ["p1", "p2"], "name": ["Acme", "Béta, Inc."]}),
        suppliers=pd.DataFrame({"supplier_id": ["s1"], "name": ["Rockco"]}),
        orders_for_viz=pd.DataFrame({"tons_purchased_cum": [22.5], "tons_delivered_cum": [1.0]}),
        dollars_spent=1250.0,
    )
    changes = weekly_changes(before, now)
    assert changes["new_orders"] == 2 and changes["new_orders_tons"] == 12.5  # 5 + 7.5
    assert [o["order_id"] for o in changes["largest_new_orders"]] == ["o3", "o2"]
    assert changes["largest_new_orders"][0]["method"] == "Unknown Method"
    assert changes["largest_new_orders"][1]["supplier"] == "Unknown Supplier"  # s9 is not in the table
    assert changes["new_purchasers"] == ["Béta, Inc."] and changes["new_suppliers"] == []
    assert (changes["tons_purchased_change"], changes["tons_delivered_change"], changes["dollars_spent_change"]) == (
        12.5,
        1.0,
        250.0,
    )
    text = changes_text(changes, "test")
    assert text.splitlines()[:4] == [
        "*CDR dashboard (test)*: what changed this week",
        "- new orders: 2 (12 t)",  # 12.5 rounded to whole tonnes
        "- tons purchased: 22 t (+12 t), delivered: 1 t (+1 t)",  # 22.5 t and its +12.5 t, whole tonnes
        "- dollars spent: 1,250 USD (+250 USD)",
    ]
    first = changes_text(weekly_changes(Week(None, None, None, None, None), now), "local")
    assert first.splitlines()[:4] == [
        "*CDR dashboard (local)*: first publication, nothing to compare with.",
        "- new orders: 3 (22 t)",
        "- tons purchased: 22 t, delivered: 1 t",  # totals, not "n/a"
        "- dollars spent: 1,250 USD",
    ]
