"""How fast the public page draws, and how many bytes it downloads, at today's data size and at 10x,
with the published files stored plain (before issue 23) and gzip-compressed (now), side by side.

    .venv/bin/python bench/bench_page.py [--runs 5] [--throttled-runs 3]

Generates the datasets (orders and purchasers: one row per day since 2019, ~2,800 rows; ccn ~35
years; carbon pricing 22 years; 10x: ten times the rows), starts the same stack as the preview and the tests (moto S3 over
HTTP, the presign server, the page server) twice per size, one storing every file plain and one
storing them as the pipeline and the deploy do (devtools.stack.upload: gzip for the CSVs and
viz/v2/), and loads the page in headless Chromium, alternating the two, each run in a fresh browser
context (cold cache). Measured per run:
- time from navigation start to every chart drawn (the page's "cdr:settled" performance mark);
- main-thread time spent running scripts (parsing the CSVs, building and drawing the charts) and
  in layout (DevTools Performance metrics): the page's own cost, apart from waiting for servers;
- bytes transferred (encoded, on the wire, from the DevTools protocol) in all, and for the CSVs alone;
- time to every chart drawn again with Chromium's network emulation at DevTools' "Fast 3G" profile
  (562.5 ms round trip, 180 kB/s down, 84 kB/s up: CDP Network.emulateNetworkConditions), as a phone
  on a slow link sees it.
The presign server caches the manifest for 60 s, as the Lambda does by default (one warm-up load
per stack, not measured). Prints medians as a table with the gzip/plain ratios. The servers are local
(moto's S3 runs in a process of its own): absolute times are this machine's, not the CDN's or AWS's.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from devtools.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from devtools.stack import running_stack  # noqa: E402

DAYS_TODAY = 2_800
CCN_YEARS_TODAY = 35
CARBON_PRICING_YEARS_TODAY = 22  # 2005..2026
START = dt.date(2019, 1, 1)
# Chrome DevTools' "Fast 3G" preset (now named "Slow 4G"): 150 ms x 3.75, 1.6 Mbit/s x 0.9, 750 kbit/s x 0.9
FAST_3G = {"offline": False, "latency": 562.5, "downloadThroughput": 180_000, "uploadThroughput": 84_375}
TARGET_BYTES_10X = 1_000_000
MODES = ("plain", "gzip")


def write_csv(path: Path, header: str, rows) -> int:
    lines = [header, *(",".join(str(v) for v in row) for row in rows)]
    path.write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def generate(data_dir: Path, scale: int) -> dict[str, int]:
    """Plausible cumulative series: every day a few orders, deliveries lagging far behind."""
    out = data_dir / "processed"
    out.mkdir(parents=True)
    days = DAYS_TODAY * scale
    counts = {}

    def orders():
        purchased = delivered = dac_p = dac_d = price = dac_price = 0.0
        for i in range(days):
            purchased += 900 + (i * 37) % 4_000
            delivered += 9 + (i * 13) % 40
            if i % 5 == 0:
                dac_p += 120 + (i * 7) % 300
                dac_d += (i * 3) % 5
                dac_price += 60_000 + (i * 11) % 90_000
            price += 200_000 + (i * 17) % 300_000
            yield (
                START + dt.timedelta(days=i),
                round(purchased, 1),
                round(delivered, 1),
                round(dac_p, 1),
                round(dac_d, 1),
                round(price, 1),
                round(dac_price, 1),
            )

    counts["orders_for_viz"] = write_csv(
        out / "orders_for_viz_20261127.csv",
        "date,tons_purchased_cum,tons_delivered_cum,dac_tons_purchased_cum,dac_tons_delivered_cum,"
        "price_usd_cum,dac_price_usd_cum",
        orders(),
    )
    counts["purchasers_for_viz"] = write_csv(
        out / "purchasers_for_viz_20261127.csv",
        "date,purchasers_count_cum,dac_purchasers_count_cum",
        ((START + dt.timedelta(days=i), 1 + i // 6, i // 60) for i in range(days)),
    )
    years = CCN_YEARS_TODAY * scale
    first_year = 2026 - years + 1

    def ccn():
        total = dac = 0
        for k in range(years):
            founded, dac_founded = k % 7, int(k % 11 == 0)
            total, dac = total + founded, dac + dac_founded
            yield first_year + k, founded, dac_founded, total, dac

    counts["ccn_data"] = write_csv(
        out / "ccn_data_20261127.csv",
        "year,companies_founded,dac_companies_founded,companies_founded_cum,dac_companies_founded_cum",
        ccn(),
    )
    carbon_years = CARBON_PRICING_YEARS_TODAY * scale
    counts["carbon_pricing"] = write_csv(
        out / "carbon_pricing_20261127.csv",
        "year,countries_count,global_emissions_pct",
        (
            (2026 - carbon_years + 1 + k, 5 + k * 60 // carbon_years, round(28.0 * (k + 1) / carbon_years, 1))
            for k in range(carbon_years)
        ),
    )
    # The ticker shows 10 deals and the total is one number: their size does not grow with the data.
    counts["latest_deals"] = write_csv(
        out / "latest_deals_20261127.csv",
        "announcement_date,supplier_name,purchaser_name,tons_purchased,method",
        (
            (f"2026-11-{20 + i % 8:02d}", f"Supplier {i}", f'"Buyer, {i}"', 1_000 * (i + 1), "DAC" if i % 3 == 0 else "Biochar")
            for i in range(10)
        ),
    )
    counts["dollars_spent"] = write_csv(
        out / "dollars_spent_20261127.csv", "metric,value", [("dollars_spent", 2_747_547_459.0 * scale)]
    )
    datasets = {}
    for name, rows in counts.items():
        path = out / f"{name}_20261127.csv"
        datasets[name] = {
            "key": f"processed/{path.name}",
            "rows": rows,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "updated_at": "2026-11-27T23:59:00Z",
            "source": "bench",
        }
    manifest = {"version": 1, "generated_at": "2026-11-27T23:59:00Z", "datasets": datasets}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return counts


def load_once(browser, url: str, network: dict | None = None) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Performance.enable")
    if network:
        cdp.send("Network.emulateNetworkConditions", network)
    urls: dict[str, str] = {}
    sizes: dict[str, float] = {}
    cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    try:
        page.goto(url, timeout=120_000)
        page.locator("html[data-cdr-dashboard='settled']").wait_for(state="attached", timeout=120_000)
        ready = page.evaluate("""() => [...document.querySelectorAll('.cdr-chart')].every((e) => e.dataset.state === 'ready')""")
        if not ready:
            raise RuntimeError("a chart did not draw")
        settled = page.evaluate("performance.getEntriesByName('cdr:settled')[0].startTime")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    finally:
        context.close()
    csv_bytes = sum(size for rid, size in sizes.items() if ".csv" in urls.get(rid, ""))
    return {
        "settled_ms": settled,
        "script_ms": metrics["ScriptDuration"] * 1000,
        "layout_ms": metrics["LayoutDuration"] * 1000,
        "bytes": sum(sizes.values()),
        "csv_bytes": csv_bytes,
        "requests": len(sizes),
    }


def measure(scale: int, runs: int, throttled_runs: int, browser) -> tuple[dict[str, int], dict[str, dict[str, float]]]:
    """Medians per mode (plain, gzip) at one data size; the two stacks' loads alternate."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stacks:
        counts = generate(Path(tmp), scale)
        urls = {}
        for mode in MODES:
            stack = stacks.enter_context(
                running_stack(Path(tmp), page_hosts=("localhost",), manifest_cache_seconds=60, compress=mode == "gzip")
            )
            urls[mode] = f"{stack.origin('localhost')}/"
            load_once(browser, urls[mode])  # warm the servers, not measured
        samples: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
        throttled: dict[str, list[float]] = {mode: [] for mode in MODES}
        for i in range(runs):
            for mode in MODES[:: 1 if i % 2 == 0 else -1]:  # alternate who goes first
                samples[mode].append(load_once(browser, urls[mode]))
        for i in range(throttled_runs):
            for mode in MODES[:: 1 if i % 2 == 0 else -1]:
                throttled[mode].append(load_once(browser, urls[mode], FAST_3G)["settled_ms"])
    medians = {}
    for mode in MODES:
        medians[mode] = {key: statistics.median(s[key] for s in samples[mode]) for key in samples[mode][0]}
        medians[mode]["fast3g_ms"] = statistics.median(throttled[mode]) if throttled[mode] else float("nan")
    return counts, medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="unthrottled loads per size and mode")
    parser.add_argument("--throttled-runs", type=int, default=3, help="Fast 3G loads per size and mode")
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            results = {scale: measure(scale, args.runs, args.throttled_runs, browser) for scale in (1, 10)}
        finally:
            browser.close()

    counts = {scale: c for scale, (c, _) in results.items()}
    print(
        f"page load, median of {args.runs} cold loads (Fast 3G: {args.throttled_runs}) per size and storage, "
        "alternating (headless Chromium, local stack)"
    )
    print("rows: " + ", ".join(f"{name} {counts[1][name]:,} / {counts[10][name]:,}" for name in ("orders_for_viz", "ccn_data")))
    print(f"{'metric':<31}{'1x plain':>11}{'1x gzip':>11}{'gzip/plain':>11}{'10x plain':>11}{'10x gzip':>11}{'gzip/plain':>11}")
    for name, key in (
        ("time to all charts drawn (ms)", "settled_ms"),
        ("  same, Fast 3G (ms)", "fast3g_ms"),
        ("main-thread script time (ms)", "script_ms"),
        ("layout time (ms)", "layout_ms"),
        ("bytes transferred, all", "bytes"),
        ("bytes transferred, CSVs", "csv_bytes"),
        ("requests", "requests"),
    ):
        cells = ""
        for scale in (1, 10):
            plain, gz = results[scale][1]["plain"][key], results[scale][1]["gzip"][key]
            cells += f"{plain:>11,.0f}{gz:>11,.0f}{gz / plain:>11.2f}"
        print(f"{name:<31}{cells}")
    ten = results[10][1]
    print(
        f"at 10x, gzip: {ten['gzip']['bytes'] / 1e6:.2f} MB on the wire (target <= {TARGET_BYTES_10X / 1e6:.0f} MB: "
        f"{'met' if ten['gzip']['bytes'] <= TARGET_BYTES_10X else 'NOT met'}), all charts drawn in "
        f"{ten['gzip']['settled_ms']:,.0f} ms against {ten['plain']['settled_ms']:,.0f} ms plain "
        f"({ten['gzip']['settled_ms'] / ten['plain']['settled_ms']:.2f}x), Fast 3G {ten['gzip']['fast3g_ms'] / 1000:.1f} s "
        f"against {ten['plain']['fast3g_ms'] / 1000:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
