"""A second weekly run while one is running is skipped with a message, not queued behind it; the
job carries a run time limit."""

from __future__ import annotations

import dagster as dg
import pytest

from cdr_dagster.automation.jobs import MAX_RUNTIME_SECONDS, weekly_refresh, weekly_refresh_schedule


def evaluate(instance: dg.DagsterInstance) -> list:
    """What one tick asks for: run requests, or the skip message."""
    answer = weekly_refresh_schedule(dg.build_schedule_context(instance=instance))
    return [answer.skip_message] if isinstance(answer, dg.SkipReason) else [answer]


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING])
def test_the_weekly_tick_is_skipped_while_a_weekly_run_is_unfinished(status: dg.DagsterRunStatus) -> None:
    with dg.instance_for_test() as instance:  # a schedule context needs an instance on disk
        assert [type(r) for r in evaluate(instance)] == [dg.RunRequest]
        instance.add_run(dg.DagsterRun(job_name="weekly_refresh", run_id="0f0e0d0c-aaaa-bbbb-cccc-000000000001", status=status))
        # another job's run does not count
        instance.add_run(dg.DagsterRun(job_name="other_job", run_id="0f0e0d0c-aaaa-bbbb-cccc-000000000002", status=status))
        assert evaluate(instance) == [
            f"weekly_refresh run 0f0e0d0c-aaaa-bbbb-cccc-000000000001 is still {status.value.lower()}: this tick is "
            "skipped rather than queued behind it; the next tick runs as usual, or launch a run by hand once it has finished."
        ]


def test_a_finished_run_does_not_hold_the_tick() -> None:
    with dg.instance_for_test() as instance:  # a schedule context needs an instance on disk
        for i, status in enumerate((dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)):
            instance.add_run(
                dg.DagsterRun(job_name="weekly_refresh", run_id=f"0f0e0d0c-aaaa-bbbb-cccc-00000000000{i}", status=status)
            )
        assert [type(r) for r in evaluate(instance)] == [dg.RunRequest]


def test_the_job_has_a_run_time_limit() -> None:
    # enforced by the instance's run monitoring: the run is then reported failed, which the
    # weekly_refresh_failure_alert sensor posts
    assert weekly_refresh.tags["dagster/max_runtime"] == str(MAX_RUNTIME_SECONDS) == "10800"
