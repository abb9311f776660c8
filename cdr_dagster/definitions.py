"""The code location: every asset, check, job, schedule and sensor of the platform.

``dagster dev`` (via workspace.yaml) and ``dagster job execute -m cdr_dagster.definitions`` load
this module; ``DAGSTER_DEPLOYMENT`` chooses the resources (see cdr_dagster/deployments.py).
"""

import dagster as dg

from cdr_dagster.assets import ccn, cdr_fyi, dashboard, publication
from cdr_dagster.deployments import current_deployment, resources_for

ALL_ASSETS = dg.load_assets_from_modules([cdr_fyi, ccn, dashboard, publication])

# Each step runs in its own process (the four pulls run in parallel); a forkserver with the code
# location preloaded starts those processes in a fraction of the time a fresh interpreter takes.
EXECUTOR = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["cdr_dagster.definitions"]}}}
)

weekly_refresh = dg.define_asset_job(
    name="weekly_refresh",
    selection=dg.AssetSelection.all(),
    executor_def=EXECUTOR,
    description="Full refresh: pull every source, rebuild the dashboard datasets, check and publish them.",
)


def build_definitions(deployment: str) -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[weekly_refresh],
        resources=resources_for(deployment),
    )


defs = build_definitions(current_deployment())
