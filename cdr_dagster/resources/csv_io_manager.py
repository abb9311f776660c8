"""The IO manager that stores every asset as a dated CSV in the deployment's storage.

Each run writes under its own keys, ``<prefix>/<run_id>/<asset name>_YYYYMMDD.csv`` (UTC date of
the write), where the prefix comes from the asset's ``cdr/prefix`` metadata: ``raw`` for source
tables, ``staging`` for datasets awaiting their checks. The key and the SHA-256 of the bytes go
into the materialization's metadata. Raw files are written spreadsheet-safe (formula-like text
cells neutralised, restored on reading; csv_format.py); staged datasets exactly as the page gets them.

Reading an input loads the file recorded by the run Dagster names as its producer
(``upstream_output.run_id``: this run, or for a step a re-execution skipped, the run it
re-executes), and refuses it if the bytes changed since: two runs at once never read each other's
files. An asset materialized alone, its input not built in its run, reads the input's newest
materialization and says so in the log; the publication refuses such an input instead
(``StagedFileLoader``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.domain.csv_format import csv_bytes_to_frame, frame_to_csv_bytes
from cdr_dagster.domain.layout import RAW_PREFIX, is_raw, run_key, utc_date_stamp
from cdr_dagster.resources.storage import Storage

PREFIX_METADATA_KEY = "cdr/prefix"
DEFAULT_PREFIX = RAW_PREFIX
PAGE = 20  # materializations read at a time while looking for one run's


def asset_prefix(definition_metadata: Mapping[str, Any] | None) -> str:
    value = (definition_metadata or {}).get(PREFIX_METADATA_KEY, DEFAULT_PREFIX)
    return getattr(value, "value", value)  # metadata may arrive wrapped in a MetadataValue


class StoredFileChanged(Exception):
    """A file a run wrote no longer has the bytes that run recorded."""


@dataclass(frozen=True)
class StoredFile:
    """An asset's file as one run's materialization recorded it: its key, bytes and metadata."""

    asset: str
    run_id: str
    key: str
    data: bytes
    metadata: Mapping[str, Any]

    @property
    def source(self) -> str:
        return str(self.metadata.get("source") or "unknown")


def producing_run(context: dg.InputContext) -> str | None:
    """The run that produced this input in this run's plan (this run, or the run a re-execution
    re-executes), or None when the input was not built in this run or its parents (Dagster then
    hands an output context with a placeholder run id, or none)."""
    upstream = context.upstream_output
    try:
        run_id = upstream.run_id if upstream is not None else None
    except dg.DagsterInvariantViolationError:
        return None
    return run_id if run_id and context.instance.get_run_by_id(run_id) is not None else None


def _materialization(instance: dg.DagsterInstance, asset: dg.AssetKey, run_id: str | None) -> Any:
    """The newest materialization record of ``asset`` by ``run_id`` (None: by any run)."""
    cursor = None
    while True:
        page = instance.fetch_materializations(asset, limit=PAGE, cursor=cursor)  # newest first
        for record in page.records:
            if run_id is None or record.run_id == run_id:
                return record
        if not page.has_more:
            return None
        cursor = page.cursor


def recorded_file(context: dg.InputContext, storage: Storage, run_id: str | None) -> StoredFile:
    """The file the materialization of the input's asset by ``run_id`` (None: by any run, the
    newest) recorded, refused when its bytes changed since."""
    asset = context.asset_key
    record = _materialization(context.instance, asset, run_id)
    materialization = record.asset_materialization if record else None
    metadata = {k: getattr(v, "value", v) for k, v in (materialization.metadata if materialization else {}).items()}
    key = metadata.get("key")
    if record is None or not key:
        raise FileNotFoundError(
            f"{asset.to_user_string()} has no recorded materialization with a stored file: "
            f"materialize {asset.to_user_string()} first"
        )
    data = storage.read_bytes(str(key))
    sha256 = metadata.get("sha256")
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise StoredFileChanged(
            f"{storage.location(str(key))} changed since run {record.run_id} wrote it "
            f"(its SHA-256 is not the recorded {str(sha256)[:12]}...): refusing to use it"
        )
    return StoredFile(asset.to_user_string(), record.run_id, str(key), data, metadata)


class CsvIOManager(dg.ConfigurableIOManager):
    """Writes DataFrames as CSV to the deployment's storage (a folder locally, S3 in test/prod)."""

    storage: Storage

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        if obj is None:
            return
        name = context.asset_key.path[-1]
        prefix = asset_prefix(context.definition_metadata)
        key = run_key(prefix, context.run_id, name, utc_date_stamp())
        # raw files are what people download to look into a week: safe to open in a spreadsheet
        data = frame_to_csv_bytes(obj, spreadsheet_safe=prefix == RAW_PREFIX)
        self.storage.write_bytes(key, data)
        context.add_output_metadata(
            {
                "key": key,
                "location": dg.MetadataValue.path(self.storage.location(key)),
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        run_id = producing_run(context)
        file = recorded_file(context, self.storage, run_id)
        if run_id is None:
            context.log.warning(
                f"{file.asset} was not built in this run: reading its newest materialization, from run {file.run_id}"
            )
        return csv_bytes_to_frame(file.data, spreadsheet_safe=is_raw(file.key))


class StagedFileLoader(dg.ConfigurableIOManager):
    """Loads an input of the publication as the exact bytes its producing run recorded (a
    ``StoredFile``), or None when this run (or the run it re-executes) did not build it: the
    publication never takes another run's file."""

    storage: Storage

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        raise NotImplementedError("StagedFileLoader only loads inputs")

    def load_input(self, context: dg.InputContext) -> StoredFile | None:
        run_id = producing_run(context)
        if run_id is None:
            return None
        try:
            return recorded_file(context, self.storage, run_id)
        except (StoredFileChanged, FileNotFoundError) as error:
            raise dg.Failure(
                description=f"dashboard_publication refused: {error}; nothing was published.", allow_retries=False
            ) from None
