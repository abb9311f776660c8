"""Benchmark: how long the local deployment's code location takes to load, against the floor
that every Dagster + pandas process pays (``import dagster, pandas``), measured in the same run.

    .venv/bin/python bench/bench_load.py [--repeat 5]

Each sample is a fresh interpreter (as the code server, `dagster dev` and every run worker
start). Target: loading the code location <= 1.5x the floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "import dagster, pandas"
LOAD = "from cdr_dagster.definitions import build_definitions; build_definitions('local').resolve_asset_graph()"


def timed(code: str) -> float:
    env = {**os.environ, "DAGSTER_DEPLOYMENT": "local", "PYTHONDONTWRITEBYTECODE": "0"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    timed(LOAD)  # warm the bytecode cache and the disk cache once, for both
    floor, load = [], []
    for _ in range(args.repeat):  # interleaved, so a busy moment hits both alike
        floor.append(timed(FLOOR))
        load.append(timed(LOAD))
    f, c = statistics.median(floor), statistics.median(load)
    print(f"import dagster, pandas      median {f:.2f} s  (n={args.repeat})")
    print(f"load the code location      median {c:.2f} s  (n={args.repeat})")
    print(f"ratio                       {c / f:.2f}x  (target <= 1.5x)")
    print("next: if the ratio grew, look for a module-level import of dagster_aws/boto3 on the local path")


if __name__ == "__main__":
    main()
