"""The operator's commands behind ``python3 dev.py refresh`` and ``python3 dev.py rerun``.

A tool beside dev.py, not part of the code location: it drives the platform from outside, the way
the UI does, and nothing in ``cdr_dagster`` needs it. It uses Dagster's public surfaces only: for
the length of the command ``dagster dev`` runs one code server of workspace.yaml, shared by the
webserver and the daemon, and the tool speaks to the webserver's GraphQL API. So a run started here
is a run of the code location: it waits in the queue until the daemon launches it, shows in the UI,
is retried by the instance where a retry can help (its ``dagster/will_retry`` tag says so), and is
alerted on by the failure sensor.

    python3 operate.py refresh   # check the settings, launch weekly_refresh, wait, summarize
    python3 operate.py rerun     # re-execute the newest failed weekly_refresh from its failed steps,
                                 # unless a newer one has succeeded since

Each ends with a short summary: where the files went and the headline figures, or each failed
step with its reason and what to do next. Exit status 0 on success, 1 on a failed or refused run,
2 on a setting that is missing or wrong (one sentence each, nothing launched).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from cdr_dagster.automation import jobs
from cdr_dagster.automation.alerts import error_lines, page_state
from cdr_dagster.config import setting_problems
from cdr_dagster.deployments import current_deployment, resources_for
from cdr_dagster.domain.published import read_published

JOB = "weekly_refresh"
LOCATION = "cdr_dagster"
FAILURE_SENSOR = "weekly_refresh_failure_alert"
ROOT = Path(__file__).resolve().parent
WORKSPACE = ROOT / "workspace.yaml"
DAGSTER_CLI = Path(sys.executable).parent / "dagster"
POLL_SECONDS = 1.0
START_TIMEOUT_SECONDS = 300.0
RUN_TIMEOUT_SECONDS = 3600.0
ALERT_WAIT_SECONDS = 120.0  # the failure sensor ticks every 30 s
SUMMARY_LINES = 30  # problems shown in the terminal; the rest are counted ("+N more")
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
WILL_RETRY_TAG = "dagster/will_retry"  # set by the instance on each failed run when run retries are on
RETRY_RUN_TAG = "dagster/auto_retry_run_id"  # set once the daemon has launched the retry


def say(line: str = "") -> None:
    print(line, flush=True)


class Dagster:
    """The running Dagster, through its webserver's GraphQL API, and the name of the repository
    of the code location it loaded."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.repository = ""

    def selector(self, **name: str) -> dict[str, str]:
        return {"repositoryLocationName": LOCATION, "repositoryName": self.repository, **name}

    def query(self, document: str, **variables: Any) -> dict[str, Any]:
        answer = self.session.post(self.url, json={"query": document, "variables": variables}, timeout=60).json()
        if answer.get("errors"):
            raise RuntimeError(f"Dagster's GraphQL API refused a query: {answer['errors'][0].get('message')}")
        return answer["data"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


WORKSPACE_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on RepositoryLocation { repositories { name } } ... on PythonError { message } } } } } }"""


@contextmanager
def dagster_services() -> Iterator[Dagster]:
    """``dagster dev`` on a free localhost port for this command's lifetime: the daemon launches
    queued runs, retries them and evaluates the sensors; the webserver answers GraphQL. Its own
    log goes to ``$DAGSTER_HOME/dagster_dev.log``, not the terminal."""
    port = _free_port()
    with (Path(os.environ["DAGSTER_HOME"]) / "dagster_dev.log").open("ab") as log:
        process = subprocess.Popen(
            [str(DAGSTER_CLI), "dev", "-w", str(WORKSPACE), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # stopped by this command, like Ctrl-C stops `dagster dev`
        )
        try:
            yield _loaded(Dagster(f"http://127.0.0.1:{port}/graphql"), process)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _loaded(dagster: Dagster, process: subprocess.Popen[bytes]) -> Dagster:
    """Wait until the webserver answers and has loaded the code location."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"dagster dev stopped (exit status {process.returncode}); see $DAGSTER_HOME/dagster_dev.log")
        try:
            entries = dagster.query(WORKSPACE_QUERY)["workspaceOrError"].get("locationEntries") or []
        except requests.RequestException:
            entries = []
        for entry in entries:
            location = entry["locationOrLoadError"] or {}
            if entry["name"] == LOCATION and location.get("__typename") == "PythonError":
                raise SystemExit(f"The code location failed to load: {location['message'].strip().splitlines()[0]}")
            if entry["name"] == LOCATION and entry["loadStatus"] == "LOADED" and location.get("repositories"):
                dagster.repository = location["repositories"][0]["name"]
                return dagster
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"dagster dev did not load the code location within {START_TIMEOUT_SECONDS:.0f} s")


RUN_FIELDS = "runId status creationTime startTime endTime parentRunId rootRunId tags { key value }"
RUN_QUERY = f"query($runId: ID!) {{ runOrError(runId: $runId) {{ __typename ... on Run {{ {RUN_FIELDS} }} }} }}"
RUNS_QUERY = f"""query($filter: RunsFilter) {{
  runsOrError(filter: $filter, limit: 1) {{ ... on Runs {{ results {{ {RUN_FIELDS} }} }} }} }}"""
RETRIES_QUERY = '{ instance { daemonHealth { daemonStatus(daemonType: "AUTO_RUN_REEXECUTION") { required } } } }'


def get_run(dagster: Dagster, run_id: str) -> dict[str, Any]:
    run = dagster.query(RUN_QUERY, runId=run_id)["runOrError"]
    if run["__typename"] != "Run":
        raise SystemExit(f"run {run_id} is not in the instance")
    return run


def newest_run(dagster: Dagster, status: str, created_after: float | None = None) -> dict[str, Any] | None:
    """The newest weekly_refresh run in ``status`` (created after ``created_after``, if given)."""
    filter_: dict[str, Any] = {"pipelineName": JOB, "statuses": [status]}
    if created_after is not None:
        filter_["createdAfter"] = created_after
    results = dagster.query(RUNS_QUERY, filter=filter_)["runsOrError"]["results"]
    return results[0] if results else None


def tags(run: Mapping[str, Any]) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in run["tags"]}


def retry_state(status: str, run_tags: Mapping[str, str], retries_enabled: bool) -> str | None:
    """What follows a run: ``"wait"`` while it runs or while the instance has yet to launch its
    retry, the retry's run id once launched, or None when the run is final. The instance tags
    every failed run ``dagster/will_retry`` when run retries are on; until the tag is written,
    whether a retry follows is not known yet."""
    if status not in FINISHED:
        return "wait"
    if status != "FAILURE":
        return None
    if RETRY_RUN_TAG in run_tags:
        return run_tags[RETRY_RUN_TAG]
    will_retry = run_tags.get(WILL_RETRY_TAG)
    if will_retry is None:
        return "wait" if retries_enabled else None
    return "wait" if will_retry == "true" else None


def wait_for_run_chain(dagster: Dagster, run_id: str) -> dict[str, Any]:
    """Wait until the run, and any retry the instance makes of it, has finished; the last run."""
    retries_enabled = dagster.query(RETRIES_QUERY)["instance"]["daemonHealth"]["daemonStatus"]["required"]
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    shown = ""
    while time.monotonic() < deadline:
        run = get_run(dagster, run_id)
        if run["status"] != shown:
            shown = run["status"]
            say(f"  run {run_id[:8]}: {shown.lower().replace('_', ' ')}")
        follows = retry_state(run["status"], tags(run), retries_enabled)
        if follows is None:
            return run
        if follows != "wait":
            say(f"  the instance retries it as run {follows[:8]}")
            run_id, shown = follows, ""
            continue
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"run {run_id[:8]} did not finish within {RUN_TIMEOUT_SECONDS:.0f} s; see the UI (python3 dev.py ui)")


EVENTS_QUERY = """query($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor, limit: 1000) {
    ... on EventConnection { cursor hasMore events { __typename
      ... on ExecutionStepFailureEvent { stepKey error { message } failureMetadata { description } }
      ... on RunFailureEvent { message }
      ... on AssetCheckEvaluationEvent { evaluation { assetKey { path } checkName success severity description } } } } } }"""


def failures(dagster: Dagster, run_id: str) -> dict[str, str]:
    """Each failed step's error, each failed blocking check's description and, when no step
    failed, why the run failed."""
    found: dict[str, str] = {}
    run_failure = ""
    cursor = None
    while True:
        page = dagster.query(EVENTS_QUERY, runId=run_id, cursor=cursor)["logsForRun"]
        for event in page["events"]:
            kind = event["__typename"]
            if kind == "ExecutionStepFailureEvent":
                described = (event.get("failureMetadata") or {}).get("description")
                found[event["stepKey"]] = (described or (event.get("error") or {}).get("message") or "failed").strip()
            elif kind == "AssetCheckEvaluationEvent":
                check = event["evaluation"]
                if not check["success"] and check["severity"] == "ERROR":
                    found["/".join(check["assetKey"]["path"]) + ":" + check["checkName"]] = check["description"] or "failed"
            elif kind == "RunFailureEvent":
                run_failure = event["message"] or ""
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
    if not found and run_failure:
        found["run"] = run_failure
    return found


def failure_summary(run_id: str, found: Mapping[str, str], page: str) -> list[str]:
    """The failed run in plain text, bounded to about a screenful: what the page serves now
    (``page``, from the failure alert's own ``page_state``), the first problems, then how many
    more the UI shows."""
    problems: list[str] = []
    for step, reason in sorted(found.items()):
        first, *rest = error_lines(reason)
        problems += [f"  {step}: {first}", *(f"  {line}" for line in rest)]
    if not problems:
        problems.append("  (no step failed: see the run in the UI)")
    if len(problems) > SUMMARY_LINES:
        hidden = len(problems) - SUMMARY_LINES + 1
        problems = [
            *problems[: SUMMARY_LINES - 1],
            f"  +{hidden} more lines: the run in the UI (python3 dev.py ui) shows them all",
        ]
    return [
        f"Run {run_id[:8]} failed. {page}",
        *problems,
        "Next: fix the cause (the UI shows the full error), then: python3 dev.py rerun",
    ]


MATERIALIZATIONS_QUERY = """query($runId: ID!) { runOrError(runId: $runId) { ... on Run {
  assetMaterializations { assetKey { path } metadataEntries { label __typename
    ... on IntMetadataEntry { intRepr } ... on FloatMetadataEntry { floatValue } ... on TextMetadataEntry { text }
    ... on JsonMetadataEntry { jsonString } ... on PathMetadataEntry { path } } } } } }"""


def _plain(entry: Mapping[str, Any]) -> Any:
    kind = entry["__typename"]
    if kind == "IntMetadataEntry":
        return int(entry["intRepr"])
    if kind == "JsonMetadataEntry":
        return json.loads(entry["jsonString"])
    return entry.get("floatValue", entry.get("text", entry.get("path")))


def materializations(dagster: Dagster, run: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each asset's newest metadata in the run and the runs it re-executes (a re-execution only
    holds what it re-ran)."""
    lineage = [run["runId"]]
    while run["parentRunId"] and run["parentRunId"] not in lineage:
        run = get_run(dagster, run["parentRunId"])
        lineage.append(run["runId"])
    found: dict[str, dict[str, Any]] = {}
    for run_id in reversed(lineage):
        for event in dagster.query(MATERIALIZATIONS_QUERY, runId=run_id)["runOrError"].get("assetMaterializations", []):
            found["/".join(event["assetKey"]["path"])] = {e["label"]: _plain(e) for e in event["metadataEntries"]}
    return found


def _number(value: Any, unit: str) -> str:
    return f"{value:,.0f} {unit}".strip() if isinstance(value, (int, float)) else "n/a"


def success_summary(meta: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Where the files went and the week's headline figures, with their units."""
    publication = meta.get("dashboard_publication", {})
    orders = meta.get("orders_for_viz", {})
    carbon = meta.get("carbon_pricing", {})
    lines = [f"Published {len(publication.get('published') or {})} datasets; manifest: {publication.get('manifest', 'n/a')}"]
    if orders:
        lines.append(
            f"  tons purchased {_number(orders.get('tons_purchased_t'), 't')}, delivered "
            f"{_number(orders.get('tons_delivered_t'), 't')} ({orders.get('percent_delivered_pct', 'n/a')} %)"
        )
    if "dollars_spent" in meta:
        lines.append(f"  total spent on CDR {_number(meta['dollars_spent'].get('dollars_spent_usd'), 'USD')}")
    if carbon:
        lines.append(
            f"  carbon pricing {carbon.get('latest_year')}: {carbon.get('countries_count')} countries, "
            f"{carbon.get('global_emissions_pct')} % of global emissions"
        )
    if "sample" in set((publication.get("sources") or {}).values()):
        lines.append("  (some datasets are SAMPLE data: set CDR_FYI_API_TOKEN and drop the input files for real figures)")
    lines.append("Next: python3 dev.py preview shows the page; python3 dev.py ui shows the runs.")
    return lines


SENSOR_QUERY = """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  ... on Sensor { sensorState { status ticks(limit: 1) { timestamp } } } } }"""


def wait_for_alert(dagster: Dagster, ended: float) -> bool:
    """Wait until the failure sensor has ticked after the run ended (so its alert is out)."""
    deadline = time.monotonic() + ALERT_WAIT_SECONDS
    while time.monotonic() < deadline:
        state = dagster.query(SENSOR_QUERY, selector=dagster.selector(sensorName=FAILURE_SENSOR))["sensorOrError"]["sensorState"]
        if state["status"] != "RUNNING":
            return False
        if state["ticks"] and state["ticks"][0]["timestamp"] > ended:
            return True
        time.sleep(POLL_SECONDS)
    return False


def page_now(run_started: float | None) -> str:
    """What the page serves after a failed run that started at ``run_started``, in the words of
    the failure alert: the same manifest, read from this deployment's storage."""
    storage = resources_for(current_deployment())["storage"]
    return page_state(read_published(storage).manifest, run_started)[1]


def finish(dagster: Dagster, run_id: str) -> tuple[int, list[str]]:
    """Wait for the run (and its retries); the exit status and the summary."""
    run = wait_for_run_chain(dagster, run_id)
    if run["status"] == "SUCCESS":
        return 0, success_summary(materializations(dagster, run))
    started = get_run(dagster, run_id)["startTime"]  # the first attempt's: a switch in any attempt counts
    lines = failure_summary(run["runId"], failures(dagster, run["runId"]), page_now(started))
    if not wait_for_alert(dagster, run["endTime"] or time.time()):
        lines.insert(0, "(the failure alert had not gone out yet; it will when the daemon next runs)")
    return 1, lines


LAUNCH = """mutation($selector: JobOrPipelineSelector!) { launchRun(executionParams: {selector: $selector}) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on Error { message } } }"""
REEXECUTE = """mutation($parentRunId: String!, $tags: [ExecutionTag!]) {
  launchRunReexecution(reexecutionParams: {
    parentRunId: $parentRunId, strategy: FROM_FAILURE, useParentRunTags: true, extraTags: $tags}) {
    __typename ... on LaunchRunSuccess { run { runId } } ... on Error { message } } }"""


def _launched(answer: Mapping[str, Any]) -> str:
    if answer["__typename"] != "LaunchRunSuccess":
        raise SystemExit(f"Dagster did not launch the run ({answer['__typename']}): {answer.get('message', '')}".strip())
    return str(answer["run"]["runId"])


def refresh(dagster: Dagster) -> tuple[int, list[str]]:
    run_id = _launched(dagster.query(LAUNCH, selector=dagster.selector(jobName=JOB))["launchRun"])
    say(f"Launched {JOB} as run {run_id[:8]} (deployment {current_deployment()}); follow it in the UI: python3 dev.py ui")
    return finish(dagster, run_id)


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def rerun(dagster: Dagster) -> tuple[int, list[str]]:
    """Re-execute the newest failed run from its failed steps, unless a newer run has succeeded
    since: its week is live, and the failed run's older pulls must not replace it."""
    failed = newest_run(dagster, "FAILURE")
    if failed is None:
        return 0, [f"No failed {JOB} run to re-execute."]
    root = get_run(dagster, failed["rootRunId"]) if failed["rootRunId"] else failed
    newer = newest_run(dagster, "SUCCESS", created_after=root["creationTime"])
    if newer is not None:
        return 1, [
            f"Run {failed['runId'][:8]} is not re-executed: {JOB} run {newer['runId'][:8]}, started after it "
            f"({_utc(newer['creationTime'])}), has succeeded, so run {failed['runId'][:8]}'s data is older than "
            "what is live; start a fresh refresh instead: python3 dev.py refresh"
        ]
    # the parent's tags, but `trigger` says a re-execution started this one
    rerun_tags = [{"key": key, "value": value} for key, value in jobs.run_tags(jobs.RERUN).items()]
    run_id = _launched(dagster.query(REEXECUTE, parentRunId=failed["runId"], tags=rerun_tags)["launchRunReexecution"])
    say(
        f"Re-executing run {failed['runId'][:8]} from its failed steps as run {run_id[:8]} "
        "(what succeeded is read from storage, not fetched again)"
    )
    return finish(dagster, run_id)


def main(argv: Sequence[str]) -> int:
    command = argv[0] if argv else ""
    if command not in ("refresh", "rerun"):
        say(__doc__ or "")
        return 2
    problems = setting_problems(os.environ)
    if problems:
        for problem in problems:
            say(problem)
        say("Nothing was launched: set these, then run the command again.")
        return 2
    say(f"Starting Dagster (dagster dev: code server, webserver, daemon) for {command} ...")
    with dagster_services() as dagster:
        status, summary = refresh(dagster) if command == "refresh" else rerun(dagster)
    say()
    for line in summary:  # after Dagster has stopped, so the summary ends the command
        say(line)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
