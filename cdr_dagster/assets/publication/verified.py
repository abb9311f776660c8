"""Exactly what this run may publish: its own files, checked, unchanged.

The publication never takes "the newest file in staging/": another run may have written it, or a
bad week whose gate failed. It takes, for each dataset and raw input, the file its own run (or the
run it re-executes) materialized, by the key and SHA-256 that materialization recorded, and only
when every blocking check on the asset evaluated that very materialization and passed. Anything
else refuses the whole publication with one sentence, before a single key is written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import dagster as dg

from cdr_dagster.resources.csv_io_manager import StoredFileChanged, read_recorded
from cdr_dagster.resources.storage import Storage
from cdr_dagster.runs import LineageRecord

NOTHING = "nothing was published"


@dataclass(frozen=True)
class VerifiedFile:
    asset: str
    key: str
    data: bytes
    source: str  # the materialization's "source" metadata: live, sample, dropped


class PublicationRefused(Exception):
    """The run's files cannot be published; the message is the one sentence to show."""


def _names(items: Sequence[str]) -> str:
    return ", ".join(items)


def verified_files(
    record: LineageRecord,
    assets: Sequence[str],
    blocking_checks: Mapping[str, Sequence[dg.AssetCheckKey]],
    storage: Storage,
    gated: Collection[str] = (),
) -> dict[str, VerifiedFile]:
    """Each asset's file as this run's lineage recorded and checked it, or PublicationRefused.
    Every asset of ``gated`` must have at least one blocking check (the datasets do; a raw input
    such as the CCN file may be validated as it is read instead)."""
    missing = [a for a in assets if dg.AssetKey(a) not in record.materializations]
    if len(missing) == len(assets):
        raise PublicationRefused(
            "dashboard_publication publishes only files built and checked in its own run, and this run "
            f"built none of them: {NOTHING} (run weekly_refresh, or materialize the datasets with it)."
        )
    if missing:
        raise PublicationRefused(
            f"dashboard_publication refused: {_names(missing)} were not built in this run, so no check of "
            f"this run has passed on them; {NOTHING}."
        )
    ungated = [a for a in assets if a in gated and not blocking_checks.get(a)]
    if ungated:
        raise PublicationRefused(
            f"dashboard_publication refused: no blocking check is defined here for {_names(ungated)}; {NOTHING}."
        )
    problems: list[str] = []
    for asset in assets:
        materialized = record.materializations[dg.AssetKey(asset)]
        for check in blocking_checks.get(asset, ()):
            evaluated = record.check_of(check, materialized)
            name = f"{asset}:{check.name}"
            if evaluated is None:
                problems.append(f"{name} (not evaluated on this run's file)")
            elif not evaluated.passed:
                problems.append(f"{name} (failed)")
    if problems:
        raise PublicationRefused(
            f"dashboard_publication refused: blocking checks did not pass on this run's files: {_names(problems)}; {NOTHING}."
        )
    files: dict[str, VerifiedFile] = {}
    for asset in assets:
        materialized = record.materializations[dg.AssetKey(asset)]
        if materialized.key is None:
            raise PublicationRefused(f"dashboard_publication refused: {asset} recorded no stored file; {NOTHING}.")
        try:
            data = read_recorded(storage, materialized)
        except (StoredFileChanged, FileNotFoundError) as error:
            raise PublicationRefused(f"dashboard_publication refused: {error}; {NOTHING}.") from None
        source = str(materialized.metadata.get("source") or "unknown")
        files[asset] = VerifiedFile(asset, materialized.key, data, source)
    return files
