"""What is live: the publication's metadata, as a person reads it in the UI.

A markdown table of the published files (dataset, key, rows, date range, SHA-256 prefix), the
archived manifest's key (it never moves, unlike ``processed/manifest.json``), and what changed
against the previous publication. Plain functions of the manifest, the files' bytes, the archived
key and the changes; ``publication_metadata`` turns them into the asset's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.domain.csv_format import csv_bytes_to_frame
from cdr_dagster.domain.datasets import DATASETS
from cdr_dagster.domain.numbers import number, readable_frame

SHA_SHOWN = 12  # hex digits of a file's SHA-256 in the table: enough to tell files apart
TIME_COLUMNS = ("date", "year", "announcement_date")


def date_range(dataset: str, data: bytes | None) -> str:
    """The first and last day (or year) a published dataset covers, ``-`` when it has no time."""
    column = DATASETS[dataset].order_by if dataset in DATASETS else ""
    if data is None or column not in TIME_COLUMNS:
        return "-"
    values = csv_bytes_to_frame(data)[column].dropna()
    if values.empty:
        return "-"
    first, last = readable_frame(pd.DataFrame({column: [values.min(), values.max()]}))[column]
    return f"{first} to {last}"


def live_table(manifest: Mapping[str, Any], files: Mapping[str, bytes]) -> str:
    """The published datasets as a markdown table; ``files`` holds the bytes by published key."""
    lines = ["| dataset | key | rows | date range | sha256 |", "|---|---|---:|---|---|"]
    for dataset, entry in manifest["datasets"].items():
        key = entry["key"]
        lines.append(
            f"| {dataset} | `{key}` | {number(entry['rows'])} | {date_range(dataset, files.get(key))} "
            f"| `{str(entry['sha256'])[:SHA_SHOWN]}` |"
        )
    return "\n".join(lines)


def live_markdown(manifest: Mapping[str, Any], files: Mapping[str, bytes], archived_manifest: str, summary: str) -> str:
    """What the page serves from now on: the table, the archived manifest, the week's changes."""
    return "\n\n".join(
        [
            f"**Live since {manifest['generated_at']}** ({manifest.get('deployment', '?')})",
            live_table(manifest, files),
            f"Archived manifest: `{archived_manifest}` (a roll-back puts the previous one back).",
            "**What changed**\n\n" + summary,
        ]
    )


def publication_metadata(
    manifest: Mapping[str, Any],
    files: Mapping[str, bytes],
    archived_manifest: str,
    live_manifest: str,
    summary: str,
    changes: Mapping[str, Any],
) -> dict[str, Any]:
    """The publication's metadata: the markdown of what is live first, then the figures that plots
    and tools read (numbers stay numeric)."""
    entries = manifest["datasets"]
    return {
        "whats_live": dg.MetadataValue.md(live_markdown(manifest, files, archived_manifest, summary)),
        "archived_manifest": dg.MetadataValue.path(archived_manifest),
        "manifest": dg.MetadataValue.path(live_manifest),
        "published": dg.MetadataValue.json({d: e["key"] for d, e in entries.items()}),
        "rows": dg.MetadataValue.json({d: e["rows"] for d, e in entries.items()}),
        "sources": dg.MetadataValue.json({d: e["source"] for d, e in entries.items()}),
        "changes": dg.MetadataValue.json(dict(changes)),
        "new_orders": int(changes["new_orders"]),
    }
