"""What cdr.fyi's four tables hold, and how a page of JSON records becomes a table.

The documented field lists come from docs.cdr.fyi. They fix the column order of the raw CSVs:
documented fields first, in this order, then any field cdr.fyi adds later (never dropped), sorted
so that the order does not depend on which record happened to come first.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from cdr_dagster.domain.datasets import ColumnType

TABLES: tuple[str, ...] = ("marketplaces", "orders", "purchasers", "suppliers")

# paging by the x-limit header: cdr.fyi's default and its maximum
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100

ID_COLUMNS: dict[str, str] = {
    "marketplaces": "marketplace_id",
    "orders": "order_id",
    "purchasers": "purchaser_id",
    "suppliers": "supplier_id",
}

# Each documented field with how it reads back from a CSV (domain/csv_format.py).
ORDER_FIELDS: dict[str, ColumnType] = {
    "order_id": "text",
    "purchaser_id": "text",
    "supplier_id": "text",
    "marketplace_id": "text",
    "status": "text",
    "delivery_status_source": "text",
    "delivery_verified": "bool",
    "delivery_forecast": "text",
    "delivery_verification_source": "text",
    "method": "text",
    "tons_purchased": "number",
    "price_usd": "number",
    "latest_delivery_date": "date",
    "durability_years": "number",
    "announcement_date": "date",
    "announcement_link": "text",
    "source_type": "text",
    "notes": "text",
    "parent_id": "text",
    # present in real responses, not (yet) in the reference docs
    "tons_delivered": "number",
    "type_of_agreement": "text",
}


def _entity_fields(entity: str, **extra: ColumnType) -> dict[str, ColumnType]:
    text = ("name", "methods", "website", "logo", "slug", "tagline", "description")
    return {
        f"{entity}_id": "text",
        **dict.fromkeys(text, "text"),
        "year_founded": "number",
        "geo_city": "text",
        "geo_country": "text",
        "twitter": "text",
        "is_verified": "bool",
        **extra,
    }


DOCUMENTED_FIELDS: dict[str, dict[str, ColumnType]] = {
    "marketplaces": _entity_fields("marketplace"),
    "orders": ORDER_FIELDS,
    "purchasers": _entity_fields("purchaser", created_at="date"),
    "suppliers": _entity_fields("supplier"),
}
# A field's type by its name (the same name has the same type in every table)
FIELD_TYPES: dict[str, ColumnType] = {name: kind for fields in DOCUMENTED_FIELDS.values() for name, kind in fields.items()}

# Columns without which the dashboard cannot be built (the quality gates check them).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "marketplaces": ("marketplace_id", "name"),
    "orders": (
        "order_id",
        "purchaser_id",
        "supplier_id",
        "method",
        "tons_purchased",
        "price_usd",
        "announcement_date",
        "tons_delivered",
        "type_of_agreement",
    ),
    "purchasers": ("purchaser_id", "name", "created_at"),
    "suppliers": ("supplier_id", "name"),
}

# Separator for flattened nested objects: {"geo": {"lat": 1}} becomes the column "geo.lat".
NESTED_SEPARATOR = "."


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}{NESTED_SEPARATOR}"))
        elif isinstance(value, list):
            # lists (e.g. several methods) stay one cell, as JSON, so nothing is lost
            flat[name] = json.dumps(value, ensure_ascii=False)
        else:
            flat[name] = value
    return flat


def ordered_columns(table: str, present: list[str]) -> list[str]:
    """Documented fields first (those present), then new fields in sorted order."""
    documented = [c for c in DOCUMENTED_FIELDS[table] if c in present]
    return documented + sorted(set(present) - set(documented))


def records_to_frame(table: str, records: list[dict[str, Any]]) -> tuple[pd.DataFrame, int]:
    """Flatten the API's JSON records into a table, one row per id.

    Returns the frame and how many records were dropped as repeats of an id already seen (a row
    shifting across a page boundary while paging shows up twice).
    """
    id_column = ID_COLUMNS[table]
    if not records:
        return pd.DataFrame(columns=list(DOCUMENTED_FIELDS[table])), 0
    flat = [_flatten(r) for r in records]
    present: list[str] = []
    for row in flat:
        present.extend(k for k in row if k not in present)
    frame = pd.DataFrame.from_records(flat, columns=ordered_columns(table, present))
    if id_column not in frame.columns:
        raise ValueError(f"cdr.fyi table {table!r} has no {id_column!r} column")
    frame[id_column] = frame[id_column].astype("string")
    before = len(frame)
    frame = frame.drop_duplicates(subset=[id_column], keep="first").reset_index(drop=True)
    return frame, before - len(frame)
