"""The Dagster side of test and prod: the instance configuration booted against a real PostgreSQL
server with compute logs in (moto's) S3 while weekly_refresh runs end to end, the container
image's command serving the code location to the OSS workspace, and the Dagster+ file."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from cdr_dagster.cdr_fyi.sample import sample_tables
from cdr_dagster.domain.datasets import DATASET_NAMES as DATASETS
from cdr_dagster.domain.layout import CARBON_PRICING_INPUT_KEY, CCN_INPUT_KEY
from cdr_dagster.resources.csv_io_manager import utc_date_stamp
from cdr_dagster.sample_data import CARBON_PRICING_FILE, CCN_COMPANIES_FILE, sample_bytes
from deployment.deploy import load_config
from devtools.fake_cdr_fyi import FakeCdrFyi
from devtools.postgres import PostgresServer, PostgresUnavailable, running_postgres, server_bindir
from devtools.processes import stop
from devtools.s3_server import S3Server
from devtools.static_site import serving
from tests.deployment.conftest import CONFIG_PATH, ROOT

INSTANCE_DIR = ROOT / "deployment" / "dagster"
BIN = Path(sys.executable).parent
PAGES = ROOT / "tests" / "fixtures" / "cdr_fyi_pages"
TOKEN = "tok-live-5b0e33a1"
BUCKET = "cdr-dashboard-test"
LOGS_BUCKET = "cdr-dagster-logs-test"
LOGS_PREFIX = "dagster/test"
CODE_SERVER_READY_TIMEOUT_S = 180
RUN_TIMEOUT_S = 900  # a guard against a hang, not a speed check: the machine may be shared


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of our own for the module; a missing installation fails, never skips."""
    try:
        with running_postgres() as server:
            yield server
    except PostgresUnavailable as error:
        pytest.fail(str(error))


@pytest.mark.postgres
def test_postgresql_server_binaries_are_installed() -> None:
    try:
        bindir = server_bindir()
    except PostgresUnavailable as error:
        pytest.fail(str(error))
    assert all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "pg_isready", "postgres"))


# ---------------------------------------------------------------------------------------------
# Instance configuration
# ---------------------------------------------------------------------------------------------


def test_test_and_prod_instances_are_the_same_configuration() -> None:
    test = yaml.safe_load((INSTANCE_DIR / "test" / "dagster.yaml").read_text())
    prod = yaml.safe_load((INSTANCE_DIR / "prod" / "dagster.yaml").read_text())
    assert (
        test
        == prod
        == {
            "storage": {
                "postgres": {
                    "postgres_db": {
                        "hostname": {"env": "DAGSTER_PG_HOST"},
                        "port": {"env": "DAGSTER_PG_PORT"},
                        "username": {"env": "DAGSTER_PG_USERNAME"},
                        "password": {"env": "DAGSTER_PG_PASSWORD"},
                        "db_name": {"env": "DAGSTER_PG_DB"},
                        "scheme": "postgresql+psycopg2",
                        "params": {"sslmode": "require"},
                    }
                }
            },
            "compute_logs": {
                "module": "dagster_aws.s3.compute_log_manager",
                "class": "S3ComputeLogManager",
                "config": {
                    "bucket": {"env": "DAGSTER_COMPUTE_LOGS_BUCKET"},
                    "prefix": {"env": "DAGSTER_COMPUTE_LOGS_PREFIX"},
                    "skip_empty_files": True,
                    "upload_interval": 30,
                },
            },
            "run_launcher": {
                "module": "dagster_aws.ecs",
                "class": "EcsRunLauncher",
                "config": {
                    "task_definition": {"env": "DAGSTER_RUN_TASK_DEFINITION"},
                    "container_name": "run",
                    "secrets_tag": None,
                    "include_sidecars": False,
                    "use_current_ecs_task_config": True,
                },
            },
            "run_monitoring": {
                "enabled": True,
                "start_timeout_seconds": 600,
                "poll_interval_seconds": 60,
                "max_resume_run_attempts": 0,
                "free_slots_after_run_end_seconds": 30,
            },
            "run_retries": {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False},
            "concurrency": {"runs": {"max_concurrent_runs": 1}, "pools": {"default_limit": 1}},
            "telemetry": {"enabled": False},
        }
    )


def test_deployed_instances_retry_and_monitor_runs_like_the_local_one() -> None:
    """A bad input file fails once and alerts once everywhere: run-level retries only for a lost
    worker, never for a failed step, and the run time limit enforced (issue 12)."""
    import dev

    local = yaml.safe_load(dev.LOCAL_INSTANCE)
    deployed = yaml.safe_load((INSTANCE_DIR / "prod" / "dagster.yaml").read_text())
    assert local["run_retries"]["retry_on_asset_or_op_failure"] is False
    assert deployed["run_retries"] == {**local["run_retries"], "max_retries": 2}
    assert deployed["run_monitoring"]["enabled"] is local["run_monitoring"]["enabled"] is True
    # deployed, a lost run task is noticed within a minute, and resuming is off: a failed run is
    # retried by run_retries, from its failed step
    assert (deployed["run_monitoring"]["poll_interval_seconds"], deployed["run_monitoring"]["max_resume_run_attempts"]) == (60, 0)
    # a killed run's pool slots are freed, here and deployed (else its retry waits forever)
    assert (
        deployed["run_monitoring"]["free_slots_after_run_end_seconds"]
        == local["run_monitoring"]["free_slots_after_run_end_seconds"]
        == 30
    )
    # one publication at a time (the dashboard_publication pool), here and deployed
    assert deployed["concurrency"]["pools"] == local["concurrency"]["pools"] == {"default_limit": 1}


@pytest.mark.postgres
def test_weekly_refresh_of_the_test_deployment_is_recorded_in_postgres_with_logs_in_s3(
    postgres: PostgresServer, s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager

    s3.create_bucket(BUCKET)
    s3.create_bucket(LOGS_BUCKET)
    client = s3.client()
    # the two hand-dropped inputs, as a person puts them in the bucket
    dropped = {
        "raw/ccn_companies.csv": sample_bytes(CCN_COMPANIES_FILE),
        "raw/world_bank_carbon_pricing.csv": sample_bytes(CARBON_PRICING_FILE),
    }
    assert sorted(dropped) == sorted([CCN_INPUT_KEY, CARBON_PRICING_INPUT_KEY])
    for key, body in dropped.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE_DIR / "test" / "dagster.yaml", home / "dagster.yaml")
    instance_env = {
        **postgres.env(),
        "DAGSTER_HOME": str(home),
        "DAGSTER_COMPUTE_LOGS_BUCKET": LOGS_BUCKET,
        "DAGSTER_COMPUTE_LOGS_PREFIX": LOGS_PREFIX,
    }
    front_page = {"/": (200, (PAGES / "current.html").read_bytes())}
    with FakeCdrFyi(sample_tables(), TOKEN) as api, serving(front_page) as site:
        env = {
            **os.environ,
            **s3.env(),
            **instance_env,
            "DAGSTER_DEPLOYMENT": "test",
            "CDR_DASHBOARD_BUCKET": BUCKET,
            "CDR_FYI_API_TOKEN": TOKEN,
            "CDR_FYI_API_URL": api.base_url,
            "CDR_FYI_SITE_URL": site.url("/"),
        }
        # the run's output goes to a file, so a run that hangs still shows how far it got
        log = tmp_path / "weekly_refresh.log"
        with open(log, "w") as out:
            run = subprocess.Popen(
                [str(BIN / "dagster"), "job", "execute", "-m", "cdr_dagster.definitions", "-j", "weekly_refresh"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                returncode = run.wait(timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                run.kill()
                run.wait()
                pytest.fail(f"weekly_refresh did not end within {RUN_TIMEOUT_S} s; its output ends:\n{log.read_text()[-4000:]}")
    assert returncode == 0, log.read_text()[-4000:]

    # the run and its events are in PostgreSQL, read over TCP with the password (the server
    # rejects any connection without TLS: the run got there with the instance's sslmode=require)
    with postgres.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT run_id, pipeline_name, status FROM runs")
        [(run_id, job_name, status)] = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
            (run_id, DagsterEventType.RUN_SUCCESS.value),
        )  # stored as PIPELINE_SUCCESS
        assert (job_name, status, cursor.fetchone()[0]) == ("weekly_refresh", "SUCCESS", 1)
    # nothing went to the local folder: no SQLite history, no telemetry
    assert sorted(p.name for p in home.iterdir()) == ["dagster.yaml"]

    # the same instance, as the webserver and the daemon load it
    for name, value in {**s3.env(), **instance_env}.items():
        monkeypatch.setenv(name, value)
    instance = DagsterInstance.from_config(str(home))
    try:
        [record] = instance.get_runs()
        assert (record.run_id, record.job_name, record.status) == (run_id, "weekly_refresh", DagsterRunStatus.SUCCESS)
        assert (
            type(instance.run_storage).__name__,
            type(instance.event_log_storage).__name__,
            type(instance.schedule_storage).__name__,
        ) == ("PostgresRunStorage", "PostgresEventLogStorage", "PostgresScheduleStorage")
        assert isinstance(instance.compute_log_manager, S3ComputeLogManager)
        assert (instance.run_retries_enabled, instance.run_retries_max_retries, instance.telemetry_enabled) == (True, 2, False)
        captured = instance.all_logs(run_id, of_type=DagsterEventType.LOGS_CAPTURED)
        steps = instance.all_logs(run_id, of_type=DagsterEventType.STEP_SUCCESS)
    finally:
        instance.dispose()

    # every step's stderr is in the logs bucket, under the prefix, one file per capturing process
    log_keys = {o["Key"] for o in client.list_objects_v2(Bucket=LOGS_BUCKET).get("Contents", [])}
    expected = {
        f"{LOGS_PREFIX}/storage/{run_id}/compute_logs/{e.dagster_event.event_specific_data.file_key}.err" for e in captured
    }
    assert len(captured) >= 1 and len(steps) > 0  # the in-process executor: one capture per run process
    assert {k for k in log_keys if k.endswith(".err")} == expected
    assert {k for k in log_keys if not k.endswith(".err")} <= {k[:-4] + ".out" for k in expected}

    # and the page's files are published in the deployment's bucket: the seven datasets, the
    # manifest and its archive copy
    body = client.get_object(Bucket=BUCKET, Key="processed/manifest.json")["Body"].read()
    manifest = json.loads(body)
    stamp = utc_date_stamp()
    assert len(DATASETS) == 7 and "carbon_pricing" in DATASETS
    assert manifest["deployment"] == "test"
    assert {d: e["key"] for d, e in manifest["datasets"].items()} == {d: f"processed/{d}_{stamp}.csv" for d in DATASETS}
    published = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix="processed/")["Contents"]}
    [archived] = [k for k in published if k.startswith("processed/manifests/")]
    assert re.fullmatch(rf"processed/manifests/{stamp}T\d{{6}}Z\.json", archived)
    assert client.get_object(Bucket=BUCKET, Key=archived)["Body"].read() == body
    assert published == {f"processed/{d}_{stamp}.csv" for d in DATASETS} | {"processed/manifest.json", archived}
    # the hand-dropped inputs are as they were dropped
    for key, dropped_body in dropped.items():
        assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == dropped_body

    # rollback-data finds the pipeline's archive and says there is nothing before it
    rollback = subprocess.run(
        [sys.executable, str(ROOT / "deployment" / "deploy.py"), "rollback-data", "test", "--dry-run"],
        cwd=ROOT,
        env={**os.environ, **s3.env()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (rollback.returncode, rollback.stderr) == (
        3,
        "deploy: nothing to roll back to: no archive under processed/manifests/ is older than the live manifest "
        f"({archived.removeprefix('processed/manifests/').removesuffix('.json')})\n",
    )


@pytest.mark.postgres
def test_the_local_server_speaks_tls_only_like_the_instance_asks(postgres: PostgresServer) -> None:
    import psycopg2

    with postgres.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cursor.fetchone() == (True,)
    with pytest.raises(psycopg2.OperationalError, match="no encryption"):
        postgres.connect(sslmode="disable")


# ---------------------------------------------------------------------------------------------
# The container image and the code location
# ---------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in joined.splitlines() if line.strip()]


def test_dockerfile_installs_the_locked_package_and_serves_the_code_location() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim-bookworm")
    runs = [args for name, args in instructions if name == "RUN"]
    assert any(args.startswith("pip install -c constraints.txt . ") for args in runs)
    [cmd] = [json.loads(args) for name, args in instructions if name == "CMD"]
    assert cmd == ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "cdr_dagster.definitions"]
    assert ("USER", "dagster") in instructions


def test_dockerignore_lets_in_exactly_what_the_dockerfile_copies() -> None:
    rules = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*"  # everything else (.git, .venv, data, any .env) stays out
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied = set()
    for name, args in dockerfile_instructions():
        if name == "COPY":
            sources = [a for a in args.split() if not a.startswith("--")][:-1]
            copied |= set(sources)
    assert copied == allowed == {"pyproject.toml", "constraints.txt", "README.md", "cdr_dagster", "deployment/dagster"}
    assert all((ROOT / path).exists() for path in copied)


LOAD_CODE_LOCATION = """
import json, sys
from cdr_dagster.definitions import build_definitions
import cdr_dagster
definitions = build_definitions("test")
job = definitions.resolve_job_def("weekly_refresh")
local = sorted({m.split(".")[0] for m in sys.modules} & {"devtools", "dashboard", "presign_lambda", "deployment", "tests", "bench"})
print(json.dumps({"package": cdr_dagster.__file__, "job": job.name, "project_modules": local}))
"""


@pytest.mark.e2e
def test_the_image_installs_the_package_from_what_it_copies_and_the_code_location_loads(tmp_path: Path) -> None:
    """The Dockerfile's install, done here: a build context holding only what it copies before
    ``pip install .``, a (non-editable) wheel of it, and the code location loaded from that alone,
    with no checkout on the path: cdr_dagster needs nothing of devtools/, dashboard/ or presign_lambda/."""
    instructions = dockerfile_instructions()
    install = next(i for i, (name, args) in enumerate(instructions) if name == "RUN" and args.startswith("pip install"))
    context = tmp_path / "context"
    context.mkdir()
    for name, args in instructions[:install]:
        if name == "COPY":
            for source in [a for a in args.split() if not a.startswith("--")][:-1]:
                if (ROOT / source).is_dir():
                    shutil.copytree(ROOT / source, context / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                else:
                    shutil.copy2(ROOT / source, context / source)
    assert sorted(p.name for p in context.iterdir()) == ["README.md", "cdr_dagster", "constraints.txt", "pyproject.toml"]

    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", str(tmp_path / "wheels"), str(context)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    [wheel] = (tmp_path / "wheels").glob("*.whl")
    lib = tmp_path / "lib"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(lib)
    assert {n.split("/")[0] for n in names} == {
        "cdr_dagster",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }
    assert {f"cdr_dagster/sample_data/{f}" for f in ("ccn_companies.csv", "world_bank_carbon_pricing.csv")} <= set(names)

    # -S: no site-packages .pth files, so no editable install of this checkout; the dependencies
    # come from the virtualenv's site-packages, the package from the wheel only
    site_packages = sysconfig.get_paths()["purelib"]
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join([str(lib), site_packages]),
        "DAGSTER_HOME": str(tmp_path),
        "DAGSTER_DEPLOYMENT": "test",
        "CDR_DASHBOARD_BUCKET": BUCKET,
        "AWS_DEFAULT_REGION": "ca-central-1",
    }
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    run = subprocess.run(
        [sys.executable, "-S", "-c", LOAD_CODE_LOCATION], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    loaded = json.loads(run.stdout.splitlines()[-1])
    assert loaded == {"package": str(lib / "cdr_dagster" / "__init__.py"), "job": "weekly_refresh", "project_modules": []}


def test_dagster_cloud_yaml_names_the_code_location_of_pyproject_and_deployments_toml() -> None:
    locations = yaml.safe_load((ROOT / "dagster_cloud.yaml").read_text())["locations"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dg"]["project"]
    assert (
        [(loc["location_name"], loc["code_source"]) for loc in locations]
        == [(project["code_location_name"], {"module_name": project["code_location_target_module"]})]
        == [("cdr_dagster", {"module_name": "cdr_dagster.definitions"})]
    )
    assert load_config(CONFIG_PATH).location == project["code_location_name"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_health(port: int, server: subprocess.Popen) -> None:
    """Poll the code server's gRPC health check until it serves (or it dies, or time runs out)."""
    deadline = time.monotonic() + CODE_SERVER_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the code server exited with {server.returncode}"
        check = subprocess.run(
            [str(BIN / "dagster"), "api", "grpc-health-check", "-h", "127.0.0.1", "-p", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check.returncode == 0:
            return
    pytest.fail(f"the code server did not serve on port {port} within {CODE_SERVER_READY_TIMEOUT_S} s")


def test_the_images_command_serves_the_code_location_to_the_oss_workspace(tmp_path: Path) -> None:
    [cmd] = [json.loads(args) for name, args in dockerfile_instructions() if name == "CMD"]
    port = _free_port()
    cmd[cmd.index("-h") + 1], cmd[cmd.index("-p") + 1] = "127.0.0.1", str(port)
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "DAGSTER_HOME": str(tmp_path),
        "DAGSTER_DEPLOYMENT": "test",
        "CDR_DASHBOARD_BUCKET": BUCKET,
        "DAGSTER_CODE_SERVER_HOST": "127.0.0.1",
        "DAGSTER_CODE_SERVER_PORT": str(port),
    }
    with open(tmp_path / "code-server.log", "w") as log:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_health(port, server)
        listing = subprocess.run(
            [str(BIN / "dagster"), "job", "list", "-w", str(INSTANCE_DIR / "workspace.yaml")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        stop(server, timeout=30)  # how the test tears its server down, not what it checks
    assert listing.returncode == 0, listing.stdout + listing.stderr + (tmp_path / "code-server.log").read_text()[-3000:]
    assert "Job: weekly_refresh" in listing.stdout.splitlines()
