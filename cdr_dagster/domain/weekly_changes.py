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

from cdr_dagster.domain.numbers import few, number, signed, tons, usd
from cdr_dagster.domain.transforms import rules
from cdr_dagster.domain.transforms.summary import last

LARGEST_SHOWN = 5
NAMES_SHOWN = 10  # new purchasers or suppliers named before "+N more"


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
            last(now.orders_for_viz, "tons_purchased_cum"), last(before.orders_for_viz, "tons_purchased_cum")
        ),
        "tons_delivered_change": _delta(
            last(now.orders_for_viz, "tons_delivered_cum"), last(before.orders_for_viz, "tons_delivered_cum")
        ),
        "dollars_spent_change": _delta(now.dollars_spent, before.dollars_spent),
        "tons_purchased_total": last(now.orders_for_viz, "tons_purchased_cum"),
        "tons_delivered_total": last(now.orders_for_viz, "tons_delivered_cum"),
        "dollars_spent_total": now.dollars_spent,
    }


def changes_text(changes: dict[str, Any], deployment: str, archived_manifest: str | None = None) -> str:
    """A short plain-text summary (Slack and the UI render it as markdown): totals with units, the
    changes against the previous publication, the new purchasers and suppliers, the largest new
    orders, and the archived manifest of this publication (it never moves, unlike the live one)."""
    if changes["first_publication"]:
        head = f"*CDR dashboard ({deployment})*: first publication, nothing to compare with."
    else:
        head = f"*CDR dashboard ({deployment})*: what changed this week"
    purchased = tons(changes.get("tons_purchased_total"))
    delivered = tons(changes.get("tons_delivered_total"))
    spent = usd(changes.get("dollars_spent_total"))
    if changes["first_publication"]:
        totals = [f"- tons purchased: {purchased}, delivered: {delivered}", f"- dollars spent: {spent}"]
    else:
        totals = [
            f"- tons purchased: {purchased} ({signed(changes['tons_purchased_change'], 't')}), "
            f"delivered: {delivered} ({signed(changes['tons_delivered_change'], 't')})",
            f"- dollars spent: {spent} ({signed(changes['dollars_spent_change'], 'USD')})",
        ]
    new_tons = number(changes["new_orders_tons"], "t", decimals=0)
    lines = [
        head,
        f"- new orders: {number(changes['new_orders'])} ({new_tons})",
        *totals,
        f"- new purchasers ({number(len(changes['new_purchasers']))}): {few(changes['new_purchasers'], NAMES_SHOWN) or 'none'}",
        f"- new suppliers ({number(len(changes['new_suppliers']))}): {few(changes['new_suppliers'], NAMES_SHOWN) or 'none'}",
    ]
    if changes["largest_new_orders"]:
        lines.append(f"- largest new orders ({number(len(changes['largest_new_orders']))}):")
    for order in changes["largest_new_orders"]:
        lines.append(
            f"  - {number(order['tons'], 't', decimals=0)} {order['method']}: {order['supplier']} -> {order['purchaser']}"
        )
    if archived_manifest:
        lines.append(f"- manifest of this publication: {archived_manifest}")
    return "\n".join(lines)
