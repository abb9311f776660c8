"""The manifest of published datasets: ``processed/manifest.json``.

It names, for each dataset the page reads, its newest published key, row count, SHA-256, update
time and source (live or sample). The presign Lambda answers "newest version" requests from it
without listing the bucket, and the page shows "Last updated" from it. It is public (the page may
read it), so it names only published datasets: the raw inputs' baseline is kept apart, in the
private ``raw/published/inputs.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime
from typing import Any

import pandas as pd

MANIFEST_VERSION = 1


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text_frame(data: bytes) -> pd.DataFrame:
    """A CSV as text cells (quoted newlines inside a value do not make extra rows)."""
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def csv_row_count(data: bytes) -> int:
    return len(_text_frame(data))


def manifest_entry(key: str, data: bytes, updated_at: datetime, source: str) -> dict[str, Any]:
    return {
        "key": key,
        "rows": csv_row_count(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "updated_at": _iso(updated_at),
        "source": source,
    }


def input_entry(key: str, data: bytes) -> dict[str, Any]:
    """A raw input of the publication: where it is, its rows and columns (next week's baseline)."""
    frame = _text_frame(data)
    return {"key": key, "rows": len(frame), "columns": [str(c) for c in frame.columns]}


def build_manifest(entries: dict[str, dict[str, Any]], deployment: str, generated_at: datetime) -> dict[str, Any]:
    return {
        "version": MANIFEST_VERSION,
        "generated_at": _iso(generated_at),
        "deployment": deployment,
        "datasets": dict(sorted(entries.items())),
    }


def inputs_record(inputs: dict[str, dict[str, Any]], generated_at: datetime) -> dict[str, Any]:
    """The private record of the raw inputs a publication was built from (next week's baseline)."""
    return {"generated_at": _iso(generated_at), "inputs": dict(sorted(inputs.items()))}


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
