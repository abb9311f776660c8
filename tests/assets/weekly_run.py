"""One weekly_refresh run in a process of its own, for tests that kill it (SIGKILL) mid-publication.

    python -m tests.assets.weekly_run

Runs the job of ``DAGSTER_DEPLOYMENT`` in process on the instance at ``DAGSTER_HOME``, with the
settings of its environment (storage, cdr.fyi, front page), exactly as a run worker would.
Exit status 0 when the run succeeded.

With ``HOLD_WRITE`` (a regular expression) and ``HOLD_FD`` (a pipe's write end) set, the run
stops for good as it is about to move a written temp file under ``CDR_DATA_DIR`` to its key,
when the temp file's path there matches, after telling the test which one through the pipe: a
local write caught between its start and its end, for the test to kill (Python's audit hooks see
every ``os.link`` and ``os.replace``; nothing in production changes).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from typing import Any

import dagster as dg

from cdr_dagster.definitions import build_definitions
from cdr_dagster.deployments import current_deployment


def hold_at_write(pattern: str, fd: int, base: str) -> None:
    """Stop the process as it links or renames a temp file under ``base`` whose relative path
    matches: the file is complete, its key not yet written."""
    wanted = re.compile(pattern)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in ("os.link", "os.rename"):  # os.replace raises os.rename
            return
        path = os.path.relpath(os.fspath(args[0]), base)
        if wanted.search(path):
            os.write(fd, f"{path}\n".encode())
            threading.Event().wait()  # until killed

    sys.addaudithook(hook)


def main() -> int:
    if "HOLD_WRITE" in os.environ:
        hold_at_write(os.environ["HOLD_WRITE"], int(os.environ["HOLD_FD"]), os.environ["CDR_DATA_DIR"])
    job = build_definitions(current_deployment()).resolve_job_def("weekly_refresh")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
