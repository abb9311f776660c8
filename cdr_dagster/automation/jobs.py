"""The weekly refresh job and its schedule: the platform's heartbeat."""

import os

import dagster as dg

from cdr_dagster.config import weekly_cron
from cdr_dagster.deployments import current_deployment

RUN_RETRIES = 2
# A run time limit (enforced by the instance's run monitoring, which then fails the run, and the
# failure alert posts it): a normal run takes minutes; 3 h covers a pull held a whole hour by the
# hourly rate limit plus its retries, and three attempts still fit in the 12 h freshness grace.
MAX_RUNTIME_SECONDS = 3 * 60 * 60
# Run tags saying what started a run and where: the schedule, a person (the UI, `dev.py refresh`:
# the job's default) or a re-execution (`dev.py rerun` sets it), on which deployment.
TRIGGER_TAG = "trigger"
DEPLOYMENT_TAG = "deployment"
SCHEDULE, MANUAL, RERUN = "schedule", "manual", "rerun"


def run_tags(trigger: str) -> dict[str, str]:
    return {TRIGGER_TAG: trigger, DEPLOYMENT_TAG: current_deployment()}


weekly_refresh = dg.define_asset_job(
    name="weekly_refresh",
    selection=dg.AssetSelection.all(include_sources=True),
    description="Full refresh: pull every source, rebuild the dashboard datasets, check and publish them.",
    # Run-level retries only for failures outside the steps (a lost worker); a retry starts from
    # the failed step, so what succeeded is not pulled again. A step's passing faults are retried
    # by its own retry policy, and a step failure that will recur (a bad file, a 401, a failed
    # gate) is not retried at all: one failed run, one alert. Run retries take effect where the
    # instance enables them (dev.py's and deployment/'s do).
    tags={
        "dagster/max_retries": str(RUN_RETRIES),
        "dagster/retry_strategy": "FROM_FAILURE",
        "dagster/retry_on_asset_or_op_failure": "false",
        "dagster/max_runtime": str(MAX_RUNTIME_SECONDS),
        **run_tags(MANUAL),
    },
)


#: A run in one of these states still holds its place: queued, starting, running or stopping.
IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def skip_while_running(instance: dg.DagsterInstance, job_name: str) -> dg.SkipReason | None:
    """A schedule's reason to skip when a run of its job has not finished: the new run would
    only wait behind it (or race it to publish), so this week's tick is skipped, saying why."""
    records = instance.get_run_records(dg.RunsFilter(job_name=job_name, statuses=IN_PROGRESS), limit=1)
    if not records:
        return None
    running = records[0].dagster_run
    return dg.SkipReason(
        f"{job_name} run {running.run_id} is still {running.status.value.lower()}: this tick is skipped rather "
        "than queued behind it; the next tick runs as usual, or launch a run by hand once it has finished."
    )


# CDR_WEEKLY_CRON is read when the code location loads (a code server restart applies a change).
@dg.schedule(
    name="weekly_refresh_schedule",
    job=weekly_refresh,
    cron_schedule=weekly_cron(os.environ),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refreshes and publishes the dashboard every week, with no clicks needed; skipped, "
    "saying why, while a weekly_refresh run is still unfinished.",
)
def weekly_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    try:
        instance = context.instance
    except dg.DagsterInvariantViolationError:  # a context built without an instance (tests); a tick has one
        return dg.RunRequest(tags=run_tags(SCHEDULE))
    return skip_while_running(instance, weekly_refresh.name) or dg.RunRequest(tags=run_tags(SCHEDULE))
