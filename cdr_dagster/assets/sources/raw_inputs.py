"""What every asset of the platform shares: owner, kinds, freshness, and the metadata a week's
table reports so it can be read in the UI."""

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.domain.layout import RAW_PREFIX, STAGING_PREFIX
from cdr_dagster.domain.numbers import markdown_table
from cdr_dagster.domain.transforms.dropped_file import FileRejected
from cdr_dagster.resources.csv_io_manager import PREFIX_METADATA_KEY
from cdr_dagster.resources.input_files import DroppedFile

OWNERS = ["team:data-platform"]
TABLE_KINDS = {"python", "pandas", "csv"}
PREVIEW_ROWS = 10

# Freshness, declared on each asset (the daemon shows it in the UI; the staleness alert posts it).
WEEKLY_GRACE = timedelta(hours=12)  # the run, a retry or two, and a person's look
WEEKLY_WINDOW = timedelta(days=7) + WEEKLY_GRACE
WEEKLY_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=WEEKLY_WINDOW)
# Hand-dropped yearly inputs: CCN's report is annual; the World Bank's figures come once a year
# and may land a few weeks late.
YEARLY_FILE_WINDOW = timedelta(days=365)
YEARLY_LATE_FILE_WINDOW = timedelta(days=365 + 31)


# Passing faults (network, 5xx, throttling) that outlast a source's own retries: the step is tried
# again a little later. Faults that will recur (401/400, a bad file, a changed page, a missing
# setting) raise dg.Failure(allow_retries=False) and are never retried.
PASSING_FAULT_RETRIES = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

# Every raw input table (the cdr.fyi pulls, the accepted CCN file): kept under raw/ as it came.
RAW_TABLE_OPTIONS: dict[str, Any] = dict(
    kinds=TABLE_KINDS,
    owners=OWNERS,
    metadata={PREFIX_METADATA_KEY: RAW_PREFIX},
    freshness_policy=WEEKLY_FRESHNESS,
)

# Every dataset the page reads: written to staging/ first, published only once checked.
DATASET_OPTIONS: dict[str, Any] = dict(
    group_name="dashboard",
    kinds=TABLE_KINDS,
    owners=OWNERS,
    metadata={PREFIX_METADATA_KEY: STAGING_PREFIX},
    freshness_policy=WEEKLY_FRESHNESS,
)


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


def dropped_file_source(
    name: str, resource_key: str, group: str, description: str, fail_window: timedelta
) -> dg.AssetsDefinition:
    """An observable source asset for a hand-dropped file: observing it records whether the file
    is there and when it was last replaced, so its freshness policy can say when it is overdue."""

    @dg.multi_observable_source_asset(
        name=f"observe_{name}",
        specs=[
            dg.AssetSpec(
                name,
                group_name=group,
                description=description,
                owners=OWNERS,
                freshness_policy=dg.FreshnessPolicy.time_window(fail_window=fail_window),
            )
        ],
        required_resource_keys={resource_key},
    )
    def observe(context: dg.AssetExecutionContext) -> dg.ObserveResult:
        file: DroppedFile = getattr(context.resources, resource_key)
        location = file.location()
        if not file.storage.exists(file.key):
            return dg.ObserveResult(asset_key=name, metadata={"location": location, "present": False})
        data = file.storage.read_bytes(file.key)
        return dg.ObserveResult(
            asset_key=name,
            data_version=dg.DataVersion(hashlib.sha256(data).hexdigest()[:16]),
            metadata={
                "location": location,
                "present": True,
                "bytes": len(data),
                "dagster/last_updated_timestamp": dg.MetadataValue.timestamp(file.storage.last_modified(file.key)),
            },
        )

    return observe


def read_dropped_file(
    context: dg.AssetExecutionContext,
    file: DroppedFile,
    read: Callable[[bytes], pd.DataFrame],
    validate: Callable[[pd.DataFrame, int], pd.DataFrame],
) -> tuple[pd.DataFrame, str]:
    """Read and validate a hand-dropped file: the validated frame and its source (``dropped`` or
    ``sample``). A rejected file fails the step once, naming every problem, and is not retried."""
    data, source = file.read()
    try:
        raw = read(data)
        frame = validate(raw, datetime.now(UTC).year)
    except FileRejected as error:
        raise rejected_file(file, error) from None
    if raw.attrs.get("warning"):
        context.log.warning(raw.attrs["warning"])
    if source == "sample":
        context.log.warning(f"{context.asset_key.to_user_string()}: no file dropped in; using the bundled SAMPLE")
    return frame, source


def rejected_file(file: DroppedFile, error: FileRejected) -> dg.Failure:
    """The one failure a rejected hand-dropped file gives: where it is, every problem, the format
    expected. Not retried: the same file fails the same way until a person fixes it."""
    return dg.Failure(
        description=f"{file.location()}: {error} Expected {file.file_format}.",
        metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in error.problems))},
        allow_retries=False,
    )
