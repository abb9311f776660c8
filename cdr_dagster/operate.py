"""The operator's commands behind ``python3 dev.py refresh`` and ``python3 dev.py rerun``.

Both start runs *of the code location* (through workspace.yaml, like the UI and the schedule), so
a run started here shows in the UI, can be re-executed from its failed steps from the UI or with
``rerun``, is retried by the instance where a retry can help, and is alerted on by the sensors.
The Dagster daemon does that work: it runs for the length of the command.

    python -m cdr_dagster.operate refresh   # check settings, launch weekly_refresh, wait, summarize
    python -m cdr_dagster.operate rerun     # re-execute the last failed run from its failed steps

Each ends with a short summary: where the files went and the headline figures, or each failed
step with its one-line reason and what to do next. Exit status 0 on success, 1 on a failed run,
2 on a setting that is missing or wrong (one sentence each, nothing launched).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.execution.plan.resume_retry import ReexecutionStrategy
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from cdr_dagster.assets.automation.alerts import error_lines
from cdr_dagster.assets.automation.jobs import RUN_RETRIES
from cdr_dagster.config import setting_problems
from cdr_dagster.deployments import current_deployment

JOB = "weekly_refresh"
LOCATION = "cdr_dagster"
ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = ROOT / "workspace.yaml"
POLL_SECONDS = 1.0
RUN_TIMEOUT_SECONDS = 3600.0
ALERT_WAIT_SECONDS = 120.0  # the failure sensor ticks every 30 s
TERMINAL = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def say(line: str = "") -> None:
    print(line, flush=True)


@contextmanager
def running_daemon(home: Path, env: dict[str, str] | None = None) -> Iterator[Path]:
    """``dagster-daemon run`` for this command's lifetime: it launches queued runs, retries runs
    and evaluates the sensors (the failure alert). Its own log goes to a file, not the terminal."""
    log = home / "daemon.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(WORKSPACE)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**(env if env is not None else os.environ), "DAGSTER_HOME": str(home)},
        )
        try:
            yield log
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for_run_chain(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    """Wait until the run, and any automatic retry the instance makes of it, has finished."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    shown = ""
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is None:
            raise SystemExit(f"run {run_id} disappeared from the instance")
        if run.status.value != shown:
            shown = run.status.value
            say(f"  run {run_id[:8]}: {shown.lower().replace('_', ' ')}")
        if run.status in TERMINAL:
            retry = run.tags.get("dagster/auto_retry_run_id")
            if run.status == dg.DagsterRunStatus.FAILURE and retry:
                say(f"  the instance retries it as run {retry[:8]}")
                run_id, shown = retry, ""
                continue
            if run.status == dg.DagsterRunStatus.FAILURE and _retry_expected(instance, run):
                time.sleep(POLL_SECONDS)  # the daemon is about to create the retry
                continue
            return run
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"run {run_id[:8]} did not finish within {RUN_TIMEOUT_SECONDS:.0f} s; see the UI")


def _retry_expected(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """Whether the daemon will retry this failed run (a failure outside the steps, retries left)."""
    if run.tags.get("dagster/auto_retry_run_id") or int(run.tags.get("dagster/retry_number", "0")) >= RUN_RETRIES:
        return False
    return not step_failures(instance, run.run_id) and time.time() - _ended(instance, run) < 60


def _ended(instance: dg.DagsterInstance, run: dg.DagsterRun) -> float:
    record = instance.get_run_record_by_id(run.run_id)
    return record.end_time if record and record.end_time else time.time()


def step_failures(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """Each failed step's first line of error, and each failed blocking check's description."""
    failures: dict[str, str] = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        data = event.step_failure_data
        message = (data.user_failure_data.description if data and data.user_failure_data else None) or (
            data.error.message if data and data.error else ""
        )
        failures[event.step_key] = (message or "failed").strip()
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.asset_check_evaluation_data if record.dagster_event else None
        if evaluation and not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            key = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            failures[key] = evaluation.description or "failed"
    return failures


def _materializations(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = record.asset_materialization
        if materialization is not None:
            found[materialization.asset_key.to_user_string()] = {
                k: getattr(v, "value", v) for k, v in materialization.metadata.items()
            }
    return found


def _number(value: Any, unit: str) -> str:
    return f"{value:,.0f} {unit}".strip() if isinstance(value, (int, float)) else "n/a"


def success_summary(instance: dg.DagsterInstance, run_ids: Sequence[str]) -> list[str]:
    """Where the files went and the week's headline figures, with their units."""
    meta: dict[str, dict[str, Any]] = {}
    for run_id in run_ids:  # a re-execution only holds what it re-ran: read the chain
        meta.update(_materializations(instance, run_id))
    publication = meta.get("dashboard_publication", {})
    orders = meta.get("orders_for_viz", {})
    carbon = meta.get("carbon_pricing", {})
    lines = [f"Published {len(publication.get('published') or {})} datasets; manifest: {publication.get('manifest', 'n/a')}"]
    if orders:
        lines.append(
            f"  tons purchased {_number(orders.get('tons_purchased_t'), 't')}, delivered "
            f"{_number(orders.get('tons_delivered_t'), 't')} ({orders.get('percent_delivered_pct', 'n/a')} %)"
        )
    if "dollars_spent" in meta:
        lines.append(f"  total spent on CDR {_number(meta['dollars_spent'].get('dollars_spent_usd'), 'USD')}")
    if carbon:
        lines.append(
            f"  carbon pricing {carbon.get('latest_year')}: {carbon.get('countries_count')} countries, "
            f"{carbon.get('global_emissions_pct')} % of global emissions"
        )
    sources = publication.get("sources") or {}
    if "sample" in set(sources.values()):
        lines.append("  (some datasets are SAMPLE data: set CDR_FYI_API_TOKEN and drop the input files for real figures)")
    lines.append("Next: python3 dev.py preview shows the page; python3 dev.py ui shows the runs.")
    return lines


def failure_summary_lines(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[str]:
    failures = step_failures(instance, run.run_id)
    lines = [f"Run {run.run_id[:8]} failed; nothing was published (the page keeps the previous data)."]
    for step, reason in sorted(failures.items()):
        first, *rest = error_lines(reason)  # every problem listed, or the first 20 and +N more
        lines += [f"  {step}: {first}", *(f"  {line}" for line in rest)]
    if not failures:
        lines.append("  (no step failed: see the run in the UI)")
    lines.append("Next: fix the cause (the UI shows the full error), then: python3 dev.py rerun")
    return lines


def _wait_for_alert(instance: dg.DagsterInstance, context: WorkspaceProcessContext, ended: float) -> bool:
    """Wait until the failure-alert sensor has ticked after the run ended (so its alert is out)."""
    request = context.create_request_context()
    repository = next(iter(request.get_code_location(LOCATION).get_repositories().values()))
    sensor = repository.get_sensor("weekly_refresh_failure_alert")
    deadline = time.monotonic() + ALERT_WAIT_SECONDS
    while time.monotonic() < deadline:
        ticks = instance.get_ticks(sensor.get_remote_origin_id(), sensor.selector_id, limit=1)
        if ticks and ticks[0].timestamp > ended:
            return True
        time.sleep(POLL_SECONDS)
    return False


def _finish(instance: dg.DagsterInstance, context: WorkspaceProcessContext, run_id: str, chain: list[str]) -> int:
    run = wait_for_run_chain(instance, run_id)
    say()
    if run.status == dg.DagsterRunStatus.SUCCESS:
        for line in success_summary(instance, [*chain, run.run_id]):
            say(line)
        return 0
    if not _wait_for_alert(instance, context, _ended(instance, run)):
        say("  (the failure alert had not gone out yet; it will when the daemon next runs)")
    for line in failure_summary_lines(instance, run):
        say(line)
    return 1


def refresh(home: Path) -> int:
    run_id = str(uuid.uuid4())
    say(f"Launching {JOB} as run {run_id[:8]} (deployment {current_deployment()}); follow it in the UI: python3 dev.py ui")
    with dg.DagsterInstance.get() as instance, running_daemon(home), _workspace(instance) as context:
        launch = subprocess.run(
            [str(Path(sys.executable).parent / "dagster"), "job", "launch", "-w", str(WORKSPACE), "-j", JOB, "--run-id", run_id],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if launch.returncode != 0:
            say(launch.stderr.strip().splitlines()[-1] if launch.stderr.strip() else "dagster job launch failed")
            return 1
        return _finish(instance, context, run_id, [])


@contextmanager
def _workspace(instance: dg.DagsterInstance) -> Iterator[WorkspaceProcessContext]:
    target = WorkspaceFileTarget(paths=[str(WORKSPACE)])
    with WorkspaceProcessContext(instance, target, code_server_log_level="WARNING") as context:
        yield context


def rerun(home: Path) -> int:
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name=JOB, statuses=[dg.DagsterRunStatus.FAILURE]), limit=1)
        failed = runs[0] if runs else None
        if failed is None:
            say(f"No failed {JOB} run to re-execute.")
            return 0
        with running_daemon(home), _workspace(instance) as context:
            request = context.create_request_context()
            location = request.get_code_location(LOCATION)
            repository = next(iter(location.get_repositories().values()))
            remote_job = location.get_job(
                JobSubsetSelector(
                    location_name=LOCATION,
                    repository_name=repository.name,
                    job_name=JOB,
                    op_selection=None,
                    asset_selection=None,
                    asset_check_selection=None,
                )
            )
            run = instance.create_reexecuted_run(
                request_context=request,
                parent_run=failed,
                code_location=location,
                remote_job=remote_job,
                strategy=ReexecutionStrategy.FROM_FAILURE,
                use_parent_run_tags=True,
            )
            say(
                f"Re-executing run {failed.run_id[:8]} from its failed steps as run {run.run_id[:8]} "
                "(what succeeded is read from storage, not fetched again)"
            )
            instance.submit_run(run.run_id, request)
            return _finish(instance, context, run.run_id, [failed.run_id])


def main(argv: Sequence[str]) -> int:
    command = argv[0] if argv else ""
    if command not in ("refresh", "rerun"):
        say(__doc__ or "")
        return 2
    problems = setting_problems(os.environ)
    if problems:
        for problem in problems:
            say(problem)
        say("Nothing was launched: set these, then run the command again.")
        return 2
    home = Path(os.environ["DAGSTER_HOME"])
    return refresh(home) if command == "refresh" else rerun(home)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
