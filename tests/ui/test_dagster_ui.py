"""The Dagster UI as an operator reads it, in a real browser.

A local instance (its own DAGSTER_HOME) gets a good week, published, then a bad week (one order of
1e12 t dated 2099) that fails its checks; the failure alert runs as the daemon would run it. Both
input files are dropped in. ``dagster dev`` (the webserver, and the daemon that evaluates the
freshness policies) serves that instance and headless Chromium (Debian's) reads the failed
check's page (its table of rejected rows names the order), the publication's page (the markdown
of what is live, and the bad week's note naming the checks that did not run), a check that did
not run, and the dropped files' freshness. No number on those pages is in scientific notation.
Screenshots go to ``artifacts/ui/`` (gitignored); each test prints the paths of its own.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cdr_dagster.cdr_fyi.sample import sample_tables
from cdr_dagster.resources.storage import LocalStorage
from cdr_dagster.sample_data import CARBON_PRICING_FILE, CCN_COMPANIES_FILE, sample_bytes
from devtools.browser import CHROMIUM, CHROMIUM_ARGS
from devtools.fake_cdr_fyi import FakeCdrFyi
from devtools.static_site import serving
from tests.assets.test_absurd_orders import failure_alerts
from tests.assets.test_quality_gates import CURRENT_PAGE, TOKEN, World, in_process_weekly_refresh

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "ui"
SCIENTIFIC = re.compile(r"\d(?:\.\d+)?e[+-]\d+", re.IGNORECASE)
STARTUP_SECONDS = 120
DROPPED_FILES = ("ccn_companies_file", "world_bank_carbon_pricing_file")
FRESHNESS_QUERY = """query($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) { assetKey { path } freshnessStatusInfo { freshnessStatus } } }"""
UI_TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Ui:
    base_url: str
    bad_run_id: str
    alerts: list[str]


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    home, data = tmp_path_factory.mktemp("dagster_home"), tmp_path_factory.mktemp("data")
    settings = {
        "DAGSTER_HOME": str(home),
        "CDR_DATA_DIR": str(data),
        "CDR_FYI_API_TOKEN": TOKEN,
        "FRESHNESS_DAEMON_INTERVAL_SECONDS": "2",  # the daemon's freshness evaluation, every 2 s (30 by default)
    }
    with (
        FakeCdrFyi(copy.deepcopy(sample_tables()), TOKEN) as api,
        serving({"/": (200, CURRENT_PAGE)}) as site,
        pytest.MonkeyPatch.context() as env,
    ):
        settings |= {"CDR_FYI_API_URL": api.base_url, "CDR_FYI_SITE_URL": site.url("/")}
        for name, value in settings.items():
            env.setenv(name, value)
        storage = LocalStorage(base_dir=str(data))
        storage.write_bytes("raw/ccn_companies.csv", sample_bytes(CCN_COMPANIES_FILE))
        storage.write_bytes("raw/world_bank_carbon_pricing.csv", sample_bytes(CARBON_PRICING_FILE))
        with dg.DagsterInstance.get() as instance:
            world = World(api, site, storage, instance)
            job = in_process_weekly_refresh()
            assert job.execute_in_process(instance=instance).success  # the good week, published
            template = dict(api.tables["orders"][0], type_of_agreement="Credit Sale", tons_delivered=0.0)
            api.tables["orders"].append(
                dict(template, order_id="absurd-2099", announcement_date="2099-01-01", tons_purchased=1e12, price_usd=None)
            )
            bad = job.execute_in_process(instance=instance, raise_on_error=False)
            assert not bad.success
            alerts = failure_alerts(world, bad.run_id)

        port = _free_port()
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT,
            env={**os.environ, **settings},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its webserver, daemon and code server stop with it
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_up(base_url, server)
            _wait_until_fresh(base_url, server)
            yield Ui(base_url, bad.run_id, alerts)
        finally:
            server.send_signal(signal.SIGINT)  # as Ctrl-C stops `dagster dev`
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def _wait_until_up(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, "dagster-webserver exited"
        try:
            with urllib.request.urlopen(f"{base_url}/server_info", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)  # polling the server's readiness, with a deadline
    raise AssertionError(f"dagster-webserver not up within {STARTUP_SECONDS} s")


def _freshness(base_url: str) -> dict[str, str]:
    """Each dropped file's freshness status, as the UI reads it (the daemon's last evaluation)."""
    keys = [{"path": [name]} for name in DROPPED_FILES]
    body = json.dumps({"query": FRESHNESS_QUERY, "variables": {"keys": keys}}).encode()
    request = urllib.request.Request(f"{base_url}/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        nodes = json.load(answer)["data"]["assetNodes"]
    return {node["assetKey"]["path"][0]: node["freshnessStatusInfo"]["freshnessStatus"] for node in nodes}


def _wait_until_fresh(base_url: str, server: subprocess.Popen) -> None:
    """Wait until the daemon has evaluated both dropped files' freshness policies."""
    deadline = time.monotonic() + STARTUP_SECONDS
    status: dict[str, str] = {}
    while time.monotonic() < deadline:
        assert server.poll() is None, "dagster dev exited"
        status = _freshness(base_url)
        if "UNKNOWN" not in status.values():
            return
        time.sleep(1)  # polling the daemon's evaluation, with a deadline
    raise AssertionError(f"the dropped files' freshness was not evaluated within {STARTUP_SECONDS} s: {status}")


@pytest.fixture()
def page() -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", *CHROMIUM_ARGS])
        try:
            yield browser.new_page(viewport={"width": 1600, "height": 1200})
        finally:
            browser.close()


def _skip_invitation(page: Page) -> None:
    """Close the UI's first-visit invitation to join the community, which covers the page."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=5_000)
        skip.click()
    except PlaywrightTimeout:
        pass  # not shown this time


def _show_markdown(page: Page, entry: str) -> None:
    """Open a markdown metadata entry (the UI shows it in a dialog)."""
    _skip_invitation(page)
    page.locator("tr", has_text=entry).get_by_text("[Show Markdown]").first.click()


def _shoot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def test_the_alert_of_the_bad_week_is_one_post(ui: Ui) -> None:
    [alert] = ui.alerts
    assert "absurd-2099 (1,000,000,000,000 t)" in alert and "the page keeps serving the week published on" in alert


def test_the_failed_check_shows_the_rejected_rows_with_the_order_id(ui: Ui, page: Page) -> None:
    page.goto(f"{ui.base_url}/assets/cdr_fyi_orders?view=checks&checkDetail=order_sizes_plausible")
    page.get_by_text("absurd-2099").first.wait_for(timeout=UI_TIMEOUT_MS)
    _show_markdown(page, "rejected_rows")
    table = page.get_by_role("table").filter(has_text="absurd-2099").last
    table.wait_for(timeout=UI_TIMEOUT_MS)
    text = table.inner_text()
    assert "absurd-2099" in text and "1,000,000,000,000" in text and "2099-01-01" in text
    _shoot(page, "failed_check")
    body = page.inner_text("body")
    assert "1,000,000,000,000 t" in body
    assert not SCIENTIFIC.findall(body), SCIENTIFIC.findall(body)


def test_the_publication_shows_what_is_live(ui: Ui, page: Page) -> None:
    page.goto(f"{ui.base_url}/assets/dashboard_publication?view=events")
    # the newest event: the failed week's note that nothing was published
    page.get_by_text("nothing published: the page keeps serving the week published on").first.wait_for(timeout=UI_TIMEOUT_MS)
    _skip_invitation(page)
    _shoot(page, "publication_nothing_published")
    # the event before it: the good week's publication
    page.get_by_text(re.compile(r"^\w{3} \d{1,2}, \d{1,2}:\d{2} [AP]M$")).nth(1).click()
    page.get_by_text("whats_live").first.wait_for(timeout=UI_TIMEOUT_MS)
    _show_markdown(page, "whats_live")
    live = page.get_by_role("table").filter(has_text="sha256").last
    live.wait_for(timeout=UI_TIMEOUT_MS)
    text = live.inner_text()
    for dataset in ("orders_for_viz", "latest_deals", "carbon_pricing"):
        assert dataset in text
    assert "processed/orders_for_viz_" in text
    _shoot(page, "publication")
    body = page.inner_text("body")
    assert "Archived manifest" in body and "processed/manifests/" in body
    assert not SCIENTIFIC.findall(body), SCIENTIFIC.findall(body)


@pytest.mark.parametrize("asset", DROPPED_FILES)
def test_a_dropped_file_shows_its_freshness(ui: Ui, page: Page, asset: str) -> None:
    """Both files were dropped in this week, so their policy (a year, or a year and a month) passes."""
    assert _freshness(ui.base_url)[asset] == "HEALTHY"
    page.goto(f"{ui.base_url}/assets/{asset}")
    page.get_by_text("Fails if more than a year").first.wait_for(timeout=UI_TIMEOUT_MS)
    _skip_invitation(page)
    body = page.inner_text("body")
    assert re.search(r"Freshness policy\s+Passing", body), body
    assert "Not evaluated" not in body
    _shoot(page, f"freshness_{asset}")


def test_a_check_that_did_not_run_is_named_as_not_run(ui: Ui, page: Page) -> None:
    """What Dagster shows for a check whose asset was never built (a gate upstream failed): it
    resolves a planned check of a failed run to "Execution failed", and the code cannot change
    that; the publication's note for the failed week names it among the checks that did not run."""
    page.goto(f"{ui.base_url}/assets/orders_for_viz?view=checks&checkDetail=contract_columns")
    result = page.get_by_text("Execution failed").first
    result.wait_for(timeout=UI_TIMEOUT_MS)
    _skip_invitation(page)
    _shoot(page, "check_not_run")
    page.goto(f"{ui.base_url}/assets/dashboard_publication?view=events")
    listed = page.locator("tr", has_text="checks_not_run").first  # short markdown: shown in the row
    listed.wait_for(timeout=UI_TIMEOUT_MS)
    _skip_invitation(page)
    text = listed.inner_text()
    assert "14 checks not run (a check upstream failed, so their assets were not built" in text
    assert "orders_for_viz:contract_columns" in text and "cdr_fyi_orders:" not in text
    _shoot(page, "checks_not_run")
