"""Benchmark: what a weekly_refresh run costs as the platform runs it, against the same job run
in process and against "Materialize all", on the local sample, side by side in one script.

Each is a whole fresh process (loading the code location included), with its own instance
folder (the local instance's settings: pools limited to 1) and data folder:

- in process: ``execute_in_process`` on the job, the floor for this work;
- platform: ``dagster job execute``, which runs the job on the executor on the Definitions, as
  the run worker a launched run starts does (``dagster api execute_run``);
- materialize all: every asset, no job, as the UI's button launches it (the same executor);
- before: the same command with the executor the platform had before (a forkserver
  multiprocess executor, a process per step), for reference.

    .venv/bin/python bench/bench_run_cost.py [--repeat 3]

Targets: platform <= 2x in process; materialize all <= 1.2x platform.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IN_PROCESS = (
    "import dagster as dg\n"
    "from cdr_dagster.definitions import build_definitions\n"
    "job = build_definitions('local').resolve_job_def('weekly_refresh')\n"
    "assert job.execute_in_process(instance=dg.DagsterInstance.get()).success\n"
)
BEFORE = (
    "import dagster as dg\n"
    "from cdr_dagster.definitions import build_definitions\n"
    "start = {'forkserver': {'preload_modules': ['cdr_dagster.definitions']}}\n"
    "defs = build_definitions('local', executor_def=dg.multiprocess_executor.configured({'start_method': start}))\n"
)
INSTANCE = "telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n"


def commands(tmp: Path) -> dict[str, list[str]]:
    before = tmp / "before_defs.py"
    before.write_text(BEFORE)
    dagster = str(BIN / "dagster")
    return {
        "in process": [sys.executable, "-c", IN_PROCESS],
        "platform": [dagster, "job", "execute", "-m", "cdr_dagster.definitions", "-j", "weekly_refresh"],
        "materialize all": [dagster, "asset", "materialize", "-m", "cdr_dagster.definitions", "--select", "*"],
        "before": [dagster, "job", "execute", "-f", str(before), "-j", "weekly_refresh"],
    }


def timed(command: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        home, data = Path(tmp, "home"), Path(tmp, "data")
        home.mkdir()
        (home / "dagster.yaml").write_text(INSTANCE)
        env = {**os.environ, "DAGSTER_HOME": str(home), "CDR_DATA_DIR": str(data), "DAGSTER_DEPLOYMENT": "local"}
        env.pop("CDR_FYI_API_TOKEN", None)
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = commands(Path(tmp))
        samples: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeat):  # interleaved, so a busy moment hits each alike
            for name, command in runs.items():
                samples[name].append(timed(command))
    median = {name: statistics.median(values) for name, values in samples.items()}
    for name, seconds in median.items():
        print(f"{name:<16} median {seconds:6.1f} s  (n={args.repeat}: {', '.join(f'{s:.1f}' for s in samples[name])})")
    print(f"platform / in process = {median['platform'] / median['in process']:.2f}x (target <= 2x)")
    print(f"materialize all / platform = {median['materialize all'] / median['platform']:.2f}x (target <= 1.2x)")
    print(f"before / in process   = {median['before'] / median['in process']:.2f}x")


if __name__ == "__main__":
    main()
