"""What the page is serving now: the last manifest and the files it names.

The quality gates compare a new week with it (row counts, columns, dollars spent), and the
"what changed this week" summary diffs against it. The manifest names it: its stamp leads to the
inputs' baseline archived with it, so it changes only when the manifest does (a publication, or
a roll-back), and a bad week never becomes the baseline of the next one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from cdr_dagster.domain.csv_format import csv_bytes_to_frame
from cdr_dagster.domain.layout import MANIFEST_KEY, baseline_record_key
from cdr_dagster.domain.manifest import Pulled, publication_stamp, recorded_pull

#: Check metadata naming the publication a gate judged the week against ("none": nothing published).
BASELINE_METADATA_KEY = "baseline"
NOTHING_PUBLISHED = "none"


class ReadableStorage(Protocol):
    """What this module needs of the deployment's storage (a folder or a bucket)."""

    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def read_versioned(self, key: str) -> tuple[bytes, str] | None: ...


@dataclass(frozen=True)
class Published:
    storage: ReadableStorage
    manifest: dict[str, Any] | None
    inputs: dict[str, Any] | None = None
    # bytes already in hand for some keys (the publication step just wrote them): not read again
    known: Mapping[str, bytes] = field(default_factory=dict)
    version: str | None = None  # the manifest's version as read (a publication replaces only that one)

    @property
    def stamp(self) -> str:
        """Which publication this is (its manifest's stamp), or "none"."""
        return publication_stamp(self.manifest) or NOTHING_PUBLISHED

    @property
    def pulled(self) -> Pulled | None:
        return recorded_pull(self.inputs)

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
    live = storage.read_versioned(MANIFEST_KEY)
    if live is None:
        return Published(storage, None)
    manifest = json.loads(live[0])
    stamp = publication_stamp(manifest)
    inputs = _json(storage, baseline_record_key(stamp)) if stamp else None
    return Published(storage, manifest, inputs, version=live[1])
