"""The weekly operator's loop, end to end through operate.py on a real local instance with the
daemon and run retries on: a bad CCN file gives one failed run (no pointless retry), one alert, a
plain-text summary naming every bad line and the command to re-run, and leaves the published files
as they were; after the file is fixed, `rerun` re-executes from the failed step without pulling
cdr.fyi again (through the webserver's launchRunReexecution, what the UI's "Re-execute from
failure" sends); a `rerun` after a newer run has succeeded is refused and changes nothing."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import dagster as dg
import pytest

import dev
from cdr_dagster.cdr_fyi.sample import sample_tables
from devtools.fake_cdr_fyi import FakeCdrFyi
from devtools.static_site import serving

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-operator-7d1e"
PAGE = (ROOT / "tests/fixtures/cdr_fyi_pages/current.html").read_bytes()
BAD_CCN = (
    b"company_name,year_founded,pathway\nAlpha,2019,DAC\n,2020,Biochar\nBeta,20x5,BECCS\nalpha ,2021,DAC\n"
    b"R&D <Carbon>,2019,DAC\nR&D <Carbon>,2020,DAC\n"
)
GOOD_CCN = b"company_name,year_founded,pathway\nAlpha,2019,DAC\nGamma,2020,Biochar\nBeta,2015,BECCS\n"


def operate(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "operate.py", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


@dataclass
class FailedRefresh:
    """One `refresh` that failed on a bad CCN file, on a local instance of its own; each test
    works on a copy of its instance and data folder, so the one slow failed run serves both."""

    root: Path
    env: dict[str, str]
    api: FakeCdrFyi
    result: subprocess.CompletedProcess[str]
    alerts: list[bytes]
    pulled: int

    def copy_to(self, tmp_path: Path) -> dict[str, str]:
        """This failed state copied under ``tmp_path``, the CCN file fixed; the env to use there."""
        for name in ("home", "data"):
            shutil.copytree(self.root / name, tmp_path / name)
        (tmp_path / "data/raw/ccn_companies.csv").write_bytes(GOOD_CCN)
        return {**self.env, "DAGSTER_HOME": str(tmp_path / "home"), "CDR_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture(scope="module")
def failed_refresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailedRefresh]:
    root = tmp_path_factory.mktemp("failed-refresh")
    home, data = root / "home", root / "data"
    home.mkdir()
    (home / "dagster.yaml").write_text(dev.LOCAL_INSTANCE)
    (data / "raw").mkdir(parents=True)
    (data / "raw/ccn_companies.csv").write_bytes(BAD_CCN)
    with FakeCdrFyi(copy.deepcopy(sample_tables()), TOKEN) as api, serving({"/": (200, PAGE), "/hook": (200, b"ok")}) as site:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "CDR_DATA_DIR": str(data),
            "CDR_FYI_API_TOKEN": TOKEN,
            "CDR_FYI_API_URL": api.base_url,
            "CDR_FYI_SITE_URL": site.url("/"),
            "SLACK_WEBHOOK_URL": site.url("/hook"),
        }
        result = operate("refresh", env)
        alerts = [
            body for method, path, body in site.received if (method, path) == ("POST", "/hook") and b"rotating_light" in body
        ]
        yield FailedRefresh(root, env, api, result, alerts, len(api.requests))


def test_a_bad_file_fails_once_with_one_alert_and_a_summary(failed_refresh: FailedRefresh) -> None:
    failed = failed_refresh.result
    assert len(failed_refresh.alerts) == 1  # one failed run, one alert (refresh waits for the sensor's tick)
    assert b"line 4: year_founded '20x5' is not an integer" in failed_refresh.alerts[0]
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "ccn_companies: " in failed.stdout
    # nothing was ever published: the summary says so, in the failure alert's words
    assert "failed. Nothing was published: the page has no data yet (nothing was ever published)." in failed.stdout
    for problem in (
        "lines 2, 5: company 'Alpha' appears 2 times",
        "line 3: company_name is blank",
        "line 4: year_founded '20x5' is not an integer",
        "lines 6-7: company 'R&D <Carbon>' appears 2 times",  # plain text in the terminal, adjacent lines as a range
    ):
        assert problem in failed.stdout
    for entity in ("&amp;", "&lt;", "&gt;"):
        assert entity not in failed.stdout
    assert b"company 'R&amp;D &lt;Carbon&gt;' appears 2 times" in failed_refresh.alerts[0]  # escaped for Slack only
    assert failed.stdout.rstrip().splitlines()[-1].endswith("then: python3 dev.py rerun")
    assert not (failed_refresh.root / "data/processed").exists()  # nothing published
    assert failed_refresh.pulled > 0
    with dg.DagsterInstance.from_config(str(failed_refresh.root / "home")) as instance:
        [record] = instance.get_run_records()  # one run: a bad file is not retried
        assert record.dagster_run.status == dg.DagsterRunStatus.FAILURE
        assert record.dagster_run.tags["dagster/will_retry"] == "false"
        assert record.dagster_run.remote_job_origin is not None  # a run of the code location: the UI can re-execute it


def test_rerun_after_the_fix_finishes_without_pulling_again(failed_refresh: FailedRefresh, tmp_path: Path) -> None:
    env = failed_refresh.copy_to(tmp_path)
    pulled = len(failed_refresh.api.requests)
    fixed = operate("rerun", env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Published 7 datasets" in fixed.stdout
    assert len(failed_refresh.api.requests) == pulled  # the tables were read from storage, not pulled again
    manifest = (tmp_path / "data/processed/manifest.json").read_bytes()
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        [rerun, failed] = [record.dagster_run for record in instance.get_run_records()]
        assert rerun.tags["dagster/parent_run_id"] == failed.run_id
        # what started each run: `refresh` (the job's default) and `rerun`, on this deployment
        assert (failed.tags["trigger"], rerun.tags["trigger"]) == ("manual", "rerun")
        assert rerun.tags["deployment"] == failed.tags["deployment"] == "local"

    again = operate("rerun", env)  # the failed run's week is live now: nothing left to re-execute
    assert again.returncode == 1, again.stdout + again.stderr
    assert (
        again.stdout.rstrip()
        .splitlines()[-1]
        .startswith(f"Run {failed.run_id[:8]} is not re-executed: weekly_refresh run {rerun.run_id[:8]}, started after it")
    )
    assert (tmp_path / "data/processed/manifest.json").read_bytes() == manifest
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        assert len(instance.get_run_records()) == 2  # nothing launched


def test_rerun_of_a_run_older_than_the_live_week_is_refused(failed_refresh: FailedRefresh, tmp_path: Path) -> None:
    """Issue 18: run A failed, a fresh run B then published; re-executing A would publish A's older
    pulls over B's week. `rerun` refuses in one sentence, names both runs, and says what to do."""
    env = failed_refresh.copy_to(tmp_path)
    fresh = operate("refresh", env)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    manifest = (tmp_path / "data/processed/manifest.json").read_bytes()
    pulled = len(failed_refresh.api.requests)
    refused = operate("rerun", env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        newer, failed = instance.get_run_records()  # nothing else launched
    when = newer.create_timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert refused.stdout.rstrip().splitlines()[-1] == (
        f"Run {failed.dagster_run.run_id[:8]} is not re-executed: weekly_refresh run {newer.dagster_run.run_id[:8]}, "
        f"started after it ({when}), has succeeded, so run {failed.dagster_run.run_id[:8]}'s data is older than what "
        "is live; start a fresh refresh instead: python3 dev.py refresh"
    )
    assert failed.dagster_run.status == dg.DagsterRunStatus.FAILURE
    assert (tmp_path / "data/processed/manifest.json").read_bytes() == manifest  # B's week stays live
    assert len(failed_refresh.api.requests) == pulled


def test_a_missing_setting_is_one_sentence_and_nothing_is_launched(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "DAGSTER_DEPLOYMENT": "prod"}
    env.pop("CDR_FYI_API_TOKEN", None)
    env.pop("CDR_DASHBOARD_BUCKET", None)
    result = operate("refresh", env)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "CDR_FYI_API_TOKEN is not set: the live cdr.fyi pull needs a partner API token (cdr.fyi, Settings > API Access).",
        "CDR_DASHBOARD_BUCKET is not set: name this deployment's S3 bucket.",
        "Nothing was launched: set these, then run the command again.",
    ]
    assert result.stderr == ""
