"""The manifest of published datasets: ``processed/manifest.json``.

It names, for each dataset the page reads, its newest published key, row count, SHA-256, update
time and source (live or sample). The presign Lambda answers "newest version" requests from it
without listing the bucket, and the page shows "Last updated" from it. It is public (the page may
read it), so it names only published datasets: the raw inputs' baseline is kept apart, in the
private ``raw/published/<stamp>/inputs.json``, found from the manifest's ``generated_at`` (its
stamp): switching the manifest switches the baseline with it, in one write.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from cdr_dagster.domain.layout import stamp

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
    """A raw input of the publication: where it is, its rows, columns and SHA-256 (next week's
    baseline)."""
    frame = _text_frame(data)
    return {
        "key": key,
        "rows": len(frame),
        "columns": [str(c) for c in frame.columns],
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def build_manifest(entries: dict[str, dict[str, Any]], deployment: str, generated_at: datetime) -> dict[str, Any]:
    return {
        "version": MANIFEST_VERSION,
        "generated_at": _iso(generated_at),
        "deployment": deployment,
        "datasets": dict(sorted(entries.items())),
    }


@dataclass(frozen=True)
class Pulled:
    """When a week's pulls started, and in which run: what orders two weeks."""

    at: datetime
    run_id: str

    def describe(self) -> str:
        return f"pulled from {_iso(self.at)} by run {self.run_id}"


def inputs_record(
    inputs: dict[str, dict[str, Any]], generated_at: datetime, pulled: Pulled, datasets: dict[str, str] | None = None
) -> dict[str, Any]:
    """The private record of the raw inputs a publication was built from (next week's baseline),
    when their pulls started (a later publication must not be older), and the dataset keys it
    writes (what to remove should it be killed before going live)."""
    return {
        "generated_at": _iso(generated_at),
        "pulled_at": pulled.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "pulled_by_run": pulled.run_id,
        "inputs": dict(sorted(inputs.items())),
        "datasets": dict(sorted((datasets or {}).items())),
    }


def recorded_pull(record: dict[str, Any] | None) -> Pulled | None:
    """The pull a baseline record names, or None (nothing published yet)."""
    if not record or not record.get("pulled_at"):
        return None
    moment = datetime.fromisoformat(str(record["pulled_at"]).replace("Z", "+00:00"))
    return Pulled(moment, str(record.get("pulled_by_run") or "?"))


def publication_stamp(manifest: dict[str, Any] | None) -> str | None:
    """The stamp of the publication that wrote ``manifest`` (its archive and baseline are under it)."""
    if not manifest or not manifest.get("generated_at"):
        return None
    return stamp(datetime.strptime(str(manifest["generated_at"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
