"""The IO manager that stores every asset as a dated CSV in the deployment's storage.

An asset's key is ``<prefix>/<asset name>_YYYYMMDD.csv`` (UTC date of the write), where the prefix
comes from the asset's ``cdr/prefix`` metadata: ``raw`` for source tables, ``staging`` for
datasets awaiting their checks. Reading an asset loads its newest dated file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.domain.csv_format import csv_bytes_to_frame, frame_to_csv_bytes
from cdr_dagster.domain.layout import RAW_PREFIX, dated_key, utc_date_stamp
from cdr_dagster.resources.storage import Storage

PREFIX_METADATA_KEY = "cdr/prefix"
DEFAULT_PREFIX = RAW_PREFIX


def asset_prefix(definition_metadata: Mapping[str, Any] | None) -> str:
    value = (definition_metadata or {}).get(PREFIX_METADATA_KEY, DEFAULT_PREFIX)
    return getattr(value, "value", value)  # metadata may arrive wrapped in a MetadataValue


class CsvIOManager(dg.ConfigurableIOManager):
    """Writes DataFrames as CSV to the deployment's storage (a folder locally, S3 in test/prod)."""

    storage: Storage

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        if obj is None:
            return
        name = context.asset_key.path[-1]
        key = dated_key(asset_prefix(context.definition_metadata), name, utc_date_stamp())
        data = frame_to_csv_bytes(obj)
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
        name = context.asset_key.path[-1]
        upstream = context.upstream_output
        prefix = asset_prefix(upstream.definition_metadata if upstream else None)
        key = self.storage.newest_dated_key(prefix, name)
        if key is None:
            raise FileNotFoundError(
                f"no stored version of {name} under {self.storage.location(prefix + '/')}: materialize {name} first"
            )
        return csv_bytes_to_frame(self.storage.read_bytes(key))
