"""The weekly schedule, freshness checks and Slack alerts, with real Dagster instances and a
localhost HTTP server standing in for Slack's webhook."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from cdr_dagster.assets.sources import ccn
from cdr_dagster.automation import freshness, jobs
from cdr_dagster.automation.alerts import (
    FailedCheck,
    failure_summary,
    page_state,
    retry_follows,
    weekly_refresh_failure_alert,
)
from cdr_dagster.automation.freshness import late_assets, staleness_alert, staleness_text
from cdr_dagster.definitions import build_definitions
from cdr_dagster.domain.datasets import DATASET_NAMES
from cdr_dagster.resources.input_files import CcnCompaniesFile
from cdr_dagster.resources.slack import SlackWebhook
from cdr_dagster.resources.storage import LocalStorage
from devtools.static_site import serving


def test_the_schedule_runs_weekly_refresh_every_monday_and_is_on_by_default() -> None:
    schedule = build_definitions("local").get_schedule_def("weekly_refresh_schedule")
    assert schedule.cron_schedule == "0 6 * * 1" and schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 30, 6, tzinfo=UTC))
    [request] = schedule.evaluate_tick(context).run_requests
    # the request names no other job, so the tick launches the schedule's own job
    assert request.job_name is None and schedule.job_name == "weekly_refresh"
    assert request.tags == {"dagster/schedule_name": "weekly_refresh_schedule", "trigger": "schedule", "deployment": "local"}
    # a run started otherwise (the UI, dev.py refresh) carries the job's own tags: a person started it
    assert {k: schedule_tags for k, schedule_tags in jobs.weekly_refresh.tags.items() if k in ("trigger", "deployment")} == {
        "trigger": "manual",
        "deployment": "local",
    }


def test_the_cron_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDR_WEEKLY_CRON", "30 4 * * 2")
    try:
        importlib.reload(jobs)  # the cron is read when the code location loads
        assert build_definitions("local").get_schedule_def("weekly_refresh_schedule").cron_schedule == "30 4 * * 2"
    finally:
        monkeypatch.delenv("CDR_WEEKLY_CRON")
        importlib.reload(jobs)


def test_sensors_for_staleness_and_alerts_are_on_by_default() -> None:
    defs = build_definitions("local")
    assert defs.get_sensor_def("staleness_alert").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.get_sensor_def("weekly_refresh_failure_alert").default_status == dg.DefaultSensorStatus.RUNNING


def test_every_asset_declares_its_freshness_policy() -> None:
    graph = build_definitions("local").resolve_asset_graph()
    windows = {
        node.key.to_user_string(): node.freshness_policy.fail_window.to_timedelta()
        for node in graph.asset_nodes
        if node.freshness_policy is not None
    }
    week = timedelta(days=7, hours=12)
    assert windows == {
        **{f"cdr_fyi_{t}": week for t in ("marketplaces", "orders", "purchasers", "suppliers")},
        **{d: week for d in DATASET_NAMES},
        "ccn_companies": week,
        "dashboard_publication": week,
        "ccn_companies_file": timedelta(days=365),
        "world_bank_carbon_pricing_file": timedelta(days=396),
    }


def test_late_assets_names_the_late_and_the_never_updated() -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    windows = {"a": timedelta(days=7), "b": timedelta(days=7), "c": timedelta(days=1)}
    updates = {"a": now - timedelta(days=6), "b": now - timedelta(days=9)}
    late = late_assets(windows, updates, now)
    assert [(x.asset, x.late_by) for x in late] == [("b", timedelta(days=2)), ("c", None)]
    text = staleness_text(late[0], "test")
    assert "*b* on *test* is 2 d 0 h late" in text and "last updated 2026-11-21 12:00 UTC" in text


def _staleness_repository() -> dg.RepositoryDefinition:
    policy = dg.FreshnessPolicy.time_window(fail_window=timedelta(days=7, hours=12))
    specs = [dg.AssetSpec("cdr_fyi_orders", freshness_policy=policy), dg.AssetSpec("latest_deals", freshness_policy=policy)]
    return dg.Definitions(assets=specs, sensors=[staleness_alert]).get_repository_def()


def test_a_stale_asset_gives_one_alert_a_day_naming_how_late_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    repository = _staleness_repository()
    with dg.DagsterInstance.ephemeral() as instance, serving({"/hook": (200, b"ok")}) as slack:
        start = datetime.now(UTC)
        for name in ("cdr_fyi_orders", "latest_deals", "dashboard_publication"):
            instance.report_runless_asset_event(dg.AssetMaterialization(name))
        cursor = None

        def evaluate() -> list[str]:
            nonlocal cursor
            before = len(slack.received)
            context = dg.build_sensor_context(
                instance=instance,
                repository_def=repository,
                cursor=cursor,
                resources={"slack": SlackWebhook(webhook_url=slack.url("/hook")), "deployment": "local"},
            )
            staleness_alert(context)
            cursor = context.cursor
            return [json.loads(body)["text"] for _, _, body in slack.received[before:]]

        # the window is 7 days and 12 hours: nothing at +7 d 11 h
        def at(delta: timedelta) -> None:
            monkeypatch.setattr(freshness, "utc_now", lambda: start + delta)

        at(timedelta(days=7, hours=11))
        assert evaluate() == []
        at(timedelta(days=7, hours=13, minutes=1))
        orders, deals = evaluate()  # one message per late asset, in name order
        assert "*cdr_fyi_orders*" in orders and "is 1 h late" in orders
        assert "*latest_deals*" in deals and "is 1 h late" in deals
        assert evaluate() == []  # once a day
        at(timedelta(days=8, hours=13, minutes=1))
        orders, deals = evaluate()  # the next day: once more each
        assert "*cdr_fyi_orders*" in orders and "1 d 1 h late" in orders


def test_a_publication_posts_what_changed_to_slack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving({"/hook": (200, b"ok")}) as slack:
        monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url("/hook"))
        job = build_definitions("local").resolve_job_def("weekly_refresh")
        assert job.execute_in_process(instance=dg.DagsterInstance.ephemeral()).success
        posts = [json.loads(body)["text"] for method, path, body in slack.received if (method, path) == ("POST", "/hook")]
    assert len(posts) == 1
    assert posts[0].startswith("*CDR dashboard (local)*: first publication, nothing to compare with.")
    # the bundled sample has 3000 distinct orders, less the contract's two excluded ids: all new
    assert "- new orders: 2,998 (" in posts[0]
    assert "\n- manifest of this publication: " in posts[0] and "/processed/manifests/" in posts[0]


def test_a_failed_run_is_posted_to_slack_naming_the_failed_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw/ccn_companies.csv").write_text("company_name,year_founded,pathway\nAlpha,1800,DAC\n")
    job = build_definitions("local").resolve_job_def("weekly_refresh")
    with dg.DagsterInstance.ephemeral() as instance, serving({"/hook": (200, b"ok")}) as slack:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        [failure] = [e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE"]
        context = dg.build_run_status_sensor_context(
            sensor_name="weekly_refresh_failure_alert",
            dagster_event=failure,
            dagster_instance=instance,
            dagster_run=run,
        ).for_run_failure()
        weekly_refresh_failure_alert(
            context,
            slack=SlackWebhook(webhook_url=slack.url("/hook")),
            storage=LocalStorage(base_dir=str(tmp_path)),
            deployment="local",
        )
        [(method, path, body)] = slack.received
    text = json.loads(body)["text"]
    assert (method, path) == ("POST", "/hook")
    assert "*weekly_refresh* failed on *local*" in text
    # a bad file will fail again: no run-level retry is announced (nor made: see the job's tags)
    assert "no automatic retry: fix the cause, then re-execute from the failed steps" in text
    assert "Nothing was published: the page has no data yet" in text
    assert "`ccn_companies`:" in text and "line 2: year_founded 1800" in text


def test_without_a_webhook_the_alert_is_logged_not_lost() -> None:
    logged: list[str] = []
    assert SlackWebhook(webhook_url="").post("weekly_refresh failed", log=logged.append) is False
    assert logged == ["SLACK_WEBHOOK_URL not set; message not sent to Slack:\nweekly_refresh failed"]


def test_a_slack_error_never_shows_the_webhook_url() -> None:
    with serving({}) as slack:  # every path answers 404
        url = slack.url("/services/T000/B000/secret-part")
        logged: list[str] = []
        assert SlackWebhook(webhook_url=url).post("hello", log=logged.append) is False
    assert logged == ["Slack answered HTTP 404; message was:\nhello"]
    assert "secret-part" not in logged[0]


def test_an_alert_lists_every_problem_or_says_how_many_more() -> None:
    error = "CCN companies file rejected, nothing published: 23 problem(s):\n" + "\n".join(
        f"  line {n}: company_name is blank" for n in range(2, 25)
    )
    text = failure_summary("0123456789", "weekly_refresh", 0, "run failed", {"ccn_companies": error}, "test")
    lines = text.splitlines()
    assert lines[1] == "- `ccn_companies`: CCN companies file rejected, nothing published: 23 problem(s):"
    assert lines[2:12] == [f"    line {n}: company_name is blank" for n in range(2, 12)]  # the first 10
    assert lines[12] == "    +13 more" and len(lines) == 15
    assert lines[13].startswith("Full lists: run 01234567 in the Dagster UI") and "python3 dev.py rerun" in lines[14]
    assert text.count("rejected, nothing published") == 1


def test_only_a_failure_outside_the_steps_is_retried_at_run_level() -> None:
    assert retry_follows(0, {}) and retry_follows(1, {}) and not retry_follows(2, {})
    assert not retry_follows(0, {"cdr_fyi_orders": "cdr.fyi refused the token"})
    text = failure_summary("0123456789", "weekly_refresh", 0, "worker lost", {}, "prod")
    assert "run-level retry 1 of 2 will follow" in text and "- worker lost" in text
    tags = build_definitions("local").resolve_job_def("weekly_refresh").tags
    assert tags["dagster/retry_on_asset_or_op_failure"] == "false" and tags["dagster/max_retries"] == "2"


def test_slack_markup_from_the_data_is_shown_literally_in_slack_and_plainly_in_the_terminal() -> None:
    text = failure_summary("0123456789", "weekly_refresh", 0, "", {"ccn_companies": "bad name <!channel> & <http://x|y>"}, "test")
    assert "bad name <!channel> & <http://x|y>" in text  # plain text: the log and the terminal
    with serving({"/hook": (200, b"ok")}) as slack:
        assert SlackWebhook(webhook_url=slack.url("/hook")).post(text, log=print)
        [(_, _, body)] = slack.received
    posted = json.loads(body)["text"]
    assert "<!channel>" not in posted and "&lt;!channel&gt; &amp; &lt;http://x|y&gt;" in posted


def test_before_the_first_publication_the_staleness_sensor_says_once_that_no_data_is_published() -> None:
    repository = _staleness_repository()  # two assets, both never updated
    with dg.DagsterInstance.ephemeral() as instance, serving({"/hook": (200, b"ok")}) as slack:
        cursor = None
        for _ in range(3):
            context = dg.build_sensor_context(
                instance=instance,
                repository_def=repository,
                cursor=cursor,
                resources={"slack": SlackWebhook(webhook_url=slack.url("/hook")), "deployment": "local"},
            )
            skip = staleness_alert(context)
            cursor = context.cursor
            assert "no data published yet" in (skip.skip_message or "")
        texts = [json.loads(body)["text"] for _, _, body in slack.received]
    assert len(texts) == 1 and "*local*: no data published yet." in texts[0]
    assert "never been updated" not in texts[0]


def test_a_failed_check_alert_says_no_retry_and_what_the_page_serves_only_when_true() -> None:
    check = FailedCheck("cdr_fyi_orders", "order_sizes_plausible", "No absurd order.", "absurd-2099 (1,000,000,000,000 t)")
    started = datetime(2026, 12, 7, 6, tzinfo=UTC).timestamp()
    unchanged, page = page_state({"generated_at": "2026-11-30T06:10:00Z"}, started)
    assert unchanged and page == "Nothing was published: the page keeps serving the week published on 2026-11-30."
    switched, during = page_state({"generated_at": "2026-12-07T06:20:00Z"}, started)
    assert not switched and "Nothing was published" not in during and "the page serves this run's week" in during
    text = failure_summary("0123456789", "weekly_refresh", 0, "", {}, "test", [check], page)
    assert "no automatic retry" in text and "`cdr_fyi_orders` check `order_sizes_plausible`: No absurd order." in text
    # thousands of problems: the alert stays bounded, keeping where the full list is and the next command
    many = [FailedCheck("t", f"c{n}", "rule", "x" * 200) for n in range(1000)]
    long = failure_summary("0123456789", "weekly_refresh", 0, "", {}, "test", many, page)
    assert len(long) <= 3500 and "more lines in the run)" in long and long.endswith("in the UI).")


def test_a_dropped_file_is_recorded_once_per_version_for_its_freshness_policy(tmp_path: Path) -> None:
    """Dagster's freshness policies judge materializations, not observations: the first
    observation of each new version of a dropped file records it as the file asset's
    materialization, which the daemon's freshness evaluation (the UI) and the staleness alert read."""
    key = dg.AssetKey("ccn_companies_file")
    storage = LocalStorage(base_dir=str(tmp_path))
    job = dg.Definitions(
        assets=[ccn.ccn_companies_file],
        jobs=[dg.define_asset_job("observe", selection=dg.AssetSelection.all(include_sources=True))],
        resources={"ccn_input": CcnCompaniesFile(storage=storage)},
    ).resolve_job_def("observe")
    with dg.DagsterInstance.ephemeral() as instance:

        def observe() -> list[dg.EventLogRecord]:
            assert job.execute_in_process(instance=instance).success
            return list(instance.fetch_materializations(key, limit=10).records)

        assert observe() == []  # no file dropped: nothing to judge ("never updated")
        storage.write_bytes("raw/ccn_companies.csv", b"company_name,year_founded,pathway\nAlpha,2019,DAC\n")
        [first] = observe()
        assert observe() == [first]  # the same file seen again: no new version
        storage.write_bytes("raw/ccn_companies.csv", b"company_name,year_founded,pathway\nBeta,2020,DAC\n")
        second, again = observe()  # newest first
        assert again == first and second.timestamp > first.timestamp
        recorded = second.asset_materialization
        assert recorded is not None and recorded.metadata["location"].value == str(tmp_path / "raw/ccn_companies.csv")
        assert freshness._last_update(instance, key) == datetime.fromtimestamp(second.timestamp, UTC)
        assert len(instance.fetch_observations(key, limit=10).records) == 4  # every run observes it
