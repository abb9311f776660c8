"""Two instances publishing into one bucket or folder (two laptops): the loser of the
conditional manifest write learns it lost, with one sentence naming its week and the week that
won, and leaves nothing live-visible behind (#18).

Run A is a weekly_refresh in a process of its own (tests/assets/weekly_run.py, its own Dagster
instance), stopped at its manifest switch: on moto's S3 server by a proxy holding its manifest
PUT, on a data folder by the folder's lock, held by the test (seen waiting in /proc/locks).
Meanwhile the other instance makes another week live; then A goes on, and refuses.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from cdr_dagster.domain import layout
from cdr_dagster.domain.manifest import Pulled, publication_stamp
from cdr_dagster.resources.storage import LocalStorage
from tests.assets import test_publication_forward as forward
from tests.assets.folder_lock import holding, wait_until_it_waits
from tests.assets.test_publication_forward import Week
from tests.assets.test_publication_killed import consistent, unaccounted, worker
from tests.page.fault_proxy import HoldingProxy

pytestmark = pytest.mark.e2e
week = forward.week  # the fixture: storage (a folder or moto's S3), the fake cdr.fyi and front page, an instance


def pull_of_run(instance: dg.DagsterInstance, run_id: str) -> Pulled:
    """A run that pulled every table itself: its week's pulls started when it started."""
    record = instance.get_run_record_by_id(run_id)
    assert record is not None and record.start_time is not None
    return Pulled(datetime.fromtimestamp(record.start_time, UTC), run_id)


def loser(home: Path) -> tuple[Pulled, str]:
    """Run A's pull, and why its publication failed, read from its own instance."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [record] = instance.get_run_records()
        run_id = record.dagster_run.run_id
        assert record.dagster_run.status == dg.DagsterRunStatus.FAILURE
        [failure] = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        event = failure.dagster_event
        assert event is not None and event.step_key == "dashboard_publication"
        return pull_of_run(instance, run_id), event.step_failure_data.user_failure_data.description


def finished(process: subprocess.Popen[bytes], log: Path) -> int:
    try:
        return process.wait(timeout=300)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"run A did not finish:\n{log.read_text()[-3000:]}") from None


def assert_lost(sentence: str, pulled_a: Pulled, won: Pulled, stamp: str) -> None:
    assert sentence.startswith("dashboard_publication refused: "), sentence
    assert f"changed while this run was publishing its data ({pulled_a.describe()}): " in sentence, sentence
    assert f"switched it (live now: {won.describe()}, published {stamp}); nothing was published" in sentence, sentence
    assert sentence.endswith("(start a fresh refresh: its checks compare with what is live).")


@pytest.mark.parametrize("week", ["s3"], indirect=True)
def test_on_s3_the_run_that_switches_second_learns_it_lost(week: Week, s3, tmp_path: Path) -> None:
    assert week.run().success  # a first week is live

    log = tmp_path / "a.log"
    with HoldingProxy(s3.endpoint_url, hold=r"^processed/manifest\.json$") as proxy:
        run_a = worker(tmp_path / "home", {"AWS_ENDPOINT_URL_S3": proxy.url}, log)
        try:
            while not proxy.held.wait(timeout=0.2):  # A pulls, builds, checks, writes its keys
                assert run_a.poll() is None, f"run A ended before its manifest write:\n{log.read_text()[-3000:]}"
            run_b = week.run()  # another instance (pulled later) publishes meanwhile
            assert run_b.success
            won = consistent(week.storage)
            proxy.release()  # A's manifest PUT reaches S3, conditional on the first week's ETag
        finally:
            status = finished(run_a, log)
    assert status == 1

    pulled_a, sentence = loser(tmp_path / "home")
    stamp_b = str(publication_stamp(won))
    assert_lost(sentence, pulled_a, pull_of_run(week.instance, run_b.run_id), stamp_b)
    assert pulled_a.at < pull_of_run(week.instance, run_b.run_id).at
    # B's week stays live, every file with its SHA-256; nothing of A's is left where the page looks
    assert consistent(week.storage) == won
    assert unaccounted(week.storage) == set()


@pytest.mark.parametrize("week", ["local"], indirect=True)
def test_on_a_folder_the_run_that_switches_second_learns_it_lost(week: Week, tmp_path: Path) -> None:
    assert isinstance(week.storage, LocalStorage)
    first_run = week.run()
    assert first_run.success
    first = week.manifest()
    assert week.run().success  # the week that A's checks compare with

    data = Path(week.storage.base_dir)
    processed = data / layout.PUBLISHED_PREFIX
    log = tmp_path / "a.log"
    with holding(processed):  # the other instance's switch: A waits at its own
        run_a = worker(tmp_path / "home", {}, log)
        try:
            wait_until_it_waits(run_a, processed, log)
            # the other instance rolls back to the first week (its manifest, archived, goes live)
            week.storage.write_bytes(layout.MANIFEST_KEY, json.dumps(first).encode(), content_type="application/json")
        except BaseException:
            run_a.kill()
            raise
    assert finished(run_a, log) == 1

    pulled_a, sentence = loser(tmp_path / "home")
    assert_lost(sentence, pulled_a, pull_of_run(week.instance, first_run.run_id), str(publication_stamp(first)))
    assert consistent(week.storage) == first
    assert unaccounted(week.storage) == set()
    assert list(data.rglob(".*")) == []  # no temp file of A's writes either
