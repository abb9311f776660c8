"""The weekly refresh job and its schedule: the platform's heartbeat."""

import os

import dagster as dg

WEEKLY_CRON_ENV_VAR = "CDR_WEEKLY_CRON"
DEFAULT_WEEKLY_CRON = "0 6 * * 1"  # Mondays 06:00 UTC, before Europe and the Americas read the page
RUN_RETRIES = 2


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
    },
)


def weekly_cron() -> str:
    return os.getenv(WEEKLY_CRON_ENV_VAR, DEFAULT_WEEKLY_CRON).strip() or DEFAULT_WEEKLY_CRON


# CDR_WEEKLY_CRON is read when the code location loads (a code server restart applies a change).
weekly_refresh_schedule = dg.ScheduleDefinition(
    name="weekly_refresh_schedule",
    job=weekly_refresh,
    cron_schedule=weekly_cron(),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refreshes and publishes the dashboard every week, with no clicks needed.",
)
