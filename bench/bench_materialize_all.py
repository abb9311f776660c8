"""Benchmark: "Materialize all" (every asset, no job: what the UI's button launches) against the
weekly_refresh job, on the local deployment with the bundled sample, measured in the same run.

    .venv/bin/python bench/bench_materialize_all.py [--repeat 2]

Both now use the executor on the Definitions (a forkserver multiprocess executor with the code
location preloaded); before, "Materialize all" fell back to Dagster's default executor and took
about 4x the job's time. Target: Materialize all <= 1.2x weekly_refresh.
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
COMMANDS = {
    "weekly_refresh": [str(BIN / "dagster"), "job", "execute", "-m", "cdr_dagster.definitions", "-j", "weekly_refresh"],
    "materialize all": [str(BIN / "dagster"), "asset", "materialize", "-m", "cdr_dagster.definitions", "--select", "*"],
}


def timed(command: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        home, data = Path(tmp, "home"), Path(tmp, "data")
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {**os.environ, "DAGSTER_HOME": str(home), "CDR_DATA_DIR": str(data), "DAGSTER_DEPLOYMENT": "local"}
        env.pop("CDR_FYI_API_TOKEN", None)
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):  # interleaved, so a busy moment hits both alike
        for name, command in COMMANDS.items():
            samples[name].append(timed(command))
    job, everything = statistics.median(samples["weekly_refresh"]), statistics.median(samples["materialize all"])
    print(f"weekly_refresh    median {job:6.1f} s  (n={args.repeat})")
    print(f"materialize all   median {everything:6.1f} s  (n={args.repeat})")
    print(f"ratio             {everything / job:.2f}x  (target <= 1.2x)")


if __name__ == "__main__":
    main()
