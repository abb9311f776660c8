"""Materialization metadata every table reports, so a week's data can be read in the UI."""

from __future__ import annotations

import dagster as dg
import pandas as pd

PREVIEW_ROWS = 10


def table_metadata(frame: pd.DataFrame) -> dict[str, dg.RawMetadataValue]:
    """Row count, column schema and a markdown preview of the first rows."""
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()]
    )
    preview = frame.head(PREVIEW_ROWS).to_markdown(index=False) if len(frame.columns) else ""
    return {
        "dagster/row_count": len(frame),
        "dagster/column_schema": schema,
        "preview": dg.MetadataValue.md(preview),
    }
