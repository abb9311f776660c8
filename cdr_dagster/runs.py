"""What the Dagster instance recorded about a run, so the platform acts on exactly that run.

A run may be re-executed from its failed step (by hand, or by the instance's run retries): the new
run loads what its parent materialized instead of building it again. Such a chain of runs is one
*lineage* here, newest first: together they built one week's files. The CSV IO manager loads a
step's inputs by the key its lineage recorded (never "the newest file", which another run may have
written meanwhile), and the publication copies only files its lineage materialized and checked.

Storage ids are compared only within one run: an event log may number each run on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

#: A re-execution chain longer than this is cut (a guard against a cycle in the records).
MAX_LINEAGE = 50

#: A run in one of these states still holds its place: queued, starting, running or stopping.
IN_PROGRESS = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)  # metadata arrives wrapped in a MetadataValue


@dataclass(frozen=True)
class Materialized:
    """One materialization of an asset: where it was recorded and the metadata it carries."""

    asset: dg.AssetKey
    run_id: str
    storage_id: int
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        """The storage key the CSV IO manager wrote (None for a materialization without a file)."""
        value = self.metadata.get("key")
        return str(value) if value else None

    @property
    def sha256(self) -> str | None:
        value = self.metadata.get("sha256")
        return str(value) if value else None


@dataclass(frozen=True)
class Evaluated:
    """One evaluation of an asset check."""

    check: dg.AssetCheckKey
    run_id: str
    storage_id: int
    passed: bool
    description: str


def lineage(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """``run_id`` and the runs it re-executes, newest first."""
    runs: list[str] = []
    current: str | None = run_id
    while current and current not in runs and len(runs) < MAX_LINEAGE:
        runs.append(current)
        run = instance.get_run_by_id(current)
        current = run.parent_run_id if run else None
    return runs


def _materialization(record: Any) -> Materialized | None:
    event = record.event_log_entry.dagster_event
    if event is None or event.event_type != dg.DagsterEventType.ASSET_MATERIALIZATION:
        return None
    materialization = event.step_materialization_data.materialization
    metadata = {k: _plain(v) for k, v in materialization.metadata.items()}
    return Materialized(materialization.asset_key, record.event_log_entry.run_id, record.storage_id, metadata)


def _evaluation(record: Any) -> Evaluated | None:
    event = record.event_log_entry.dagster_event
    if event is None or event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        return None
    data = event.asset_check_evaluation_data
    return Evaluated(data.asset_check_key, record.event_log_entry.run_id, record.storage_id, data.passed, data.description or "")


@dataclass(frozen=True)
class LineageRecord:
    """Every materialization and check evaluation of a lineage: for each asset and check, the one
    of the newest run that has one (the last within that run)."""

    runs: tuple[str, ...]
    materializations: Mapping[dg.AssetKey, Materialized]
    evaluations: Mapping[dg.AssetCheckKey, Evaluated]

    def check_of(self, check: dg.AssetCheckKey, materialized: Materialized) -> Evaluated | None:
        """The lineage's evaluation of ``check`` if it evaluated exactly ``materialized``: made in
        the same run after it, or in a later run of the lineage (a re-executed check loads its
        input from the run that materialized it). None when the check has not looked at it."""
        evaluated = self.evaluations.get(check)
        if evaluated is None:
            return None
        at, made = self.runs.index(evaluated.run_id), self.runs.index(materialized.run_id)
        if at < made or (at == made and evaluated.storage_id > materialized.storage_id):
            return evaluated
        return None


def read_lineage(instance: dg.DagsterInstance, run_id: str) -> LineageRecord:
    runs = lineage(instance, run_id)
    materializations: dict[dg.AssetKey, Materialized] = {}
    evaluations: dict[dg.AssetCheckKey, Evaluated] = {}
    for run in runs:  # newest run first: an older run's record never replaces a newer one's
        in_run_m: dict[dg.AssetKey, Materialized] = {}
        in_run_e: dict[dg.AssetCheckKey, Evaluated] = {}
        types = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION}
        for record in instance.get_records_for_run(run, of_type=types).records:  # oldest first
            if (m := _materialization(record)) is not None:
                in_run_m[m.asset] = m
            elif (e := _evaluation(record)) is not None:
                in_run_e[e.check] = e
        for key, m in in_run_m.items():
            materializations.setdefault(key, m)
        for check, e in in_run_e.items():
            evaluations.setdefault(check, e)
    return LineageRecord(tuple(runs), materializations, evaluations)


def materialized_in_lineage(instance: dg.DagsterInstance, run_id: str, asset: dg.AssetKey) -> Materialized | None:
    """The materialization of ``asset`` by ``run_id`` or the runs it re-executes, newest first."""
    for run in lineage(instance, run_id):
        found = None
        for record in instance.get_records_for_run(run, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records:
            m = _materialization(record)
            if m is not None and m.asset == asset:
                found = m  # records come oldest first: keep the run's last
        if found is not None:
            return found
    return None


def latest_materialized(instance: dg.DagsterInstance, asset: dg.AssetKey) -> Materialized | None:
    """The newest materialization of ``asset`` by any run."""
    result = instance.fetch_materializations(asset, limit=1)
    return _materialization(result.records[0]) if result.records else None


def run_in_progress(instance: dg.DagsterInstance, job_name: str) -> dg.DagsterRun | None:
    """A run of ``job_name`` that is queued, starting, running or stopping, if any."""
    runs = instance.get_runs(dg.RunsFilter(job_name=job_name, statuses=list(IN_PROGRESS)), limit=1)
    return runs[0] if runs else None


def skip_while_running(instance: dg.DagsterInstance, job_name: str) -> dg.SkipReason | None:
    """A schedule's reason to skip when a run of its job has not finished: the new run would
    only wait behind it (or race it to publish), so this week's tick is skipped, saying why."""
    running = run_in_progress(instance, job_name)
    if running is None:
        return None
    return dg.SkipReason(
        f"{job_name} run {running.run_id} is still {running.status.value.lower()}: this tick is skipped rather "
        "than queued behind it; the next tick runs as usual, or launch a run by hand once it has finished."
    )
