"""Reading a CSV back applies the types declared beside the fields, never a guess from a name."""

from __future__ import annotations

import pandas as pd

from cdr_dagster.cdr_fyi.schema import FIELD_TYPES
from cdr_dagster.domain.csv_format import csv_bytes_to_frame
from cdr_dagster.domain.datasets import COLUMN_TYPES


def test_a_name_declared_in_both_places_has_one_type() -> None:
    shared = FIELD_TYPES.keys() & COLUMN_TYPES.keys()
    assert "tons_purchased" in shared
    assert {name: FIELD_TYPES[name] for name in shared} == {name: COLUMN_TYPES[name] for name in shared}


def test_declared_types_apply_and_undeclared_columns_stay_text() -> None:
    data = (
        b"order_id,tons_purchased,announcement_date,delivery_verified,geo.lat,status_date\n"
        b"007,1.5,2024-01-05,True,12.97,2024-02-01\n"
        b"008,,,False,-33.87,\n"
    )
    frame = csv_bytes_to_frame(data)
    assert frame["order_id"].tolist() == ["007", "008"]  # an id is text, zeros kept
    assert frame["tons_purchased"].iloc[0] == 1.5 and pd.isna(frame["tons_purchased"].iloc[1])
    assert frame["announcement_date"].iloc[0] == pd.Timestamp("2024-01-05")
    assert frame["delivery_verified"].tolist() == [True, False]
    # not declared anywhere: text, whatever the name or the values look like
    assert frame["geo.lat"].tolist() == ["12.97", "-33.87"]
    assert frame["status_date"].iloc[0] == "2024-02-01"


def test_a_declared_column_with_an_unreadable_value_keeps_its_text() -> None:
    """So the check on it can name the bad value instead of seeing an empty cell."""
    frame = csv_bytes_to_frame(b"tons_purchased,announcement_date\n12,2024-01-05\nlots,yesterday\n")
    assert frame["tons_purchased"].tolist() == ["12", "lots"]
    assert frame["announcement_date"].tolist() == ["2024-01-05", "yesterday"]
