"""What changed this week: the new publication compared with the one the page served before.

Plain functions: given last week's and this week's raw tables and headline datasets, list the new
orders (count, tons, the largest), new purchasers and suppliers, and the change in tons purchased,
tons delivered and dollars spent. The publication step puts the result in its metadata and posts
it to Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cdr_dagster.domain.slack_text import escape_slack
from cdr_dagster.domain.transforms import rules

LARGEST_SHOWN = 5


@dataclass(frozen=True)
class Week:
    """One publication's inputs and headline datasets (None: not available)."""

    orders: pd.DataFrame | None
    purchasers: pd.DataFrame | None
    suppliers: pd.DataFrame | None
    orders_for_viz: pd.DataFrame | None
    dollars_spent: float | None


def _ids(frame: pd.DataFrame | None, column: str) -> set[str]:
    if frame is None or column not in frame.columns:
        return set()
    return set(frame[column].dropna().astype(str))


def _last(frame: pd.DataFrame | None, column: str) -> float | None:
    if frame is None or frame.empty:
        return None
    return float(frame[column].iloc[-1])


def _delta(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 3)


def _names(frame: pd.DataFrame | None, id_column: str) -> dict[str, str]:
    if frame is None or frame.empty:
        return {}
    return dict(zip(frame[id_column].astype(str), frame["name"].astype(str), strict=False))


def _new_entities(before: Week, now: Week, table: str, id_column: str) -> list[str]:
    frame = getattr(now, table)
    fresh = _ids(frame, id_column) - _ids(getattr(before, table), id_column)
    names = _names(frame, id_column)
    return sorted(names.get(i, i) for i in fresh)


def weekly_changes(before: Week, now: Week) -> dict[str, Any]:
    first = before.orders is None
    orders = rules.clean_orders(now.orders) if now.orders is not None else pd.DataFrame(columns=["order_id"])
    new = orders[~orders["order_id"].astype(str).isin(_ids(before.orders, "order_id"))]
    tons = pd.to_numeric(new.get("tons_purchased"), errors="coerce").fillna(0.0)
    suppliers = _names(now.suppliers, "supplier_id")
    purchasers = _names(now.purchasers, "purchaser_id")
    ranked = new.assign(ranked_tons=tons).sort_values("ranked_tons", ascending=False, kind="stable")
    largest = [
        {
            "order_id": str(row.order_id),
            "supplier": suppliers.get(str(row.supplier_id), rules.UNKNOWN_SUPPLIER),
            "purchaser": purchasers.get(str(row.purchaser_id), rules.UNKNOWN_PURCHASER),
            "tons": float(row.ranked_tons),
            "method": str(row.method) if pd.notna(row.method) else rules.UNKNOWN_METHOD,
        }
        for row in ranked.head(LARGEST_SHOWN).itertuples()
    ]
    return {
        "first_publication": first,
        "new_orders": len(new),
        "new_orders_tons": round(float(tons.sum()), 3),
        "largest_new_orders": largest,
        "new_purchasers": _new_entities(before, now, "purchasers", "purchaser_id"),
        "new_suppliers": _new_entities(before, now, "suppliers", "supplier_id"),
        "tons_purchased_change": _delta(
            _last(now.orders_for_viz, "tons_purchased_cum"), _last(before.orders_for_viz, "tons_purchased_cum")
        ),
        "tons_delivered_change": _delta(
            _last(now.orders_for_viz, "tons_delivered_cum"), _last(before.orders_for_viz, "tons_delivered_cum")
        ),
        "dollars_spent_change": _delta(now.dollars_spent, before.dollars_spent),
        "tons_purchased_total": _last(now.orders_for_viz, "tons_purchased_cum"),
        "tons_delivered_total": _last(now.orders_for_viz, "tons_delivered_cum"),
        "dollars_spent_total": now.dollars_spent,
    }


def _signed(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:+,.0f}{unit}"


def _plain(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.0f}{unit}"


def changes_text(changes: dict[str, Any], deployment: str) -> str:
    """A short plain-text summary (Slack and the UI render it as markdown)."""
    if changes["first_publication"]:
        head = f"*CDR dashboard ({deployment})*: first publication, nothing to compare with."
    else:
        head = f"*CDR dashboard ({deployment})*: what changed this week"
    purchased = _plain(changes.get("tons_purchased_total"), " t")
    delivered = _plain(changes.get("tons_delivered_total"), " t")
    spent = _plain(changes.get("dollars_spent_total"), " USD")
    if changes["first_publication"]:
        totals = [f"- tons purchased: {purchased}, delivered: {delivered}", f"- dollars spent: {spent}"]
    else:
        totals = [
            f"- tons purchased: {purchased} ({_signed(changes['tons_purchased_change'], ' t')}), "
            f"delivered: {delivered} ({_signed(changes['tons_delivered_change'], ' t')})",
            f"- dollars spent: {spent} ({_signed(changes['dollars_spent_change'], ' USD')})",
        ]

    def names(items: list[str]) -> str:
        shown = ", ".join(escape_slack(n) for n in items[:10]) or "none"
        return shown + (f", +{len(items) - 10} more" if len(items) > 10 else "")

    lines = [
        head,
        f"- new orders: {changes['new_orders']} ({changes['new_orders_tons']:,.0f} t)",
        *totals,
        f"- new purchasers ({len(changes['new_purchasers'])}): {names(changes['new_purchasers'])}",
        f"- new suppliers ({len(changes['new_suppliers'])}): {names(changes['new_suppliers'])}",
    ]
    for order in changes["largest_new_orders"]:
        lines.append(
            f"  - {order['tons']:,.0f} t {escape_slack(order['method'])}: {escape_slack(order['supplier'])} -> {escape_slack(order['purchaser'])}"
        )
    return "\n".join(lines)
