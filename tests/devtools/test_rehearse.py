"""`python3 dev.py rehearse` as a person (or CI) runs it: the whole rehearsal passes, a broken task
definition fails with one sentence, and Ctrl-C stops every process it started."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.task_definitions import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deployment" / "dagster_stack.yaml"
REHEARSAL_TIMEOUT_S = 1500  # a guard against a hang, not a speed check: the machine is shared


def rehearse(*args: str, timeout: float = REHEARSAL_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devtools.rehearse", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def processes_in(folder: str) -> list[str]:
    """Processes whose working directory or command line is inside ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd.startswith(folder) or folder in cmdline:
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def kept_folder(output: str) -> str:
    [folder] = re.findall(r"^logs of every process: (\S+)$", output, flags=re.MULTILINE)
    return folder


@pytest.mark.e2e
@pytest.mark.postgres
def test_the_rehearsal_runs_the_stack_loses_a_worker_and_publishes() -> None:
    result = rehearse("--keep")
    output = result.stdout
    folder = kept_folder(output)
    try:
        assert result.returncode == 0, output[-6000:] + result.stderr[-3000:]
        lines = output.splitlines()
        titles = [line for line in lines if re.match(r"\[\d+\] ", line)]
        assert len(titles) == 10 and lines.count("    ok") == 10
        assert lines[-2:] == [
            "rehearsal: 10 passed, 0 failed",
            "next: .venv/bin/python deployment/deploy.py test --dry-run, then deploy",
        ]
        # the three behaviours of issue 20, as the steps report them
        assert re.search(r"run \S+: QUEUED, then task \S+", output)
        assert "ECS: STOPPED, exit code 137; run FAILURE: " in output
        assert re.search(r"\(retry 1, strategy FROM_FAILURE\): [1-9]\d* steps reused, \d+ run, SUCCESS", output)
        assert "processed/manifest.json (test): " in output
        assert re.search(r"compute logs of .+: \d+ characters of stderr \(from S3\)", output)  # empty logs fail the step
        assert "Traceback" not in output + result.stderr
        # every process it started is gone, PostgreSQL included
        assert processes_in(folder) == []
        [pg_port] = re.findall(r"PostgreSQL 127\.0\.0\.1:(\d+)", output)
        assert port_is_closed(int(pg_port))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_container_missing_a_variable_the_instance_reads_fails_in_one_sentence(tmp_path: Path) -> None:
    template = load_template(TEMPLATE)
    [daemon] = template["Resources"]["DaemonTaskDefinition"]["Properties"]["ContainerDefinitions"]
    kept = [e for e in daemon["Environment"] if e["Name"] != "DAGSTER_PG_HOST"]
    assert len(kept) == len(daemon["Environment"]) - 1
    daemon["Environment"] = kept
    broken = tmp_path / "dagster_stack.json"
    broken.write_text(json.dumps(template))

    result = rehearse("--template", str(broken), timeout=300)

    assert result.returncode == 1
    assert result.stdout.splitlines()[1:] == [
        "    FAILED: the daemon container (DaemonTaskDefinition) is not given DAGSTER_PG_HOST, "
        "which deployment/dagster/test/dagster.yaml reads",
        "rehearsal: 0 passed, 1 failed",
        "next: fix the failed step above, then run python3 dev.py rehearse again (add --keep to keep every process's log)",
    ]
    assert result.stderr == ""


@pytest.mark.e2e
@pytest.mark.postgres
def test_ctrl_c_stops_every_process_the_rehearsal_started() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "devtools.rehearse", "--keep"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = []
    try:
        deadline = time.monotonic() + 600
        # the code server is up (a task process, PostgreSQL and moto are running): interrupt
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "".join(seen)
            seen.append(line)
            if line.startswith("[5] "):
                break
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(seen) + rest
    folder = kept_folder(output)
    try:
        assert proc.returncode == 1
        assert "interrupted: every process the rehearsal started is stopped" in output
        assert re.search(r"^rehearsal: 4 passed, 1 failed$", output, flags=re.MULTILINE), output
        assert processes_in(folder) == []
        [pg_port] = re.findall(r"PostgreSQL 127\.0\.0\.1:(\d+)", output)
        assert port_is_closed(int(pg_port))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
