"""Alerts: a failed weekly refresh is posted to Slack (or logged when no webhook is set).

One alert per failed run, bounded in size, that a person can act on: each failed check (asset,
check, the rule in words, the value against its bound, the first few ids and "+N more"), each
other failed step with its error, what the page serves now, where the full list is and the next
command. The text is plain; the Slack resource escapes it when it posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from cdr_dagster.assets.gates import REJECTED_ROWS
from cdr_dagster.automation import jobs
from cdr_dagster.domain.numbers import few
from cdr_dagster.domain.published import read_published
from cdr_dagster.resources.slack import SlackWebhook
from cdr_dagster.resources.storage import Storage

LISTED_LINES = 10  # of one step's error: the rest is counted, never cut mid-list
LINE_CHARS = 300  # one line of an error, at most
ALERT_CHARS = 3500  # a whole alert, at most (Slack takes 40,000; a screenful is about this)
PUBLICATION_ASSET = "dashboard_publication"
NEXT_STEP = 'Next: fix the cause, then `python3 dev.py rerun` (or "Re-execute from failure" in the UI).'


def _cut(line: str, chars: int = LINE_CHARS) -> str:
    return line if len(line) <= chars else line[: chars - 1] + "…"


def error_lines(message: str) -> list[str]:
    """A step's error as plain-text lines: its first sentence, then each problem it lists (the
    first LISTED_LINES, then "+N more"), each line at most LINE_CHARS long."""
    lines = [_cut(line.strip()) for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ["(no message)"]
    head, rest = lines[0], lines[1:]
    shown = rest[:LISTED_LINES]
    more = [f"+{len(rest) - LISTED_LINES:,} more"] if len(rest) > LISTED_LINES else []
    return [head] + [f"    {line}" for line in shown + more]


@dataclass(frozen=True)
class FailedCheck:
    """A blocking check that failed in the run: where, the rule in words, and what it found."""

    asset: str
    check: str
    rule: str
    found: str


def retry_follows(retry_number: int, step_errors: dict[str, str]) -> bool:
    """Whether the instance will retry the run: only a failure outside the steps (a lost worker)
    is retried at run level; a step's passing faults were already retried inside the run, and the
    other step failures will recur (the job's dagster/retry_on_asset_or_op_failure tag)."""
    return not step_errors and retry_number < jobs.RUN_RETRIES


def page_state(manifest: dict | None, run_started: float | None) -> tuple[bool, str]:
    """Whether the run left the page unchanged, and a sentence saying what the page serves."""
    if not manifest:
        return True, "Nothing was published: the page has no data yet (nothing was ever published)."
    generated = datetime.fromisoformat(str(manifest["generated_at"]).replace("Z", "+00:00"))
    if run_started is not None and generated.timestamp() >= run_started:
        return False, (
            f"The manifest was switched during this run ({generated:%Y-%m-%d %H:%M} UTC): the page serves this "
            "run's week; look at the publication step before re-running."
        )
    return True, f"Nothing was published: the page keeps serving the week published on {generated:%Y-%m-%d}."


def failure_summary(
    run_id: str,
    job_name: str,
    retry_number: int,
    run_message: str,
    step_errors: dict[str, str],
    deployment: str,
    checks: list[FailedCheck] | tuple[FailedCheck, ...] = (),
    page: str = "",
    not_run: list[str] | tuple[str, ...] = (),
) -> str:
    """Plain text naming the run, whether a retry follows, what the page serves, each failed
    check, the checks that did not run, each other failed step, where the full list is and the
    next command; at most ALERT_CHARS long."""
    if retry_follows(retry_number, step_errors) and not checks:  # a failed check is a step failure too
        retry = f"run-level retry {retry_number + 1} of {jobs.RUN_RETRIES} will follow"
    else:
        retry = "no automatic retry: fix the cause, then re-execute from the failed steps"
    lines = [f":rotating_light: *{job_name}* failed on *{deployment}* (run {run_id[:8]}, {retry})."]
    if page:
        lines.append(page)
    for check in checks:
        lines += [f"- `{check.asset}` check `{check.check}`: {_cut(check.rule)}", f"    {_cut(check.found, 2 * LINE_CHARS)}"]
    if not_run:
        lines.append(f"- {not_run_sentence(not_run)}")
    if not step_errors and not checks:
        lines.append(f"- {error_lines(run_message)[0]}")
    for step, error in sorted(step_errors.items()):
        first, *rest = error_lines(error)
        lines += [f"- `{step}`: {first}", *rest]
    where = f"Full lists: run {run_id[:8]} in the Dagster UI (`python3 dev.py ui`)"
    lines.append(where + (f", each failed check's `{REJECTED_ROWS}` table." if checks else ", each step's error."))
    lines.append(NEXT_STEP)
    return bounded(lines)


def bounded(lines: list[str], chars: int = ALERT_CHARS) -> str:
    """The lines joined, dropping middle lines (counted) so the text stays under ``chars``: the
    head and the last two lines (where the full list is, the next command) always stay."""
    text = "\n".join(lines)
    if len(text) <= chars:
        return text
    head, tail = lines[:-2], lines[-2:]
    kept: list[str] = []
    budget = chars - len("\n".join(tail)) - 40
    for line in head:
        if len(line) + 1 > budget:
            break
        kept.append(line)
        budget -= len(line) + 1
    return "\n".join([*kept, f"(+{len(head) - len(kept):,} more lines in the run)", *tail])


def failed_checks(instance: dg.DagsterInstance, run_id: str, rules: dict[dg.AssetCheckKey, str]) -> list[FailedCheck]:
    """The blocking (ERROR) checks that failed in the run, in the order they were evaluated."""
    found = []
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=1000).records
    for record in records:
        event = record.event_log_entry.dagster_event
        evaluation = event.asset_check_evaluation_data if event else None
        if evaluation is None or evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        key = evaluation.asset_check_key
        found.append(FailedCheck(key.asset_key.to_user_string(), key.name, rules.get(key, ""), evaluation.description or ""))
    return found


PLANNED = dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
NOT_RUN = 'not run (a check upstream failed, so their assets were not built; the UI shows them as "Execution failed")'


def not_run_sentence(not_run: list[str] | tuple[str, ...]) -> str:
    return f"{len(not_run)} checks {NOT_RUN}: {few(not_run)}"


def not_run_metadata(not_run: list[str]) -> dict[str, dg.MetadataValue]:
    """Every check that did not run, for the publication's note (at most the code location's checks)."""
    if not not_run:
        return {}
    listed = "\n".join(f"- `{check}`" for check in not_run)
    return {"checks_not_run": dg.MetadataValue.md(f"{len(not_run)} checks {NOT_RUN}:\n\n{listed}")}


def checks_not_run(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The checks the run planned but never evaluated (``asset:check``): a blocking check upstream
    failed, so the step that builds and checks their asset was skipped. They found nothing wrong;
    Dagster still resolves a planned check of a failed run to "Execution failed", with no way for
    the code to mark it otherwise, so the alert and the publication's note say "not run"."""

    def keys(kind: dg.DagsterEventType) -> list[dg.AssetCheckKey]:
        found = []
        for record in instance.get_records_for_run(run_id, of_type=kind, limit=1000).records:
            event = record.event_log_entry.dagster_event
            if event is None:
                continue
            data = event.asset_check_planned_data if kind == PLANNED else event.asset_check_evaluation_data
            found.append(data.asset_check_key)
        return found

    evaluated = set(keys(dg.DagsterEventType.ASSET_CHECK_EVALUATION))
    return [f"{k.asset_key.to_user_string()}:{k.name}" for k in keys(PLANNED) if k not in evaluated]


def check_rules(repository: dg.RepositoryDefinition | None) -> dict[dg.AssetCheckKey, str]:
    """Each check's rule in words (its description), from the code location."""
    if repository is None:
        return {}
    graph = repository.asset_graph
    return {key: graph.get_check_spec(key).description or "" for key in graph.asset_check_keys}


def _step_errors(context: dg.RunFailureSensorContext, checks: list[FailedCheck]) -> dict[str, str]:
    """Each failed step's error; a check step that failed only because a check it ran failed is
    said by the checks themselves."""
    errors = {}
    checked = {f"{check.asset}_checks" for check in checks}
    for event in context.get_step_failure_events():
        step = event.step_key or "?"
        error = event.step_failure_data.error
        message = error.message if error else ""
        if step in checked and "check" in message.lower():
            continue
        errors[step] = message
    return errors


@dg.run_failure_sensor(
    name="weekly_refresh_failure_alert",
    monitored_jobs=[jobs.weekly_refresh],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts one summary of a failed weekly refresh to Slack (SLACK_WEBHOOK_URL), or logs it, and notes "
    "on dashboard_publication when nothing was published.",
)
def weekly_refresh_failure_alert(
    context: dg.RunFailureSensorContext, slack: SlackWebhook, storage: Storage, deployment: dg.ResourceParam[str]
) -> None:
    run = context.dagster_run
    try:
        repository = context.repository_def
    except Exception:  # a context built without its code location (a test): the checks' rules are left out
        repository = None
    checks = failed_checks(context.instance, run.run_id, check_rules(repository))
    not_run = checks_not_run(context.instance, run.run_id)
    record = context.instance.get_run_record_by_id(run.run_id)
    unchanged, page = page_state(read_published(storage).manifest, record.start_time if record else None)
    text = failure_summary(
        run.run_id,
        run.job_name,
        int(run.tags.get("dagster/retry_number", "0")),
        context.failure_event.message or "",
        _step_errors(context, checks),
        deployment,
        checks,
        page,
        not_run,
    )
    slack.post(text, log=context.log.error)
    if unchanged:
        context.instance.report_runless_asset_event(
            dg.AssetObservation(
                asset_key=PUBLICATION_ASSET,
                description=page,
                metadata={
                    "status": dg.MetadataValue.text(page.replace("Nothing was published", "nothing published")),
                    "failed_run": dg.MetadataValue.dagster_run(run.run_id),
                    "observed_at": dg.MetadataValue.timestamp(datetime.now(UTC)),
                    **not_run_metadata(not_run),
                },
            )
        )
