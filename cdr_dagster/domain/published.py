"""What the page is serving now: the last manifest and the files it names.

The quality gates compare a new week with it (row counts, columns, dollars spent), and the
"what changed this week" summary diffs against it. It changes only when a publication succeeds,
so a bad week never becomes the baseline of the next one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from cdr_dagster.domain.csv_format import csv_bytes_to_frame
from cdr_dagster.domain.layout import MANIFEST_KEY, PUBLISHED_INPUTS_KEY


class ReadableStorage(Protocol):
    """What this module needs of the deployment's storage (a folder or a bucket)."""

    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...


@dataclass(frozen=True)
class Published:
    storage: ReadableStorage
    manifest: dict[str, Any] | None
    inputs: dict[str, Any] | None = None
    # bytes already in hand for some keys (the publication step just wrote them): not read again
    known: Mapping[str, bytes] = field(default_factory=dict)

    def input_entry(self, asset: str) -> dict[str, Any] | None:
        return ((self.inputs or {}).get("inputs") or {}).get(asset)

    def input_rows(self, asset: str) -> int | None:
        entry = self.input_entry(asset)
        return None if entry is None else int(entry["rows"])

    def input_columns(self, asset: str) -> list[str] | None:
        entry = self.input_entry(asset)
        return None if entry is None else list(entry["columns"])

    def input_frame(self, asset: str) -> pd.DataFrame | None:
        entry = self.input_entry(asset)
        # copies of raw files: written spreadsheet-safe
        return None if entry is None else self._frame(entry["key"], spreadsheet_safe=True)

    def dataset_frame(self, dataset: str) -> pd.DataFrame | None:
        entry = ((self.manifest or {}).get("datasets") or {}).get(dataset)
        return None if entry is None else self._frame(entry["key"])

    def _frame(self, key: str, spreadsheet_safe: bool = False) -> pd.DataFrame | None:
        if key in self.known:
            return csv_bytes_to_frame(self.known[key], spreadsheet_safe)
        # a key the manifest names but storage lost is "no baseline", not a crash
        if not self.storage.exists(key):
            return None
        return csv_bytes_to_frame(self.storage.read_bytes(key), spreadsheet_safe)

    def dollars_spent(self) -> float | None:
        frame = self.dataset_frame("dollars_spent")
        return None if frame is None or frame.empty else float(frame["value"].iloc[0])


def _json(storage: ReadableStorage, key: str) -> dict[str, Any] | None:
    return json.loads(storage.read_bytes(key)) if storage.exists(key) else None


def read_published(storage: ReadableStorage) -> Published:
    manifest = _json(storage, MANIFEST_KEY)
    inputs = _json(storage, PUBLISHED_INPUTS_KEY)
    if inputs is None and manifest and "inputs" in manifest:
        inputs = {"inputs": manifest["inputs"]}  # a manifest written before the baseline moved out
    return Published(storage, manifest, inputs)
