"""Alerts: a failed weekly refresh is posted to Slack (or logged when no webhook is set)."""

import dagster as dg

from cdr_dagster.assets.automation import jobs
from cdr_dagster.deployments import current_deployment
from cdr_dagster.resources.slack import SlackWebhook

FIRST_LINES = 3


def _short(message: str) -> str:
    return " ".join(line.strip() for line in message.strip().splitlines()[:FIRST_LINES])


def failure_summary(
    run_id: str, job_name: str, retry_number: int, run_message: str, step_errors: dict[str, str], deployment: str
) -> str:
    """Plain text naming the run, whether a retry follows, and each failed step with its error."""
    retry = (
        f"run-level retry {retry_number + 1} of {jobs.RUN_RETRIES} will follow"
        if retry_number < jobs.RUN_RETRIES
        else "no retries left"
    )
    lines = [
        f":rotating_light: *{job_name}* failed on *{deployment}* (run {run_id[:8]}, {retry}). "
        "Nothing was published: the page keeps serving the previous data.",
        f"- {_short(run_message)}",
    ]
    lines += [f"- `{step}`: {_short(error)}" for step, error in sorted(step_errors.items())]
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
