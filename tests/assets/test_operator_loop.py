"""The weekly operator's loop, end to end on a real local instance with the daemon and run retries
on: a bad CCN file gives one failed run (no pointless retry), a summary naming every bad line and
the command to re-run, and leaves the published files as they were; after the file is fixed,
`rerun` re-executes from the failed step without pulling cdr.fyi again."""

from __future__ import annotations

import copy
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import requests

import dev
from cdr_dagster import operate as operate_module
from cdr_dagster.cdr_fyi.sample import sample_tables
from devtools.fake_cdr_fyi import FakeCdrFyi
from devtools.static_site import serving

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-operator-7d1e"
PAGE = (ROOT / "tests/fixtures/cdr_fyi_pages/current.html").read_bytes()
BAD_CCN = b"company_name,year_founded,pathway\nAlpha,2019,DAC\n,2020,Biochar\nBeta,20x5,BECCS\nalpha ,2021,DAC\n"
GOOD_CCN = b"company_name,year_founded,pathway\nAlpha,2019,DAC\nGamma,2020,Biochar\nBeta,2015,BECCS\n"


def operate(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdr_dagster.operate", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


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
    for problem in (
        "lines 2, 5: company 'Alpha' appears 2 times",
        "line 3: company_name is blank",
        "line 4: year_founded '20x5' is not an integer",
    ):
        assert problem in failed.stdout
    assert failed.stdout.rstrip().splitlines()[-1].endswith("then: python3 dev.py rerun")
    assert not (failed_refresh.root / "data/processed").exists()  # nothing published
    assert failed_refresh.pulled > 0
    with dg.DagsterInstance.from_config(str(failed_refresh.root / "home")) as instance:
        [run] = instance.get_runs()  # one run: a bad file is not retried
        assert run.status == dg.DagsterRunStatus.FAILURE
        assert run.remote_job_origin is not None  # a run of the code location: the UI can re-execute it


def test_rerun_after_the_fix_finishes_without_pulling_again(failed_refresh: FailedRefresh, tmp_path: Path) -> None:
    env = failed_refresh.copy_to(tmp_path)
    pulled = len(failed_refresh.api.requests)
    fixed = operate("rerun", env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Published 7 datasets" in fixed.stdout
    assert len(failed_refresh.api.requests) == pulled  # the tables were read from storage, not pulled again
    assert (tmp_path / "data/processed/manifest.json").exists()
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        [rerun, failed] = instance.get_runs()
        assert rerun.tags["dagster/parent_run_id"] == failed.run_id


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


REEXECUTE = """
mutation($parentRunId: String!) {
  launchRunReexecution(reexecutionParams: {parentRunId: $parentRunId, strategy: FROM_FAILURE}) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}"""


def test_the_ui_re_executes_a_cli_started_run_from_its_failed_step(failed_refresh: FailedRefresh, tmp_path: Path) -> None:
    """What the UI's "Re-execute from failure" sends, through the webserver's GraphQL API."""
    env = failed_refresh.copy_to(tmp_path)
    home = tmp_path / "home"
    pulled = len(failed_refresh.api.requests)
    port = _free_port()
    webserver = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # until the webserver answers (bounded)
            try:
                if requests.get(f"{base}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            [failed] = instance.get_runs()
            # the daemon launches the queued re-execution with this test's settings
            with operate_module.running_daemon(home, env):
                answer = requests.post(
                    f"{base}/graphql",
                    json={"query": REEXECUTE, "variables": {"parentRunId": failed.run_id}},
                    timeout=60,
                ).json()
                result = answer["data"]["launchRunReexecution"]
                assert result["__typename"] == "LaunchRunSuccess", answer
                run = operate_module.wait_for_run_chain(instance, result["run"]["runId"])
            assert run.status == dg.DagsterRunStatus.SUCCESS
            assert run.tags["dagster/parent_run_id"] == failed.run_id
    finally:
        webserver.terminate()
        webserver.wait(timeout=30)
    assert len(failed_refresh.api.requests) == pulled  # re-executed from the failed step: nothing pulled again
    assert (tmp_path / "data/processed/manifest.json").exists()


def test_a_missing_setting_is_one_sentence_and_nothing_is_launched(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "DAGSTER_DEPLOYMENT": "prod"}
    env.pop("CDR_FYI_API_TOKEN", None)
    env.pop("CDR_DASHBOARD_BUCKET", None)
    result = operate("refresh", env)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "CDR_FYI_API_TOKEN is not set: the prod deployment pulls live data and needs the partner API token.",
        "CDR_DASHBOARD_BUCKET is not set: name the prod deployment's S3 bucket.",
        "Nothing was launched: set these, then run the command again.",
    ]
    assert result.stderr == ""
