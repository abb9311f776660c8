#!/usr/bin/env python3
"""One entry point for a fresh machine that has only Python 3.11+.

    python3 dev.py refresh   # set up, then run weekly_refresh with the embedded defaults (./data)
    python3 dev.py rerun     # re-execute the newest failed weekly_refresh from its failed steps (see operate.py)
    python3 dev.py test      # set up (Python, Debian packages, cfn-guard into .tools/), then run the whole test suite
    python3 dev.py rehearse  # the test deployment's Dagster tier on this machine, with a lost run worker
    python3 dev.py ui        # set up, then start `dagster dev` (http://localhost:3000)
    python3 dev.py preview   # serve the page on http://localhost:8000 from ./data
    python3 dev.py check     # ruff, mypy and `dg check defs` (also run first by `test`)
    python3 dev.py lock      # re-pin constraints.txt from pyproject.toml (uv pip compile)

Setup is idempotent: a virtualenv in .venv, installed from pyproject.toml with every version
pinned by constraints.txt, redone only when either file changes. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PYTHON = BIN / "python"
# Debian packages the tests need: a real browser for the page, a real PostgreSQL for the
# Dagster instance of the test/prod deployments.
DEBIAN_TEST_PACKAGES = {"chromium": "/usr/bin/chromium", "postgresql": "/usr/lib/postgresql", "npm": "/usr/bin/npm"}
# cfn-guard 3.1.1 and AWS's Control Tower rules, which the template tests run (npm ships both).
CFN_GUARD_PACKAGE = "@cdklabs/cdk-validator-cfnguard@0.0.62"
TOOLS = ROOT / ".tools"


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], cwd=ROOT, env=env, check=True)


def setup(extras: str = "") -> None:
    if not PYTHON.exists():
        run(sys.executable, "-m", "venv", VENV)
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    digest.update(extras.encode())
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    run(PYTHON, "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", target)
    stamp.write_text(digest.hexdigest())


def debian_test_packages() -> None:
    missing = [pkg for pkg, path in DEBIAN_TEST_PACKAGES.items() if not Path(path).exists()]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"the tests need the Debian packages {', '.join(missing)}: install them (apt-get) and retry")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run("apt-get", "update", "-qq", env=env)
    run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env)


def npm_test_tools() -> None:
    """cfn-guard and its rules into .tools/ (ignored by git), once per pinned version."""
    stamp = TOOLS / ".installed"
    if stamp.exists() and stamp.read_text() == CFN_GUARD_PACKAGE:
        return
    TOOLS.mkdir(exist_ok=True)
    run("npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", TOOLS, CFN_GUARD_PACKAGE)
    stamp.write_text(CFN_GUARD_PACKAGE)


# The lock: every package of pyproject.toml (with the dev extra) pinned for CPython 3.11 on
# Linux. uv keeps the pins already in constraints.txt unless a requirement forces a change
# (`python3 dev.py lock --upgrade-package NAME` moves one package).
LOCK_OPTIONS = ("--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28", "--no-header", "--no-annotate")


def static_checks() -> None:
    """Lint, formatting, types, and the code location as Dagster loads it."""
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    run(BIN / "dg", "check", "defs", env=dagster_env())
    listed = subprocess.run(
        [str(BIN / "dg"), "list", "defs", "--json"], cwd=ROOT, env=dagster_env(), capture_output=True, text=True, check=True
    ).stdout
    assets = json.loads(listed).get("assets", [])
    print(f"+ dg list defs: {len(assets)} assets listed", flush=True)


LOCAL_INSTANCE = """\
# written by dev.py: the local Dagster instance (SQLite under this folder)
run_monitoring:
  enabled: true  # enforces weekly_refresh's dagster/max_runtime (3 h)
  free_slots_after_run_end_seconds: 30  # a killed run's pool slots are freed
run_retries:
  enabled: true  # weekly_refresh: 2 run-level retries, from the failed step, for lost workers
  retry_on_asset_or_op_failure: false  # a failed step will fail again: no run-level retry
run_coordinator:  # runs wait in a queue; the daemon launches them
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  runs:
    max_concurrent_runs: 1  # one run at a time
  pools:
    default_limit: 1  # every pool: one publication at a time (dashboard_publication), the cdr.fyi pulls one by one
python_logs:
  python_log_level: INFO
telemetry:
  enabled: false
"""
LOCAL_INSTANCE_MARK = "# written by dev.py"


def dagster_env() -> dict[str, str]:
    """Keep run history in .dagster_home (dagster dev otherwise deletes it on exit)."""
    home = Path(os.environ.get("DAGSTER_HOME") or ROOT / ".dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    # written anew when absent or written by an older dev.py; a person's own file is left alone
    if (
        not config.exists()
        or not config.read_text().strip()
        or (config.read_text().startswith(LOCAL_INSTANCE_MARK) and config.read_text() != LOCAL_INSTANCE)
    ):
        config.write_text(LOCAL_INSTANCE)
    return {**os.environ, "DAGSTER_HOME": str(home)}


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "help"
    rest = argv[1:]
    if command in ("refresh", "rerun"):
        setup()
        run(PYTHON, ROOT / "operate.py", command, *rest, env=dagster_env())
    elif command == "test":
        setup("dev")
        debian_test_packages()
        npm_test_tools()
        if not rest:  # the whole suite: static checks first, then tests on every core, a module per worker
            static_checks()
            rest = ["-n", "auto", "--dist", "loadscope"]
        run(PYTHON, "-m", "pytest", *rest)
    elif command == "rehearse":  # devtools/rehearse.py: [test|prod] [--template PATH] [--keep]
        setup("dev")
        debian_test_packages()
        # exec, not a child: Ctrl-C reaches the rehearsal alone, which stops what it started
        print("+", PYTHON, "-m devtools.rehearse", *rest, flush=True)
        os.chdir(ROOT)
        os.execv(PYTHON, [str(PYTHON), "-m", "devtools.rehearse", *rest])
    elif command == "ui":
        setup()
        run(BIN / "dagster", "dev", *rest, env=dagster_env())
    elif command == "lock":
        setup("dev")
        run(PYTHON, "-m", "pip", "install", "--quiet", "uv")
        run(BIN / "uv", "pip", "compile", "pyproject.toml", "--extra", "dev", *LOCK_OPTIONS, "-o", "constraints.txt", *rest)
    elif command == "check":
        setup("dev")
        static_checks()
    elif command == "preview":
        setup("dev")
        run(PYTHON, "-m", "dashboard.preview", *rest)
    else:
        print(__doc__)
        sys.exit(0 if command == "help" else 2)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
    except KeyboardInterrupt:
        sys.exit(130)
