"""What the sources share: how a raw input table is stored (under ``raw/``, as it came), and how
a hand-dropped file (the CCN list, the World Bank figures) is observed, read and rejected."""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.assets.options import OWNERS, TABLE_KINDS, WEEKLY_FRESHNESS
from cdr_dagster.domain.layout import RAW_PREFIX
from cdr_dagster.domain.transforms.dropped_file import FileRejected
from cdr_dagster.resources.csv_io_manager import PREFIX_METADATA_KEY
from cdr_dagster.resources.input_files import DroppedFile

# Hand-dropped yearly inputs: CCN's report is annual; the World Bank's figures come once a year
# and may land a few weeks late.
YEARLY_FILE_WINDOW = timedelta(days=365)
YEARLY_LATE_FILE_WINDOW = timedelta(days=365 + 31)


# Every raw input table (the cdr.fyi pulls, the accepted CCN file): kept under raw/ as it came.
RAW_TABLE_OPTIONS: dict[str, Any] = dict(
    kinds=TABLE_KINDS,
    owners=OWNERS,
    metadata={PREFIX_METADATA_KEY: RAW_PREFIX},
    freshness_policy=WEEKLY_FRESHNESS,
)


def dropped_file_source(
    name: str, resource_key: str, group: str, description: str, fail_window: timedelta
) -> dg.AssetsDefinition:
    """An observable source asset for a hand-dropped file. Each weekly run observes it (is it
    there, where); the first run to see a new version of the file also records it as a
    materialization of the asset, the event Dagster's freshness policies (the daemon, the UI's
    freshness status) and the staleness alert judge: "last replaced" is when a run first saw it."""

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
        version = hashlib.sha256(data).hexdigest()[:16]
        replaced = dg.MetadataValue.timestamp(file.storage.last_modified(file.key))
        if recorded_version(context.instance, name) != version:
            context.instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    asset_key=name,
                    description=f"A new version of {location} was dropped in.",
                    metadata={VERSION_METADATA_KEY: version, "location": location, "bytes": len(data), "file_modified": replaced},
                )
            )
        return dg.ObserveResult(
            asset_key=name,
            data_version=dg.DataVersion(version),
            metadata={"location": location, "present": True, "bytes": len(data), "dagster/last_updated_timestamp": replaced},
        )

    return observe


VERSION_METADATA_KEY = "sha256_prefix"  # of a dropped file's recorded version


def recorded_version(instance: dg.DagsterInstance, name: str) -> str | None:
    """The version of a hand-dropped file last recorded as its asset's materialization, or None."""
    event = instance.get_latest_materialization_event(dg.AssetKey(name))
    recorded = event.asset_materialization.metadata.get(VERSION_METADATA_KEY) if event and event.asset_materialization else None
    return str(recorded.value) if isinstance(recorded, dg.TextMetadataValue) else None


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
