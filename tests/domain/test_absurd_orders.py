"""Absurd orders are blocked: dates in the future, sizes beyond a plausible per-order bound, and
totals that move more than the allowed swing, each naming the order ids at fault."""

from __future__ import annotations

import pandas as pd

from cdr_dagster.domain import quality

TODAY = pd.Timestamp("2026-11-23")


def orders(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["order_id", "announcement_date", "tons_purchased", "tons_delivered", "price_usd", "method"]
    )


def test_an_order_dated_beyond_the_grace_is_named() -> None:
    frame = orders(
        ("ok-today", "2026-11-23", 1, 0, None, "Biochar"),
        ("ok-grace", "2026-11-25T23:00:00Z", 1, 0, None, "Biochar"),  # today + 2 days of grace
        ("far", "2099-01-01", 1, 0, None, "Biochar"),
        ("next-week", "2026-11-30", 1, 0, None, "Biochar"),
        ("undated", None, 1, 0, None, "Biochar"),
    )
    outcome = quality.dates_not_after(frame, "announcement_date", "order_id", TODAY + pd.Timedelta(days=2), "cdr_fyi_orders")
    assert not outcome.passed
    assert outcome.description == (
        "cdr_fyi_orders: 2 announcement_date values are after 2026-11-25 (today plus the grace): far (2099-01-01), next-week (2026-11-30)"
    )
    assert outcome.metadata["offending"] == ["far: 2099-01-01", "next-week: 2026-11-30"]
    assert quality.dates_not_after(frame.iloc[:2], "announcement_date", "order_id", TODAY + pd.Timedelta(days=2), "t").passed


def test_an_order_bigger_than_any_plausible_order_is_named() -> None:
    frame = orders(
        ("big", "2026-11-01", 1e12, 0, None, "DAC"),
        ("pricey", "2026-11-01", 10, 0, 2e10, "DAC"),
        ("at-bound", "2026-11-01", 1e7, 1e7, 1e10, "DAC"),
        ("delivered", "2026-11-01", 1, 2e7, None, "DAC"),
        ("text", "2026-11-01", "lots", 0, None, "DAC"),  # not a number: the tons checks' business
    )
    bounds = {"tons_purchased": 1e7, "tons_delivered": 1e7, "price_usd": 1e10}
    units = {"tons_purchased": "t", "tons_delivered": "t", "price_usd": "USD"}
    outcome = quality.values_at_most(frame, bounds, "order_id", "cdr_fyi_orders", units)
    assert not outcome.passed
    # readable numbers with their units, never scientific notation
    assert outcome.description == (
        "cdr_fyi_orders: 3 orders beyond a plausible single order: tons_purchased above 10,000,000 t: "
        "big (1,000,000,000,000 t); tons_delivered above 10,000,000 t: delivered (20,000,000 t); "
        "price_usd above 10,000,000,000 USD: pricey (20,000,000,000 USD)"
    )
    # the rejected rows, with the columns that explain the rule, for the check's table
    assert outcome.rejected is not None and list(outcome.rejected["order_id"]) == ["big", "pricey", "delivered"]
    assert list(outcome.rejected.columns) == ["order_id", "tons_purchased", "tons_delivered", "price_usd", "announcement_date"]
    assert outcome.metadata["ids_by_column"] == {
        "tons_purchased": ["big"],
        "tons_delivered": ["delivered"],
        "price_usd": ["pricey"],
    }
    assert quality.values_at_most(frame.iloc[[2, 4]], bounds, "order_id", "t").passed


def test_totals_moving_more_than_the_swing_block_naming_the_new_orders_behind_them() -> None:
    before = orders(("a", "2026-01-01", 100, 0, 50, "DAC"), ("b", "2026-01-02", 300, 0, None, "Biochar"))
    now = orders(
        ("a", "2026-01-01", 100, 0, 50, "DAC"),
        ("b", "2026-01-02", 300, 0, None, "Biochar"),
        ("c", "2026-11-20", 150, 0, None, "Biochar"),
        ("d", "2026-11-21", 5, 0, 40, "DAC"),
        ("e", "2026-11-22", 1, 0, None, "Biochar"),
    )
    movers = quality.largest_new_orders(now, before)
    assert movers == {"tons purchased": ["c (150 t)", "d (5 t)", "e (1 t)"], "DAC dollars": ["d (40 USD)"]}
    totals = {"tons purchased": (556.0, 400.0, "t"), "DAC dollars": (90.0, 50.0, "USD")}
    outcome = quality.totals_within_swing(totals, 0.25, movers, "orders_for_viz")
    assert not outcome.passed
    assert outcome.description == (
        "orders_for_viz: tons purchased moved +39.0% since published (400 t -> 556 t), DAC dollars moved +80.0% "
        "since published (50 USD -> 90 USD), beyond the allowed ±25%; largest new orders: tons purchased: c (150 t), "
        "d (5 t), e (1 t); DAC dollars: d (40 USD)"
    )
    assert outcome.metadata["largest_new_orders"] == movers
    assert outcome.metadata["changes"] == {"tons purchased": 0.39, "DAC dollars": 0.8}
    # within the swing, or nothing published yet: passes
    assert quality.totals_within_swing({"tons purchased": (480.0, 400.0, "t")}, 0.25, movers, "o").passed
    assert quality.totals_within_swing({"tons purchased": (480.0, None, "t")}, 0.25, movers, "o").passed
    # a fall counts as much as a rise
    assert not quality.totals_within_swing({"tons purchased": (200.0, 400.0, "t")}, 0.25, {}, "o").passed
