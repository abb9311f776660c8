"""Two weekly runs launched back to back on one instance both publish, in pull order (#18).

One instance as ``python3 dev.py refresh`` makes it (dev.py's dagster.yaml: the queued run
coordinator, one run at a time, every pool limited to 1), with ``dagster dev`` running its
daemon; the runs are launched through the webserver's GraphQL API, as operate.py and the UI do,
on a data folder and on moto's S3 server over HTTP. The second run is launched while the first
is still queued or running: it waits in the queue, pulls after the first has published, its
checks compare it with the first's week, and it publishes over it. Never backwards, never refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

import dev
import operate
from cdr_dagster.domain import layout
from cdr_dagster.domain.manifest import publication_stamp, recorded_pull
from cdr_dagster.domain.published import BASELINE_METADATA_KEY, NOTHING_PUBLISHED
from tests.assets import test_publication_forward as forward
from tests.assets.test_publication_forward import Week

pytestmark = pytest.mark.e2e
week = forward.week  # the fixture: storage (a folder or moto's S3), the fake cdr.fyi and front page


def launch(dagster: operate.Dagster) -> str:
    return operate._launched(dagster.query(operate.LAUNCH, selector=dagster.selector(jobName=operate.JOB))["launchRun"])


def baselines(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    """The publications the run's checks judged its week against (their ``baseline`` metadata)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    found = set()
    for record in records:
        event = record.event_log_entry.dagster_event
        assert event is not None
        value = event.asset_check_evaluation_data.metadata.get(BASELINE_METADATA_KEY)
        if value is not None:
            found.add(str(value.value))
    return found


def test_two_runs_launched_back_to_back_publish_in_pull_order(
    week: Week, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(dev.LOCAL_INSTANCE)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert not week.storage.exists(layout.MANIFEST_KEY)  # nothing published yet

    with operate.dagster_services() as dagster:
        first = launch(dagster)
        second = launch(dagster)
        assert operate.get_run(dagster, first)["status"] not in operate.FINISHED  # launched while the first waits or runs
        runs = [operate.wait_for_run_chain(dagster, run_id) for run_id in (first, second)]
    assert [r["runId"] for r in runs] == [first, second]  # no retry stood in for either
    assert [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"], (home / "dagster_dev.log").read_text()[-3000:]
    # one at a time: the second was queued before the first ended, and started after it
    assert runs[1]["creationTime"] < runs[0]["endTime"] <= runs[1]["startTime"]

    archives = sorted(week.storage.list_keys(f"{layout.MANIFEST_ARCHIVE_PREFIX}/"))  # stamps sort by time
    assert len(archives) == 2
    manifests = [json.loads(week.storage.read_bytes(key)) for key in archives]
    stamps = [str(publication_stamp(m)) for m in manifests]
    assert archives == [layout.manifest_archive_key(s) for s in stamps]
    records = [json.loads(week.storage.read_bytes(layout.baseline_record_key(s))) for s in stamps]
    # the archives in the order the runs were launched, each week's pulls by its own run
    assert [r["pulled_by_run"] for r in records] == [first, second]
    pulls = [recorded_pull(r) for r in records]
    assert pulls[0] is not None and pulls[1] is not None
    assert pulls[0].at < pulls[1].at
    assert pulls[1].at.timestamp() >= runs[0]["endTime"]  # the second pulled after the first had published
    assert week.manifest() == manifests[1]  # the second run's week is live

    with dg.DagsterInstance.from_config(str(home)) as instance:
        # the first was judged against nothing published, the second against the first's week
        assert baselines(instance, first) == {NOTHING_PUBLISHED}
        assert baselines(instance, second) == {stamps[0]}
