"""Benchmark: a full pull of a 10x-scale cdr.fyi, against the floor and a naive pull.

Starts the localhost fake of cdr.fyi (devtools/fake_cdr_fyi.py) serving the synthetic data at
``--scale`` (default 10x today's volumes) with ``--latency`` per request (default 150 ms) and the
documented limits (100 requests a minute, 1000 an hour per token). Time is compressed by
``--time-scale`` (default 0.1: a "minute" lasts 6 s and 150 ms of latency lasts 15 ms), the rate
windows and the latency alike, so the proportions stay those of real time while the run takes
well under a minute; pass 1 for real time (about three minutes per pull at 10x).

Three numbers, all measured or computed in this run:
- platform: the four tables pulled one after another in one process of their own (not the
  fake's), as a run pulls them (the in-process executor, the ``cdr_fyi_api`` pool), through one
  CdrFyiApi (its rate limiter, retries);
- floor: what the limits and latency allow at best: max(latency of the longest table's pages in
  sequence, the time the rate windows need to admit every request plus one latency);
- naive: one process of its own, pages in sequence, no limiter, sleeping Retry-After on each 429.

    python bench/bench_pull.py [--scale 10] [--latency 0.15] [--time-scale 0.1]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdr_dagster.cdr_fyi.schema import TABLES  # noqa: E402
from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi  # noqa: E402
from devtools.fake_cdr_fyi import FakeCdrFyi  # noqa: E402
from devtools.sample_snapshot import generate  # noqa: E402

TOKEN = "bench-token"
PER_MINUTE, PER_HOUR, PAGE = 100, 1000, 100


def pages_for(rows: int) -> int:
    return rows // PAGE + 1  # the last page is short (possibly empty)


def floor_seconds(pages: dict[str, int], latency: float, scale: float) -> float:
    total = sum(pages.values())
    latency_floor = max(pages.values()) * latency
    rate_floor = 0.0
    for limit, window in ((PER_MINUTE, 60 * scale), (PER_HOUR, 3600 * scale)):
        rate_floor = max(rate_floor, (math.ceil(total / limit) - 1) * window)
    return max(latency_floor, rate_floor + latency)


def _pull_all(base_url: str, scale: float) -> float:
    api = CdrFyiApi(base_url=base_url, token=TOKEN, rate_window_scale=scale)
    start = time.perf_counter()
    for table in TABLES:
        api.fetch_table(table)
    return time.perf_counter() - start


def platform(tables: dict, latency: float, scale: float) -> tuple[float, int]:
    with FakeCdrFyi(tables, TOKEN, latency_s=latency, window_scale=scale) as fake:
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            elapsed = pool.apply(_pull_all, (fake.base_url, scale))
        return elapsed, sum(r.status == 429 for r in fake.requests)


def _naive_pull(base_url: str) -> float:
    session = requests.Session()
    start = time.perf_counter()
    for table in TABLES:
        page = 1
        while True:
            response = session.get(
                f"{base_url}/{table}",
                timeout=60,
                headers={"Authorization": f"Bearer {TOKEN}", "x-page": str(page), "x-limit": str(PAGE)},
            )
            if response.status_code == 429:
                time.sleep(float(response.headers["Retry-After"]))
                continue
            rows = response.json()[table]
            if len(rows) < PAGE:
                break
            page += 1
    return time.perf_counter() - start


def naive(tables: dict, latency: float, scale: float) -> tuple[float, int]:
    with FakeCdrFyi(tables, TOKEN, latency_s=latency, window_scale=scale) as fake:
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            elapsed = pool.apply(_naive_pull, (fake.base_url,))
        return elapsed, sum(r.status == 429 for r in fake.requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--time-scale", type=float, default=0.1)
    args = parser.parse_args()

    tables = generate(scale=args.scale)
    latency = args.latency * args.time_scale
    pages = {t: pages_for(len(tables[t])) for t in TABLES}
    floor = floor_seconds(pages, latency, args.time_scale)
    print(f"data: {args.scale:g}x today, {sum(len(v) for v in tables.values())} records, {sum(pages.values())} pages {pages}")
    print(
        f"limits: {PER_MINUTE}/min and {PER_HOUR}/h per token, time compressed x{args.time_scale:g} "
        f"(a minute lasts {60 * args.time_scale:g}s), latency {args.latency * 1000:.0f} ms "
        f"(compressed to {latency * 1000:.0f} ms)"
    )
    ours, ours_429 = platform(tables, latency, args.time_scale)
    slow, slow_429 = naive(tables, latency, args.time_scale)
    print(f"{'':<28}{'seconds':>10}{'429s':>7}")
    print(f"{'floor (limits + latency)':<28}{floor:>10.2f}{'':>7}")
    print(f"{'platform (serialised)':<28}{ours:>10.2f}{ours_429:>7}")
    print(f"{'naive sequential':<28}{slow:>10.2f}{slow_429:>7}")
    print(f"platform / floor = {ours / floor:.2f}x (target <= 1.1x, no 429)   naive / platform = {slow / ours:.2f}x")


if __name__ == "__main__":
    main()
