"""One weekly_refresh run in a process of its own, for tests that kill it (SIGKILL) mid-publication.

    python -m tests.assets.weekly_run

Runs the job of ``DAGSTER_DEPLOYMENT`` in process on the instance at ``DAGSTER_HOME``, with the
settings of its environment (storage, cdr.fyi, front page), exactly as a run worker would.
Exit status 0 when the run succeeded.
"""

from __future__ import annotations

import sys

import dagster as dg

from cdr_dagster.definitions import build_definitions
from cdr_dagster.deployments import current_deployment


def main() -> int:
    job = build_definitions(current_deployment()).resolve_job_def("weekly_refresh")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
