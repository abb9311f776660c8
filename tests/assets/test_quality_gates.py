"""Write, audit, publish: no bad input changes what the page serves.

Each scenario runs the real weekly_refresh job against the localhost fake of cdr.fyi, a localhost
copy of cdr.fyi's front page and a dropped CCN file, after a good week has been published. A bad
input must fail the run and leave every published file and the manifest byte-for-byte as they
were; a good run afterwards publishes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from cdr_dagster.assets.datasets import checks
from cdr_dagster.assets.sources import cdr_fyi as raw_checks
from cdr_dagster.cdr_fyi.sample import sample_tables
from cdr_dagster.definitions import build_definitions
from cdr_dagster.domain.layout import utc_date_stamp
from cdr_dagster.resources.s3_storage import S3Storage
from cdr_dagster.resources.storage import LocalStorage, Storage
from cdr_dagster.sample_data import CARBON_PRICING_FILE, CCN_COMPANIES_FILE, sample_bytes
from devtools.fake_cdr_fyi import FakeCdrFyi
from devtools.static_site import StaticSite, serving

TOKEN = "tok-gates-5a1c"
BUCKET = "cdr-dashboard-gates"
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "cdr_fyi_pages"
CURRENT_PAGE = (PAGES / "current.html").read_bytes()  # $1,234,567,890


def in_process_weekly_refresh() -> dg.JobDefinition:
    """weekly_refresh with the in-process executor, so a failed run can be re-executed here.

    Only one test re-executes through ``dg.reconstructable``: Dagster caches a reconstructed job
    for the life of the process, with the settings it was built with."""
    return build_definitions("local").resolve_job_def("weekly_refresh")


@dataclass
class World:
    api: FakeCdrFyi
    site: StaticSite
    storage: Storage
    instance: dg.DagsterInstance

    def run(self) -> dg.ExecuteInProcessResult:
        # built anew each time: the job reads this test's settings (fake API port, data folder)
        return in_process_weekly_refresh().execute_in_process(instance=self.instance, raise_on_error=False)

    def published(self) -> dict[str, bytes]:
        """Every key the page can be served, with its bytes."""
        return {k: self.storage.read_bytes(k) for k in self.storage.list_keys("processed/")}


@pytest.fixture()
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    tables = copy.deepcopy(sample_tables())
    with (
        FakeCdrFyi(tables, TOKEN) as api,
        serving({"/": (200, CURRENT_PAGE)}) as site,
        dg.DagsterInstance.ephemeral() as instance,
    ):
        monkeypatch.setenv("CDR_FYI_API_TOKEN", TOKEN)
        monkeypatch.setenv("CDR_FYI_API_URL", api.base_url)
        monkeypatch.setenv("CDR_FYI_SITE_URL", site.url("/"))
        monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path / "data"))
        storage = LocalStorage(base_dir=str(tmp_path / "data"))
        storage.write_bytes("raw/ccn_companies.csv", sample_bytes(CCN_COMPANIES_FILE))
        yield World(api, site, storage, instance)


def failed_checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        f"{e.asset_check_key.asset_key.to_user_string()}:{e.asset_check_key.name}": e
        for e in (ev.asset_check_evaluation_data for ev in result.all_events if ev.event_type_value == "ASSET_CHECK_EVALUATION")
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    }


def publish_a_good_week(world: World) -> dict[str, bytes]:
    result = world.run()
    assert result.success
    published = world.published()
    assert f"processed/orders_for_viz_{utc_date_stamp()}.csv" in published
    return published


def test_a_shrunken_orders_table_publishes_nothing(world: World) -> None:
    before = publish_a_good_week(world)
    orders = world.api.tables["orders"]
    # cdr.fyi returns a tenth of the orders: 3001 records // 10 = 300, of which the sample's
    # page-boundary duplicate (records 100 and 101) is one, so 299 distinct orders
    world.api.tables["orders"] = orders[: len(orders) // 10]

    result = world.run()
    assert not result.success
    failed = failed_checks(result)
    assert list(failed) == [f"cdr_fyi_orders:{raw_checks.SHRINK_CHECK}"]
    assert failed[f"cdr_fyi_orders:{raw_checks.SHRINK_CHECK}"].metadata["published_rows"].value == 3000
    assert (
        "shrank from 3,000 published rows to 299 (more than 20% fewer; at least 2,400 expected)"
        in failed[f"cdr_fyi_orders:{raw_checks.SHRINK_CHECK}"].description
    )
    assert world.published() == before

    world.api.tables["orders"] = orders  # cdr.fyi recovers: the next run publishes again
    assert world.run().success


def test_an_order_without_id_publishes_nothing(world: World) -> None:
    before = publish_a_good_week(world)
    world.api.tables["orders"][5]["order_id"] = None
    result = world.run()
    assert not result.success
    failed = failed_checks(result)
    assert list(failed) == [f"cdr_fyi_orders:{raw_checks.IDS_CHECK}"]
    # the sixth record is CSV line 7 (line 1 is the header)
    assert failed[f"cdr_fyi_orders:{raw_checks.IDS_CHECK}"].metadata["rows_without_id (CSV lines)"].value == ["7"]
    assert world.published() == before


def test_a_decreasing_cumulative_series_publishes_nothing(world: World) -> None:
    before = publish_a_good_week(world)
    refund = dict(
        world.api.tables["orders"][0],
        order_id="refund-0001",
        announcement_date="2026-11-23",
        type_of_agreement="Credit Sale",
        method="Biochar Carbon Removal",
        price_usd=-5e10,
        tons_purchased=1.0,
        tons_delivered=0.0,
    )
    world.api.tables["orders"].append(refund)
    result = world.run()
    assert not result.success
    failed = failed_checks(result)
    assert list(failed) == [f"orders_for_viz:{checks.CUMULATIVE_CHECK}"]
    drops = failed[f"orders_for_viz:{checks.CUMULATIVE_CHECK}"].metadata["drops"].value
    assert [(d["column"], d["date"]) for d in drops] == [("price_usd_cum", "2026-11-23")]
    assert world.published() == before


def test_a_scraped_value_ten_times_off_publishes_nothing(world: World) -> None:
    before = publish_a_good_week(world)
    world.site.pages["/"] = (200, CURRENT_PAGE.replace(b"$1,234,567,890", b"$12,345,678,900"))
    result = world.run()
    assert not result.success
    failed = failed_checks(result)
    assert list(failed) == [f"dollars_spent:{checks.DOLLARS_CHECK}"]
    # 12,345,678,900 is 10x the published 1,234,567,890; the band is 617,283,945 .. 1,851,851,835
    assert (
        "outside ±50% of the published 1,234,567,890 USD (617,283,945 to 1,851,851,835 USD)"
        in failed[f"dollars_spent:{checks.DOLLARS_CHECK}"].description
    )
    assert world.published() == before


def test_a_failed_scrape_is_resumed_from_the_failed_step_without_pulling_again(world: World) -> None:
    before = publish_a_good_week(world)
    world.site.pages["/"] = (200, (PAGES / "redesigned.html").read_bytes())
    result = dg.execute_job(dg.reconstructable(in_process_weekly_refresh), instance=world.instance)
    assert not result.success
    assert [e.step_key for e in result.get_step_failure_events()] == ["dollars_spent"]
    assert world.published() == before

    # the scraper is fixed (here: the page is back); re-executing from the failure scrapes again
    # and publishes, without pulling cdr.fyi a second time
    world.site.pages["/"] = (200, CURRENT_PAGE)
    requests_before = len(world.api.requests)
    retry = dg.execute_job(
        dg.reconstructable(in_process_weekly_refresh),
        instance=world.instance,
        reexecution_options=dg.ReexecutionOptions.from_failure(result.run_id, world.instance),
    )
    assert retry.success
    assert len(world.api.requests) == requests_before
    executed = {e.step_key for e in retry.all_events if e.event_type_value == "STEP_START"}
    assert "cdr_fyi_orders" not in executed and {"dollars_spent", "dashboard_publication"} <= executed
    manifest = json.loads(world.storage.read_bytes("processed/manifest.json"))
    assert manifest["generated_at"] != json.loads(before["processed/manifest.json"])["generated_at"]


def test_a_broken_ccn_file_publishes_nothing_and_names_the_lines(world: World) -> None:
    before = publish_a_good_week(world)
    world.storage.write_bytes(
        "raw/ccn_companies.csv",
        b"company_name,year_founded,pathway\nAlpha,2019,DAC\n,2020,Biochar\nBeta,20x5,BECCS\nalpha ,2021,DAC\n",
    )
    result = world.run()
    assert not result.success
    [failure] = [e for e in result.get_step_failure_events() if e.step_key == "ccn_companies"]
    message = failure.step_failure_data.error.message
    assert "line 3: " in message and "line 4: " in message and "lines 2, 5: " in message
    assert world.published() == before


def test_a_new_week_publishes_and_says_what_changed(world: World) -> None:
    publish_a_good_week(world)
    new_supplier = dict(world.api.tables["suppliers"][0], supplier_id="new-supplier-01", name="Brand New Rocks")
    world.api.tables["suppliers"].append(new_supplier)
    new_order = dict(
        world.api.tables["orders"][0],
        order_id="new-order-0001",
        supplier_id="new-supplier-01",
        announcement_date="2026-11-24",
        type_of_agreement="Credit Sale",
        tons_purchased=1234.0,
        price_usd=None,
    )
    world.api.tables["orders"].append(new_order)
    result = world.run()
    assert result.success
    [publication] = result.asset_materializations_for_node("dashboard_publication")
    changes = publication.metadata["changes"].value
    assert changes["new_orders"] == 1 and changes["new_orders_tons"] == 1234.0
    assert changes["tons_purchased_change"] == 1234.0
    assert changes["largest_new_orders"][0]["order_id"] == "new-order-0001"
    assert changes["dollars_spent_change"] == 0.0
    live = publication.metadata["whats_live"].value
    assert "new orders: 1 (1,234 t)" in live
    # the new suppliers are suppliers; the largest new orders come under their own heading
    assert "- new suppliers (1): Brand New Rocks\n" in live
    assert "- largest new orders (1):\n  - 1,234 t " in live and ": Brand New Rocks -> " in live
    # what is live: one row per published file, and the archived manifest this publication wrote
    archived = str(publication.metadata["archived_manifest"].value)
    assert "/processed/manifests/" in archived and f"Archived manifest: `{archived}`" in live
    assert f"manifest of this publication: {archived}" in live
    for dataset, entry in json.loads(world.storage.read_bytes("processed/manifest.json"))["datasets"].items():
        assert f"| {dataset} | `{entry['key']}` | {entry['rows']:,} | " in live and f"| `{entry['sha256'][:12]}` |" in live
    assert "e+0" not in live


def test_gates_hold_on_s3_too(s3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s3.create_bucket(BUCKET)
    storage = S3Storage(s3=S3Resource(region_name="ca-central-1"), bucket=BUCKET)
    storage.write_bytes("raw/ccn_companies.csv", sample_bytes(CCN_COMPANIES_FILE))
    storage.write_bytes("raw/world_bank_carbon_pricing.csv", sample_bytes(CARBON_PRICING_FILE))
    with (
        FakeCdrFyi(copy.deepcopy(sample_tables()), TOKEN) as api,
        serving({"/": (200, CURRENT_PAGE)}) as site,
        dg.DagsterInstance.ephemeral() as instance,
    ):
        for name, value in {
            "CDR_FYI_API_TOKEN": TOKEN,
            "CDR_FYI_API_URL": api.base_url,
            "CDR_FYI_SITE_URL": site.url("/"),
            "CDR_DASHBOARD_BUCKET": BUCKET,
        }.items():
            monkeypatch.setenv(name, value)
        job = build_definitions("test").resolve_job_def("weekly_refresh")
        assert job.execute_in_process(instance=instance).success
        before = {k: storage.read_bytes(k) for k in storage.list_keys("processed/")}
        assert len(before) == 9  # seven datasets, the manifest and its archived copy

        site.pages["/"] = (200, CURRENT_PAGE.replace(b"$1,234,567,890", b"$123,456,789"))  # 10x too low
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        assert list(failed_checks(result)) == [f"dollars_spent:{checks.DOLLARS_CHECK}"]
        assert {k: storage.read_bytes(k) for k in storage.list_keys("processed/")} == before
