"""The IO manager that stores every asset as a dated CSV in the deployment's storage.

Each run writes under its own keys, ``<prefix>/<run_id>/<asset name>_YYYYMMDD.csv`` (UTC date of
the write), where the prefix comes from the asset's ``cdr/prefix`` metadata: ``raw`` for source
tables, ``staging`` for datasets awaiting their checks. The key and the SHA-256 of the bytes go
into the materialization's metadata. Raw files are written spreadsheet-safe (formula-like text
cells neutralised, restored on reading; csv_format.py); staged datasets exactly as the page gets them.

Reading an asset loads the file its own run (or the run it re-executes) recorded, and refuses it
if the bytes changed since: two runs at once never read each other's files. An asset
materialized alone, its input not built in its run, reads the input's newest recorded
materialization and says so in the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.domain.csv_format import csv_bytes_to_frame, frame_to_csv_bytes
from cdr_dagster.domain.layout import RAW_PREFIX, run_key, utc_date_stamp
from cdr_dagster.resources.storage import Storage
from cdr_dagster.runs import Materialized, latest_materialized, materialized_in_lineage

PREFIX_METADATA_KEY = "cdr/prefix"
DEFAULT_PREFIX = RAW_PREFIX


def asset_prefix(definition_metadata: Mapping[str, Any] | None) -> str:
    value = (definition_metadata or {}).get(PREFIX_METADATA_KEY, DEFAULT_PREFIX)
    return getattr(value, "value", value)  # metadata may arrive wrapped in a MetadataValue


class StoredFileChanged(Exception):
    """A file a run wrote no longer has the bytes that run recorded."""


def read_recorded(storage: Storage, materialized: Materialized) -> bytes:
    """The bytes of the file ``materialized`` recorded, refused when they changed since."""
    key = materialized.key
    if key is None:
        raise FileNotFoundError(f"{materialized.asset.to_user_string()} (run {materialized.run_id}) recorded no stored file")
    data = storage.read_bytes(key)
    if materialized.sha256 and hashlib.sha256(data).hexdigest() != materialized.sha256:
        raise StoredFileChanged(
            f"{storage.location(key)} changed since run {materialized.run_id} wrote it "
            f"(its SHA-256 is not the recorded {materialized.sha256[:12]}...): refusing to use it"
        )
    return data


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
        asset = context.asset_key
        instance, run_id = context.instance, context.step_context.run_id
        materialized = materialized_in_lineage(instance, run_id, asset)
        if materialized is None:
            materialized = latest_materialized(instance, asset)
            if materialized is not None:
                context.log.warning(
                    f"{asset.to_user_string()} was not built in this run: reading its newest "
                    f"materialization, from run {materialized.run_id}"
                )
        if materialized is None or materialized.key is None:
            raise FileNotFoundError(
                f"{asset.to_user_string()} has no recorded materialization with a stored file: "
                f"materialize {asset.to_user_string()} first"
            )
        data = read_recorded(self.storage, materialized)
        return csv_bytes_to_frame(data, spreadsheet_safe=materialized.key.startswith(f"{RAW_PREFIX}/"))
