"""Looking up supplier and purchaser names for orders, with the contract's placeholders."""

from __future__ import annotations

import pandas as pd

from cdr_dagster.domain.transforms.coerce import normalise_ids, normalise_text, require_columns


def name_lookup(table: pd.DataFrame, id_column: str, table_name: str) -> pd.Series:
    """``id -> name`` from an entity table (suppliers, purchasers).

    Duplicate ids (a row shifted across a page boundary during the pull) keep the first copy.
    Blank names are dropped, so they fall back to the placeholder like unknown ids do.
    """
    table = require_columns(table, (id_column, "name"), table_name)
    lookup = pd.DataFrame({"id": normalise_ids(table[id_column]), "name": normalise_text(table["name"])})
    lookup = lookup.dropna(subset=["id"]).drop_duplicates("id", keep="first").dropna(subset=["name"])
    return lookup.set_index("id")["name"]


def names_for(ids: pd.Series, lookup: pd.Series, placeholder: str) -> pd.Series:
    """The name for each id, ``placeholder`` when the id is missing, unknown or has no name."""
    return ids.map(lookup).fillna(placeholder).astype("str")
