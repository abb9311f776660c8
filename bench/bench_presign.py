"""Benchmark of the presign Lambda against its floor, on moto's S3 server (started here).

    .venv/bin/python bench/bench_presign.py [--requests 5000] [--batches 1000] [--cold-runs 5]

Warm: p50/p99 of ``handler(event, None)`` for a pattern key, against a bare
``generate_presigned_url`` call on the same client with the same parameters (the floor: what any
presigner must pay), measured in alternating rounds of the same run. Batch: one
``/presigned-urls`` call for the page's seven data keys against seven single calls for the same
keys (what the page did before), also alternating. Cold: a fresh subprocess
importing the handler and answering its first request (which reads the manifest from S3), against a
fresh subprocess doing ``import boto3; boto3.client("s3")``. Not a test: it prints numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: make the repo's packages importable

import boto3  # noqa: E402

from devtools.s3_server import patched_env, running_s3_server  # noqa: E402

BUCKET = "cdr-dashboard-bench"
KEY = "processed/orders_for_viz*"
NEWEST = "processed/orders_for_viz_20261127.csv"
DATASETS = (
    "orders_for_viz",
    "purchasers_for_viz",
    "latest_deals",
    "dollars_spent",
    "ccn_data",
    "carbon_pricing",
    "suppliers_for_viz",
)
# The new page's data batch: six dataset patterns as the live page spells them, and the manifest.
BATCH_KEYS = (
    "processed/orders_for_viz*",
    "processed/purchasers_for_viz*",
    "processed/latest_deals_*",
    "processed/dollars_spent*",
    "processed/ccn_data*",
    "processed/carbon_pricing*",
    "processed/manifest.json",
)


def event(path: str, query: str) -> dict:
    """A REST API proxy event (payload 1.0) from the page's origin."""
    name, _, value = query.partition("=")
    return {
        "httpMethod": "GET",
        "path": path,
        "headers": {"Origin": "https://www.deepskyclimate.com"},
        "queryStringParameters": {name: value},
        "multiValueQueryStringParameters": {name: [value]},
        "requestContext": {"requestId": "bench", "path": path},
    }


EVENT = event("/presigned-url", f"key={KEY}")
BATCH_EVENT = event("/presigned-urls", "keys=" + ",".join(BATCH_KEYS))
SINGLE_EVENTS = [event("/presigned-url", f"key={key}") for key in BATCH_KEYS]
COLD_HANDLER = f"""
import json, sys, time
t0 = time.perf_counter()
from presign_lambda.handler import handler
response = handler({EVENT!r}, None)
t1 = time.perf_counter()
print(json.dumps({{"ms": (t1 - t0) * 1000, "status": response["statusCode"]}}))
"""
COLD_FLOOR = """
import json, time
t0 = time.perf_counter()
import boto3
boto3.client("s3")
t1 = time.perf_counter()
print(json.dumps({"ms": (t1 - t0) * 1000, "status": 0}))
"""


def percentile(samples_ns: list[int], q: float) -> float:
    """The q-th percentile in milliseconds (nearest rank)."""
    ordered = sorted(samples_ns)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[rank] / 1e6


def fill_bucket(client) -> None:
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    entries = {}
    for dataset in DATASETS:
        key = f"processed/{dataset}_20261127.csv"
        client.put_object(Bucket=BUCKET, Key=key, Body=b"date,value\n2026-11-27,12\n")
        entries[dataset] = {"key": key, "rows": 1, "sha256": "0" * 64, "updated_at": "2026-11-27T23:59:00Z", "source": "live"}
    manifest = {"version": 1, "generated_at": "2026-11-27T23:59:00Z", "deployment": "bench", "datasets": entries}
    client.put_object(Bucket=BUCKET, Key="processed/manifest.json", Body=json.dumps(manifest).encode())


def warm(requests_per_side: int, batches: int, rounds: int = 10) -> tuple[dict[str, list[int]], int]:
    """Per-call nanoseconds of the handler and of the floor (alternating rounds, so both sides
    see the same machine load), and how many S3 requests the warm handler calls sent."""
    from presign_lambda import handler as module

    module.reset()
    service = module.get_service()
    sent: list[str] = []

    def record(request, **_) -> None:
        sent.append(request.method)  # returning None lets the request go out unchanged

    service.client.meta.events.register("before-send.s3", record)
    params = {"Bucket": BUCKET, "Key": NEWEST, "ResponseContentType": "text/csv"}
    samples: dict[str, list[int]] = {"handler": [], "floor": [], "batch": [], "singles": []}
    per_round = max(1, requests_per_side // rounds)
    batches_per_round = max(1, batches // rounds)
    # The handler writes its JSON log line for real, to /dev/null instead of the terminal.
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        for _ in range(200):  # warm-up: manifest cached, code paths hot
            module.handler(EVENT, None)
        sent.clear()
        for _ in range(rounds):
            for _ in range(per_round):
                t = time.perf_counter_ns()
                response = module.handler(EVENT, None)
                samples["handler"].append(time.perf_counter_ns() - t)
            assert response["statusCode"] == 200
            for _ in range(per_round):
                t = time.perf_counter_ns()
                service.client.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
                samples["floor"].append(time.perf_counter_ns() - t)
            for _ in range(batches_per_round):
                t = time.perf_counter_ns()
                response = module.handler(BATCH_EVENT, None)
                samples["batch"].append(time.perf_counter_ns() - t)
            answer = json.loads(response["body"])
            assert (len(answer["urls"]), answer["errors"]) == (len(BATCH_KEYS), {}), answer["errors"]
            for _ in range(batches_per_round):
                t = time.perf_counter_ns()
                for single in SINGLE_EVENTS:
                    response = module.handler(single, None)
                samples["singles"].append(time.perf_counter_ns() - t)
            assert response["statusCode"] == 200
    return samples, len(sent)


def cold(code: str, env: dict[str, str]) -> tuple[float, float]:
    """(in-process ms, whole-subprocess wall ms) of one fresh interpreter running ``code``."""
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=60)
    wall = (time.perf_counter() - t) * 1000
    result = json.loads(done.stdout.strip().splitlines()[-1])  # the handler's log line comes first
    if result["status"] not in (0, 200):
        raise SystemExit(f"cold request answered {result['status']}: {done.stdout}")
    return result["ms"], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="warm calls per side")
    parser.add_argument(
        "--batches", type=int, default=1000, help=f"warm batch calls (and sets of {len(BATCH_KEYS)} single calls)"
    )
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh subprocesses per side")
    args = parser.parse_args()
    started = time.perf_counter()

    with running_s3_server() as server:
        fill_bucket(server.client())
        env = {
            **server.env(),
            "CDR_DASHBOARD_BUCKET": BUCKET,
            "PRESIGN_ALLOWED_ORIGINS": "",
            "PRESIGN_URL_EXPIRES_SECONDS": "",
            "PRESIGN_MANIFEST_CACHE_SECONDS": "",
        }
        with patched_env(env):
            samples, sent = warm(args.requests, args.batches)
        child_env = {**os.environ, **env}
        runs: dict[str, list[tuple[float, float]]] = {"handler": [], "floor": []}
        for _ in range(args.cold_runs):  # alternate, so machine load hits both sides alike
            runs["handler"].append(cold(COLD_HANDLER, child_env))
            runs["floor"].append(cold(COLD_FLOOR, child_env))

    h50, h99 = percentile(samples["handler"], 50), percentile(samples["handler"], 99)
    f50, f99 = percentile(samples["floor"], 50), percentile(samples["floor"], 99)
    ch = [statistics.median(r[i] for r in runs["handler"]) for i in (0, 1)]
    cf = [statistics.median(r[i] for r in runs["floor"]) for i in (0, 1)]
    print(
        f"presign bench: Python {platform.python_version()}, boto3 {boto3.__version__}, "
        f"{os.cpu_count()} CPUs, moto S3 server over HTTP"
    )
    print(f"warm ({len(samples['handler'])} calls each, key={KEY}, cache fresh):")
    print(f"  handler                  p50 {h50:7.3f} ms   p99 {h99:7.3f} ms")
    print(f"  generate_presigned_url   p50 {f50:7.3f} ms   p99 {f99:7.3f} ms   (floor)")
    print(f"  ratio handler/floor      p50 {h50 / f50:7.2f} x    p99 {h99 / f99:7.2f} x")
    b50, b99 = percentile(samples["batch"], 50), percentile(samples["batch"], 99)
    s50, s99 = percentile(samples["singles"], 50), percentile(samples["singles"], 99)
    n = len(BATCH_KEYS)
    print(f"batch ({len(samples['batch'])} calls each, the page's {n} data keys, cache fresh):")
    print(f"  {f'1 batch call of {n} keys':<23}  p50 {b50:7.3f} ms   p99 {b99:7.3f} ms")
    print(f"  {f'{n} single calls':<23}  p50 {s50:7.3f} ms   p99 {s99:7.3f} ms")
    print(
        f"  {'ratio batch/singles':<23}  p50 {b50 / s50:7.2f} x    p99 {b99 / s99:7.2f} x   "
        f"(and 1 API Gateway request instead of {n})"
    )
    print(f"  S3 requests sent during the warm calls: {sent}")
    print(f"cold (median of {args.cold_runs} fresh subprocesses):")
    print(f"  handler import + first request      {ch[0]:7.1f} ms in-process   {ch[1]:7.1f} ms wall")
    print(f"  import boto3 + boto3.client('s3')   {cf[0]:7.1f} ms in-process   {cf[1]:7.1f} ms wall")
    print(f"  ratio                               {ch[0] / cf[0]:7.2f} x             {ch[1] / cf[1]:7.2f} x")
    print(f"(bench took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
