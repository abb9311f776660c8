"""A week only moves forward, and nothing a killed publication leaves blocks the next one (#18),
on a data folder and on moto's S3 server over HTTP.

Real weekly_refresh runs against the localhost fake of cdr.fyi and a localhost front page.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from cdr_dagster.cdr_fyi.sample import sample_tables
from cdr_dagster.definitions import build_definitions
from cdr_dagster.domain import layout
from cdr_dagster.domain.manifest import publication_stamp
from cdr_dagster.resources.s3_storage import S3Storage
from cdr_dagster.resources.storage import LocalStorage, Storage
from cdr_dagster.sample_data import CARBON_PRICING_FILE, CCN_COMPANIES_FILE, sample_bytes
from deployment import rollback_data
from devtools.fake_cdr_fyi import FakeCdrFyi
from devtools.static_site import serving
from tests.assets.test_quality_gates import CURRENT_PAGE, PAGES, TOKEN

pytestmark = pytest.mark.e2e
BUCKET = "cdr-dashboard-forward"
REDESIGNED = (PAGES / "redesigned.html").read_bytes()  # the scrape fails on it


def local_job() -> dg.JobDefinition:
    return build_definitions("local").resolve_job_def("weekly_refresh")


def test_job() -> dg.JobDefinition:
    return build_definitions("test").resolve_job_def("weekly_refresh")


test_job.__test__ = False  # type: ignore[attr-defined]  # a job builder, not a test


class Week:
    """One deployment's storage, the fake cdr.fyi and front page, and an instance."""

    def __init__(self, storage: Storage, job, site, instance: dg.DagsterInstance) -> None:
        self.storage, self.job, self.site, self.instance = storage, job, site, instance

    def run(
        self, page: bytes = CURRENT_PAGE, parent: str | None = None, reexecutable: bool = False
    ) -> dg.ExecuteInProcessResult | dg.ExecutionResult:
        self.site.pages["/"] = (200, page)
        if parent is None and not reexecutable:  # built anew: it reads this test's settings
            return self.job().execute_in_process(instance=self.instance, raise_on_error=False)
        # a re-execution needs a reconstructable job (Dagster caches it per function and process)
        options = dg.ReexecutionOptions.from_failure(parent, self.instance) if parent else None
        return dg.execute_job(dg.reconstructable(self.job), instance=self.instance, reexecution_options=options)

    def manifest(self) -> dict:
        return json.loads(self.storage.read_bytes(layout.MANIFEST_KEY))

    def published(self) -> dict[str, bytes]:
        return {k: self.storage.read_bytes(k) for k in self.storage.list_keys("processed/")}


def refusal(result: dg.ExecuteInProcessResult | dg.ExecutionResult) -> str:
    [failure] = [e for e in result.get_step_failure_events() if e.step_key == "dashboard_publication"]
    return failure.step_failure_data.user_failure_data.description


@pytest.fixture(params=["local", "s3"])
def week(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Week]:
    with (
        # cdr.fyi's limits over 3 s, not a minute: these tests pull many weeks back to back, and a
        # full minute's quota would make most of them wait out a 429 (the pull's own tests cover it)
        FakeCdrFyi(copy.deepcopy(sample_tables()), TOKEN, window_scale=0.05) as api,
        serving({"/": (200, CURRENT_PAGE)}) as site,
        dg.DagsterInstance.ephemeral() as instance,
    ):
        monkeypatch.setenv("CDR_FYI_API_TOKEN", TOKEN)
        monkeypatch.setenv("CDR_FYI_API_URL", api.base_url)
        monkeypatch.setenv("CDR_FYI_SITE_URL", site.url("/"))
        storage: Storage
        if request.param == "local":
            monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path / "data"))
            storage, job = LocalStorage(base_dir=str(tmp_path / "data")), local_job
        else:
            s3 = request.getfixturevalue("s3")
            s3.create_bucket(BUCKET)
            monkeypatch.setenv("CDR_DASHBOARD_BUCKET", BUCKET)
            monkeypatch.setenv("DAGSTER_DEPLOYMENT", "test")
            storage, job = S3Storage(s3=S3Resource(region_name="ca-central-1"), bucket=BUCKET), test_job
            storage.write_bytes(layout.CARBON_PRICING_INPUT_KEY, sample_bytes(CARBON_PRICING_FILE))
        storage.write_bytes(layout.CCN_INPUT_KEY, sample_bytes(CCN_COMPANIES_FILE))
        yield Week(storage, job, site, instance)


def test_a_stale_re_execution_leaves_the_newer_week_live(week: Week) -> None:
    assert week.run().success  # a first week

    run_a = week.run(page=REDESIGNED, reexecutable=True)  # A pulls, then its scrape fails: nothing published
    assert [e.step_key for e in run_a.get_step_failure_events()] == ["dollars_spent"]
    run_b = week.run()  # B pulls later and publishes
    assert run_b.success
    live_b = week.published()
    stamp_b = publication_stamp(week.manifest())

    stale = week.run(parent=run_a.run_id)  # A re-executed from its failure, scrape fixed
    assert not stale.success
    sentence = refusal(stale)
    assert sentence.startswith("dashboard_publication refused: this run's data (pulled from ")
    assert f"by run {run_a.run_id}) is older than the live week's (pulled from " in sentence
    assert f"by run {run_b.run_id}, published {stamp_b}); nothing was published" in sentence
    assert week.published() == live_b

    # two runs overlapping the other way: C and D check against B's week, C publishes first;
    # D (pulled later) then refuses, as its checks compared it with B's week, not C's
    run_c = week.run(page=REDESIGNED, reexecutable=True)
    run_d = week.run(page=REDESIGNED, reexecutable=True)
    assert week.run(parent=run_c.run_id).success
    live_c = week.published()
    late = week.run(parent=run_d.run_id)
    assert not late.success
    assert "but " in refusal(late) and "is live now; nothing was published (start a fresh refresh" in refusal(late)
    assert week.published() == live_c
    assert week.run().success  # a fresh refresh publishes


def test_what_a_killed_publication_leaves_blocks_nothing_and_is_removed(week: Week) -> None:
    assert week.run().success
    first = week.manifest()
    publication = publication_stamp(first)
    assert publication is not None

    # killed after the switch, before the archive: the live manifest has no archive yet
    week.storage.delete(layout.manifest_archive_key(publication))
    # killed before the switch: the baseline record, the keys it lists, some of them written
    left = "20000101T000000Z"
    dataset_key = "processed/orders_for_viz_20000101.csv"
    record = {"inputs": {"cdr_fyi_orders": {"key": layout.baseline_input_key(left, "cdr_fyi_orders")}}}
    record["datasets"] = {"orders_for_viz": dataset_key}
    week.storage.write_bytes(layout.baseline_record_key(left), json.dumps(record).encode(), content_type="application/json")
    week.storage.write_bytes(dataset_key, b"half,a\n")
    week.storage.write_bytes(layout.baseline_input_key(left, "cdr_fyi_orders"), b"order_id\n")

    second = week.run()  # at once: nothing blocks
    assert second.success
    assert week.manifest()["generated_at"] != first["generated_at"]
    # the killed publication's live manifest was archived; its leftovers are still there while
    # they may be a publication in progress elsewhere (written just now)
    assert json.loads(week.storage.read_bytes(layout.manifest_archive_key(publication))) == first
    if isinstance(week.storage, LocalStorage):  # 16 minutes later (local files can be aged)
        for key in (layout.baseline_record_key(left), dataset_key, layout.baseline_input_key(left, "cdr_fyi_orders")):
            path = Path(week.storage.base_dir) / key
            os.utime(path, (path.stat().st_mtime - 16 * 60,) * 2)
        assert week.run().success
        assert not week.storage.exists(dataset_key)
        assert week.storage.list_keys(f"raw/published/{left}") == []


@pytest.mark.parametrize("week", ["s3"], indirect=True)
def test_a_rollback_then_a_correct_week_publishes(week: Week, s3) -> None:
    assert week.run().success
    assert week.run().success  # say this week was bad yet passed its gates
    bad = week.manifest()
    client = s3.client()
    plan = rollback_data.plan_rollback(client, BUCKET, None, "test")
    rollback_data.apply(client, plan)
    assert week.manifest() != bad

    result = week.run()  # the next correct week, judged against the restored one
    assert result.success
    assert week.manifest()["generated_at"] > bad["generated_at"]
