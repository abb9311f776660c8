"""How fast the public page draws, and how many bytes it downloads, at today's data size and at 10x.

    .venv/bin/python bench/bench_page.py [--runs 5]

Generates the datasets (orders and purchasers: one row per day since 2019, ~2,800 rows; ccn ~35
years; carbon pricing 22 years; 10x: ten times the rows), starts the same stack as the preview and the tests (moto S3 over
HTTP, the presign server, the page server), and loads the page in headless Chromium, each run in a
fresh browser context (cold cache). Measured per run:
- time from navigation start to every chart drawn (the page's "cdr:settled" performance mark);
- main-thread time spent running scripts (parsing the CSVs, building and drawing the charts) and
  in layout (DevTools Performance metrics): the page's own cost, apart from waiting for servers;
- bytes transferred (encoded, from the DevTools protocol) in all, and for the CSVs alone.
The presign server caches the manifest for 60 s, as the Lambda does by default (one warm-up load
per size, not measured). Prints medians as a table with the 10x/1x ratios. The servers are local
(moto's S3 runs in a process of its own): absolute times are this machine's, not the CDN's or AWS's.
"""

from __future__ import annotations

import argparse
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


def load_once(browser, url: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Performance.enable")
    urls: dict[str, str] = {}
    sizes: dict[str, float] = {}
    cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    try:
        page.goto(url)
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


def measure(scale: int, runs: int, browser) -> tuple[dict[str, int], dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        counts = generate(Path(tmp), scale)
        with running_stack(Path(tmp), page_hosts=("localhost",), manifest_cache_seconds=60) as stack:
            load_once(browser, f"{stack.origin('localhost')}/")  # warm the servers, not measured
            samples = [load_once(browser, f"{stack.origin('localhost')}/") for _ in range(runs)]
    return counts, {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            results = {scale: measure(scale, args.runs, browser) for scale in (1, 10)}
        finally:
            browser.close()

    (c1, m1), (c10, m10) = results[1], results[10]
    rows = [
        ("orders_for_viz rows", c1["orders_for_viz"], c10["orders_for_viz"]),
        ("purchasers_for_viz rows", c1["purchasers_for_viz"], c10["purchasers_for_viz"]),
        ("ccn_data rows", c1["ccn_data"], c10["ccn_data"]),
        ("carbon_pricing rows", c1["carbon_pricing"], c10["carbon_pricing"]),
        ("time to all charts drawn (ms)", m1["settled_ms"], m10["settled_ms"]),
        ("main-thread script time (ms)", m1["script_ms"], m10["script_ms"]),
        ("layout time (ms)", m1["layout_ms"], m10["layout_ms"]),
        ("bytes transferred, all", m1["bytes"], m10["bytes"]),
        ("bytes transferred, CSVs", m1["csv_bytes"], m10["csv_bytes"]),
        ("requests", m1["requests"], m10["requests"]),
    ]
    print(f"page load, median of {args.runs} cold loads per size (headless Chromium, local stack)")
    print(f"{'metric':<32}{'1x':>14}{'10x':>14}{'10x/1x':>9}")
    for name, a, b in rows:
        print(f"{name:<32}{a:>14,.0f}{b:>14,.0f}{b / a:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
