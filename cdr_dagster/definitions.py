"""The code location: every asset, check, job, schedule and sensor of the platform.

``dagster dev`` (via workspace.yaml) and ``dagster job execute -m cdr_dagster.definitions`` load
this module; ``DAGSTER_DEPLOYMENT`` chooses the resources (see cdr_dagster/deployments.py).
"""

import dagster as dg

from cdr_dagster.alerts import weekly_refresh_failure_alert
from cdr_dagster.assets import ccn, cdr_fyi, dashboard, publication
from cdr_dagster.checks import all_checks
from cdr_dagster.deployments import current_deployment, resources_for
from cdr_dagster.freshness import freshness_checks, freshness_sensor
from cdr_dagster.jobs import EXECUTOR, weekly_refresh_job, weekly_refresh_schedule

ALL_ASSETS = dg.load_assets_from_modules([cdr_fyi, ccn, dashboard, publication])


def build_definitions(deployment: str, executor_def: dg.ExecutorDefinition = EXECUTOR) -> dg.Definitions:
    job = weekly_refresh_job(executor_def)
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=[*all_checks(dashboard.DATASETS), *freshness_checks],
        jobs=[job],
        schedules=[weekly_refresh_schedule(job)],
        sensors=[freshness_sensor, weekly_refresh_failure_alert],
        resources=resources_for(deployment),
    )


defs = build_definitions(current_deployment())
