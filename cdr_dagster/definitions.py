"""The code location: everything under ``cdr_dagster/assets/`` plus this deployment's resources.

``dagster dev``, ``dg`` and the code server load ``defs`` from this module. The Dagster objects
themselves (assets, checks, the job, the schedule, sensors) are discovered in the defs folder,
``cdr_dagster/assets/`` (``[tool.dg.project] defs_module``): a new module there is picked up
with no list to edit. ``DAGSTER_DEPLOYMENT`` chooses the resources (cdr_dagster/deployments.py).
The executor sits here, on the Definitions, so every run (the weekly job, "Materialize all",
one asset) uses the same one.

Why not ``dg.load_from_defs_folder``: besides the defs folder it imports every installed Dagster
plugin to describe its components to the UI (here dagster-aws, and through it boto3), which took
about 2 of the 3.7 seconds a load costs and made the local deployment pay for S3 it never uses.
Walking the package with ``load_definitions_from_modules`` finds the same objects.
"""

import importlib
import pkgutil
from types import ModuleType

import dagster as dg

from cdr_dagster import assets, automation
from cdr_dagster.deployments import current_deployment, resources_for

# Every step of a run in the run's own process, one after another. The pulls must go one at a
# time anyway (one token's rate limit, the cdr_fyi_api pool) and every other step is a small
# pandas transform, so a process per step cost more than the work (16 s against 5 s on the
# sample, bench/bench_run_cost.py). Steps, per-asset checks, step retry policies and
# re-execution from a failed step are the same on this executor.
EXECUTOR = dg.in_process_executor


def defs_modules(packages: tuple[ModuleType, ...] = (assets, automation)) -> list[ModuleType]:
    """Every module of the defs folder and of automation/, in a stable order."""
    names = sorted(m.name for p in packages for m in pkgutil.walk_packages(p.__path__, f"{p.__name__}."))
    return [importlib.import_module(name) for name in names]


def build_definitions(deployment: str, executor_def: dg.ExecutorDefinition = EXECUTOR) -> dg.Definitions:
    """The definitions of one deployment (a bench passes another executor to compare)."""
    return dg.load_definitions_from_modules(defs_modules(), resources=resources_for(deployment), executor=executor_def)


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(current_deployment())
