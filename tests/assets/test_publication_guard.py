"""Publication publishes exactly what its own run's checks passed.

Real weekly_refresh runs against the localhost fake of cdr.fyi and a localhost front page, on a
data folder, after a good week has been published (the `world` of test_quality_gates).
"""

from __future__ import annotations

import json

import dagster as dg
import pytest

from cdr_dagster.assets.datasets import checks
from cdr_dagster.definitions import build_definitions
from tests.assets import test_quality_gates as gates
from tests.assets.test_quality_gates import CURRENT_PAGE, World, failed_checks, publish_a_good_week

pytestmark = pytest.mark.e2e
world = gates.world  # the fixture: a data folder, the fake cdr.fyi and front page, an instance

EIGHT_TIMES = CURRENT_PAGE.replace(b"$1,234,567,890", b"$9,876,543,120")  # 8x the published value
PUBLICATION = dg.AssetKey("dashboard_publication")


def reexecutable_weekly_refresh() -> dg.JobDefinition:
    """weekly_refresh with the in-process executor, for the one test here that re-executes a run
    (Dagster caches a reconstructed job per function for the life of the process)."""
    return build_definitions("local").resolve_job_def("weekly_refresh")


def failure_sentence(result: dg.ExecuteInProcessResult | dg.ExecutionResult, step: str) -> str:
    [failure] = [e for e in result.get_step_failure_events() if e.step_key == step]
    return failure.step_failure_data.user_failure_data.description


def published_dollars(world: World) -> bytes:
    manifest = json.loads(world.storage.read_bytes("processed/manifest.json"))
    return world.storage.read_bytes(manifest["datasets"]["dollars_spent"]["key"])


def test_a_rejected_week_stays_rejected_and_never_becomes_the_baseline(world: World) -> None:
    before = publish_a_good_week(world)

    # a week whose dollars figure is 8x too high fails its gate and publishes nothing
    world.site.pages["/"] = (200, EIGHT_TIMES)
    bad = world.run()
    assert not bad.success
    assert list(failed_checks(bad)) == [f"dollars_spent:{checks.DOLLARS_CHECK}"]
    assert world.published() == before

    # one click on dashboard_publication alone (no upstream in its run) refuses, writes nothing
    job = build_definitions("local").resolve_job_def("weekly_refresh")
    alone = job.execute_in_process(instance=world.instance, asset_selection=[PUBLICATION], raise_on_error=False)
    assert not alone.success
    assert failure_sentence(alone, "dashboard_publication") == (
        "dashboard_publication publishes only files built and checked in its own run, and this run built none of "
        "them: nothing was published (run weekly_refresh, or materialize the datasets with it)."
    )
    assert "STEP_UP_FOR_RETRY" not in [e.event_type_value for e in alone.all_events]
    assert world.published() == before

    # the baseline is still the good week: a correct figure a little above it passes and publishes
    world.site.pages["/"] = (200, CURRENT_PAGE.replace(b"$1,234,567,890", b"$1,300,000,000"))
    assert world.run().success
    assert published_dollars(world) == b"metric,value\ndollars_spent,1300000000.0\n"


def test_two_runs_at_once_never_publish_each_others_files(world: World) -> None:
    before = publish_a_good_week(world)

    # run B builds and checks a good week, but its front-page scrape fails: nothing published yet
    world.site.pages["/"] = (200, (gates.PAGES / "redesigned.html").read_bytes())
    run_b = dg.execute_job(dg.reconstructable(reexecutable_weekly_refresh), instance=world.instance)
    assert [e.step_key for e in run_b.get_step_failure_events()] == ["dollars_spent"]
    [b_orders] = [
        m for m in run_b.asset_materializations_for_node("orders_for_viz") if m.asset_key == dg.AssetKey("orders_for_viz")
    ]

    # meanwhile run A stages an 8x dollars figure; its gate fails and it publishes nothing
    world.site.pages["/"] = (200, EIGHT_TIMES)
    run_a = world.run()
    assert list(failed_checks(run_a)) == [f"dollars_spent:{checks.DOLLARS_CHECK}"]
    assert world.published() == before

    # someone edits B's staged file; B's scrape is fixed and B re-executed: B refuses its file
    staged_key = b_orders.metadata["key"].value
    assert staged_key.startswith(f"staging/{run_b.run_id}/orders_for_viz_")
    good_bytes = world.storage.read_bytes(staged_key)
    world.storage.write_bytes(staged_key, good_bytes.replace(b"\n", b"\n\n", 1))
    world.site.pages["/"] = (200, CURRENT_PAGE.replace(b"$1,234,567,890", b"$1,250,000,000"))
    tampered = dg.execute_job(
        dg.reconstructable(reexecutable_weekly_refresh),
        instance=world.instance,
        reexecution_options=dg.ReexecutionOptions.from_failure(run_b.run_id, world.instance),
    )
    assert not tampered.success
    sentence = failure_sentence(tampered, "dashboard_publication")
    assert sentence.startswith(
        f"dashboard_publication refused: {world.storage.location(staged_key)} changed since run {run_b.run_id}"
    )
    assert sentence.endswith("; nothing was published.")
    assert world.published() == before

    # the file restored, B's publication re-executed: B publishes B's checked figure, not A's
    # newer staged one (A's was written after B's)
    world.storage.write_bytes(staged_key, good_bytes)
    retry = dg.execute_job(
        dg.reconstructable(reexecutable_weekly_refresh),
        instance=world.instance,
        reexecution_options=dg.ReexecutionOptions.from_failure(tampered.run_id, world.instance),
    )
    assert retry.success
    assert published_dollars(world) == b"metric,value\ndollars_spent,1250000000.0\n"
    [publication] = retry.asset_materializations_for_node("dashboard_publication")
    manifest = json.loads(world.storage.read_bytes("processed/manifest.json"))
    assert publication.metadata["published"].value == {d: e["key"] for d, e in manifest["datasets"].items()}
    assert world.storage.read_bytes(manifest["datasets"]["orders_for_viz"]["key"]) == good_bytes


def test_a_run_whose_checks_were_left_out_publishes_nothing(world: World) -> None:
    before = publish_a_good_week(world)
    job = build_definitions("local").resolve_job_def("weekly_refresh")
    # every asset, but no check (the UI can launch that): nothing vouches for the files
    everything = set(job.asset_layer.executable_asset_keys)
    result = job.get_subset(asset_selection=everything, asset_check_selection=set()).execute_in_process(
        instance=world.instance, raise_on_error=False
    )
    assert not result.success
    # in a code location every check it defines is required (named "not evaluated"); a job run
    # in process knows only its selected checks, and a dataset must have some
    assert failure_sentence(result, "dashboard_publication") == (
        "dashboard_publication refused: no blocking check is defined here for orders_for_viz, purchasers_for_viz, "
        "latest_deals, suppliers_for_viz, dollars_spent, ccn_data, carbon_pricing; nothing was published."
    )
    assert world.published() == before
