"""Exactly what this run may publish: its own files, each with every blocking check passed on it.

Dagster already knows which run produced each input of the publication (the loader takes the
file that run recorded, ``upstream_output.run_id``), and the instance knows every check
evaluation. What is left to decide here:

- each input was built in this run or a run it re-executes (its *lineage*, walked through
  ``parent_run_id``); an input from anywhere else was loaded as None and is refused;
- every blocking check defined on the asset evaluated that file and passed: the newest evaluation
  made in the producing run or a later run of the lineage (a re-executed check loads the same
  file); none, or a failure, refuses;
- every such check judged the week against the same publication (the check's ``baseline``
  metadata), which the publication step compares with what is live.

Anything else refuses the whole publication with one sentence, before a single key is written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import dagster as dg

from cdr_dagster.domain.published import BASELINE_METADATA_KEY
from cdr_dagster.resources.csv_io_manager import StoredFile

NOTHING = "nothing was published"
#: A re-execution chain longer than this is cut (a guard against a cycle in the records).
MAX_LINEAGE = 50
#: How far back a check's history is searched for this lineage's evaluation.
CHECK_HISTORY = 100


class PublicationRefused(Exception):
    """The run's files cannot be published; the message is the one sentence to show."""


@dataclass(frozen=True)
class Vouched:
    """The files to publish, and the publications their checks judged them against."""

    files: Mapping[str, StoredFile]
    baselines: frozenset[str]


def lineage(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """``run_id`` and the runs it re-executes, newest first."""
    runs: list[str] = []
    current: str | None = run_id
    while current and current not in runs and len(runs) < MAX_LINEAGE:
        runs.append(current)
        run = instance.get_run_by_id(current)
        current = run.parent_run_id if run else None
    return runs


def blocking_checks(context: dg.AssetExecutionContext, assets: Sequence[str]) -> dict[str, list[dg.AssetCheckKey]]:
    """The blocking checks defined on each asset, whether this run ran them or not: those of the
    job and, when the run has one, of its code location (a job run without some checks still
    owes them)."""
    graphs = [context.job_def.asset_layer.asset_graph]
    try:
        graphs.append(context.repository_def.asset_graph)
    except Exception:  # a job executed in process has no code location: the job's graph only
        pass
    found: dict[str, set[dg.AssetCheckKey]] = {asset: set() for asset in assets}
    for graph in graphs:
        for asset in assets:
            keys = graph.get_check_keys_for_assets({dg.AssetKey(asset)})
            found[asset] |= {k for k in keys if graph.get_check_spec(k).blocking}
    return {asset: sorted(keys, key=lambda k: k.name) for asset, keys in found.items()}


def _verdict(instance: dg.DagsterInstance, check: dg.AssetCheckKey, runs: Collection[str]) -> dg.AssetCheckEvaluation | None:
    """The newest evaluation of ``check`` made by one of ``runs``."""
    history = instance.event_log_storage.get_asset_check_execution_history(check, limit=CHECK_HISTORY)
    for record in history:  # newest first
        event = record.event.dagster_event if record.event else None
        if record.run_id in runs and event is not None and event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            return event.asset_check_evaluation_data
    return None


def vouched_files(
    instance: dg.DagsterInstance,
    run_id: str,
    loaded: Mapping[str, StoredFile | None],
    checks: Mapping[str, Sequence[dg.AssetCheckKey]],
    gated: Collection[str] = (),
) -> Vouched:
    """Each input as this run's lineage built and checked it, or PublicationRefused. Every asset
    of ``gated`` must have at least one blocking check (the datasets do; a raw input such as the
    CCN file may be validated as it is read instead)."""
    runs = lineage(instance, run_id)
    missing = [a for a, f in loaded.items() if f is None or f.run_id not in runs]
    if len(missing) == len(loaded):
        raise PublicationRefused(
            "dashboard_publication publishes only files built and checked in its own run, and this run "
            f"built none of them: {NOTHING} (run weekly_refresh, or materialize the datasets with it)."
        )
    if missing:
        raise PublicationRefused(
            f"dashboard_publication refused: {', '.join(missing)} were not built in this run, so no check of "
            f"this run has passed on them; {NOTHING}."
        )
    unchecked = [a for a in gated if a in loaded and not checks.get(a)]
    if unchecked:
        raise PublicationRefused(
            f"dashboard_publication refused: no blocking check is defined here for {', '.join(unchecked)}; {NOTHING}."
        )
    files = {a: f for a, f in loaded.items() if f is not None}
    problems, baselines = [], set()
    for asset, file in files.items():
        since = runs[: runs.index(file.run_id) + 1]  # the producing run and the lineage's later runs
        for check in checks.get(asset, ()):
            verdict = _verdict(instance, check, since)
            name = f"{asset}:{check.name}"
            if verdict is None:
                problems.append(f"{name} (not evaluated on this run's file)")
            elif not verdict.passed:
                problems.append(f"{name} (failed)")
            else:
                baseline = verdict.metadata.get(BASELINE_METADATA_KEY)
                baselines.add(str(getattr(baseline, "value", baseline)))
    if problems:
        raise PublicationRefused(
            f"dashboard_publication refused: blocking checks did not pass on this run's files: {', '.join(problems)}; {NOTHING}."
        )
    return Vouched(files, frozenset(baselines))
