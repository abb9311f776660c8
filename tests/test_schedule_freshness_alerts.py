"""The weekly schedule, freshness checks and Slack alerts, with real Dagster instances and a
localhost HTTP server standing in for Slack's webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time  # Dagster's own clock, for evaluating later

from cdr_dagster.alerts import weekly_refresh_failure_alert
from cdr_dagster.definitions import ALL_ASSETS, build_definitions
from cdr_dagster.deployments import resources_for
from cdr_dagster.freshness import freshness_checks
from cdr_dagster.resources.slack import SlackWebhook
from tests.support.static_site import serving


def test_the_schedule_runs_weekly_refresh_every_monday_and_is_on_by_default() -> None:
    schedule = build_definitions("local").get_schedule_def("weekly_refresh_schedule")
    assert schedule.cron_schedule == "0 6 * * 1" and schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 30, 6, tzinfo=UTC))
    [request] = schedule.evaluate_tick(context).run_requests
    # the request names no other job, so the tick launches the schedule's own job
    assert request.job_name is None and schedule.job_name == "weekly_refresh"
    assert request.tags == {"dagster/schedule_name": "weekly_refresh_schedule"}


def test_the_cron_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDR_WEEKLY_CRON", "30 4 * * 2")
    assert build_definitions("local").get_schedule_def("weekly_refresh_schedule").cron_schedule == "30 4 * * 2"


def test_sensors_for_freshness_and_alerts_are_on_by_default() -> None:
    defs = build_definitions("local")
    assert defs.get_sensor_def("freshness_checks_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.get_sensor_def("weekly_refresh_failure_alert").default_status == dg.DefaultSensorStatus.RUNNING


def _freshness_job() -> dg.JobDefinition:
    keys = [
        dg.AssetCheckKey(dg.AssetKey("cdr_fyi_orders"), "freshness_check"),
        dg.AssetCheckKey(dg.AssetKey("ccn_companies_file"), "freshness_check"),
    ]
    defs = dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=freshness_checks,
        jobs=[dg.define_asset_job("freshness_only", selection=dg.AssetSelection.checks(*keys))],
        resources=resources_for("local"),
    )
    return defs.resolve_job_def("freshness_only")


def _freshness(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {
        e.asset_check_evaluation_data.asset_key.to_user_string(): e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_weekly_freshness_fails_after_a_week_and_a_grace_period_and_passes_when_new() -> None:
    job = _freshness_job()
    with dg.DagsterInstance.ephemeral() as instance:
        start = datetime.now(UTC)
        instance.report_runless_asset_event(dg.AssetMaterialization("cdr_fyi_orders"))
        instance.report_runless_asset_event(dg.AssetObservation(
            "ccn_companies_file", metadata={"dagster/last_updated_timestamp": dg.MetadataValue.timestamp(start)}))
        # the window is 7 days and 12 hours: fresh at +7 days 11 hours, stale at +7 days 13 hours
        with freeze_time(start + timedelta(days=7, hours=11)):
            assert _freshness(job.execute_in_process(instance=instance)) == {
                "cdr_fyi_orders": True, "ccn_companies_file": True}
        with freeze_time(start + timedelta(days=7, hours=13)):
            assert _freshness(job.execute_in_process(instance=instance))["cdr_fyi_orders"] is False
            instance.report_runless_asset_event(dg.AssetMaterialization("cdr_fyi_orders"))
            assert _freshness(job.execute_in_process(instance=instance))["cdr_fyi_orders"] is True


def test_the_ccn_file_is_stale_after_a_year() -> None:
    job = _freshness_job()
    with dg.DagsterInstance.ephemeral() as instance:
        dropped = datetime.now(UTC) - timedelta(days=366)
        instance.report_runless_asset_event(dg.AssetObservation(
            "ccn_companies_file", metadata={"dagster/last_updated_timestamp": dg.MetadataValue.timestamp(dropped)}))
        assert _freshness(job.execute_in_process(instance=instance))["ccn_companies_file"] is False
        instance.report_runless_asset_event(dg.AssetObservation(
            "ccn_companies_file",
            metadata={"dagster/last_updated_timestamp": dg.MetadataValue.timestamp(datetime.now(UTC))}))
        assert _freshness(job.execute_in_process(instance=instance))["ccn_companies_file"] is True


def test_a_publication_posts_what_changed_to_slack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving({"/hook": (200, b"ok")}) as slack:
        monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url("/hook"))
        job = build_definitions("local", executor_def=dg.in_process_executor).resolve_job_def("weekly_refresh")
        assert job.execute_in_process(instance=dg.DagsterInstance.ephemeral()).success
        posts = [json.loads(body)["text"] for method, path, body in slack.received if (method, path) == ("POST", "/hook")]
    assert len(posts) == 1
    assert posts[0].startswith("*CDR dashboard (local)*: first publication, nothing to compare with.")
    # the bundled sample has 3000 distinct orders, less the contract's two excluded ids: all new
    assert "- new orders: 2998 (" in posts[0]


def test_a_failed_run_is_posted_to_slack_naming_the_failed_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw/ccn_companies.csv").write_text("company_name,year_founded,pathway\nAlpha,1800,DAC\n")
    job = build_definitions("local", executor_def=dg.in_process_executor).resolve_job_def("weekly_refresh")
    with dg.DagsterInstance.ephemeral() as instance, serving({"/hook": (200, b"ok")}) as slack:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        [failure] = [e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE"]
        context = dg.build_run_status_sensor_context(
            sensor_name="weekly_refresh_failure_alert", dagster_event=failure,
            dagster_instance=instance, dagster_run=run,
        ).for_run_failure()
        weekly_refresh_failure_alert(context, slack=SlackWebhook(webhook_url=slack.url("/hook")))
        [(method, path, body)] = slack.received
    text = json.loads(body)["text"]
    assert (method, path) == ("POST", "/hook")
    assert "*weekly_refresh* failed on *local*" in text and "run-level retry 1 of 2 will follow" in text
    assert "Nothing was published" in text
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
