"""Alerts: a failed weekly refresh is posted to Slack (or logged when no webhook is set)."""

import dagster as dg

from cdr_dagster.assets.automation import jobs
from cdr_dagster.deployments import current_deployment
from cdr_dagster.domain.slack_text import escape_slack
from cdr_dagster.resources.slack import SlackWebhook

LISTED_LINES = 20  # of one step's error: the rest is counted, never cut mid-list


def error_lines(message: str, *, slack: bool = True) -> list[str]:
    """A step's error as alert lines: its first sentence, then each problem it lists (every one,
    or the first LISTED_LINES and "+N more"), in Slack-safe text (plain text for a terminal when
    ``slack`` is False)."""
    escape = escape_slack if slack else str
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ["(no message)"]
    head, rest = lines[0], lines[1:]
    shown = rest[:LISTED_LINES]
    more = [f"+{len(rest) - LISTED_LINES} more"] if len(rest) > LISTED_LINES else []
    return [escape(head)] + [f"    {escape(line)}" for line in shown + more]


def retry_follows(retry_number: int, step_errors: dict[str, str]) -> bool:
    """Whether the instance will retry the run: only a failure outside the steps (a lost worker)
    is retried at run level; a step's passing faults were already retried inside the run, and the
    other step failures will recur (the job's dagster/retry_on_asset_or_op_failure tag)."""
    return not step_errors and retry_number < jobs.RUN_RETRIES


def failure_summary(
    run_id: str, job_name: str, retry_number: int, run_message: str, step_errors: dict[str, str], deployment: str
) -> str:
    """Plain text naming the run, whether a retry follows, and each failed step with its error."""
    if retry_follows(retry_number, step_errors):
        retry = f"run-level retry {retry_number + 1} of {jobs.RUN_RETRIES} will follow"
    else:
        retry = "no automatic retry: fix the cause, then re-execute from the failed steps"
    lines = [
        f":rotating_light: *{job_name}* failed on *{deployment}* (run {run_id[:8]}, {retry}). "
        "Nothing was published: the page keeps serving the previous data."
    ]
    if not step_errors:
        lines.append(f"- {error_lines(run_message)[0]}")
    for step, error in sorted(step_errors.items()):
        first, *rest = error_lines(error)
        lines += [f"- `{step}`: {first}", *rest]
    return "\n".join(lines)


@dg.run_failure_sensor(
    name="weekly_refresh_failure_alert",
    monitored_jobs=[jobs.weekly_refresh],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts a summary of a failed weekly refresh to Slack (SLACK_WEBHOOK_URL), or logs it.",
)
def weekly_refresh_failure_alert(context: dg.RunFailureSensorContext, slack: SlackWebhook) -> None:
    run = context.dagster_run
    step_errors = {
        event.step_key or "?": (event.step_failure_data.error.message if event.step_failure_data.error else "")
        for event in context.get_step_failure_events()
    }
    text = failure_summary(
        run.run_id,
        run.job_name,
        int(run.tags.get("dagster/retry_number", "0")),
        context.failure_event.message or "",
        step_errors,
        current_deployment(),
    )
    slack.post(text, log=context.log.error)
