"""What the assets of every stage (sources, datasets, publication) are declared with: owner,
kinds, the weekly freshness policy, the retry policy for passing faults, and the metadata a
week's table reports so it can be read in the UI."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.domain.numbers import markdown_table

OWNERS = ["team:data-platform"]
TABLE_KINDS = {"python", "pandas", "csv"}
PREVIEW_ROWS = 10

# Freshness, declared on each asset (the daemon shows it in the UI; the staleness alert posts it).
WEEKLY_GRACE = timedelta(hours=12)  # the run, a retry or two, and a person's look
WEEKLY_WINDOW = timedelta(days=7) + WEEKLY_GRACE
WEEKLY_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=WEEKLY_WINDOW)

# Passing faults (network, 5xx, throttling) that outlast a source's own retries: the step is tried
# again a little later. Faults that will recur (401/400, a bad file, a changed page, a missing
# setting) raise dg.Failure(allow_retries=False) and are never retried.
PASSING_FAULT_RETRIES = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def table_metadata(
    frame: pd.DataFrame, newest_first_by: str | None = None, descriptions: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Row count, column schema (with each column's meaning when ``descriptions`` gives it) and a
    markdown preview, readable numbers, of the rows people look at first: the newest ones when
    the table has a time column (``newest_first_by``)."""
    described = descriptions or {}
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name=str(c), type=str(t), description=described.get(str(c))) for c, t in frame.dtypes.items()]
    )
    shown = frame
    if newest_first_by and newest_first_by in frame.columns:
        shown = frame.sort_values(newest_first_by, ascending=False, kind="stable")
    preview = markdown_table(shown, PREVIEW_ROWS) if len(frame.columns) else ""
    return {
        "dagster/row_count": len(frame),
        "dagster/column_schema": schema,
        "preview": dg.MetadataValue.md(preview),
    }
