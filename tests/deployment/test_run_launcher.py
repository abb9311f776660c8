"""Each run is its own ECS task: the deployments' own instance files load dagster-aws's
EcsRunLauncher, and a run launched through it against moto's ECS (over HTTP, as AWS's) uses the
stack's run task definition: the deployed commit's image, the run's secrets, the run's tags and
the `dagster api execute_run` command. The daemon's own task (its cluster, subnet and security
group, which the launcher copies) is a task moto runs, found through a local stand-in of the ECS
task metadata endpoint."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from devtools.postgres import PostgresServer, PostgresUnavailable, running_postgres
from devtools.s3_server import S3Server
from devtools.static_site import serving
from devtools.task_definitions import task_definitions
from tests.deployment.conftest import ROOT
from tests.deployment.test_dagster_stack import SHA, environment, secrets, stacks

INSTANCE_DIR = ROOT / "deployment" / "dagster"
BIN = ROOT / ".venv" / "bin"
LAUNCH_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    try:
        with running_postgres() as server:
            yield server
    except PostgresUnavailable as error:
        pytest.fail(str(error))


def ecs_like_the_stack(deployment: str) -> dict[str, str]:
    """In moto: the network, the cluster, the stack's daemon and run task definitions, and the
    daemon's task running. Returns the names the test needs."""
    dagster, _ = stacks(deployment)
    ec2, ecs = boto3.client("ec2"), boto3.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    cluster = ecs.create_cluster(clusterName=dagster.properties("Cluster")["ClusterName"])["cluster"]["clusterArn"]
    registrations = {c.task_definition: c.registration for c in task_definitions(dagster).values()}
    arns = {
        name: ecs.register_task_definition(**registrations[name])["taskDefinition"]["taskDefinitionArn"]
        for name in ("DaemonTaskDefinition", "RunTaskDefinition")
    }
    daemon = ecs.run_task(
        cluster=cluster,
        taskDefinition=arns["DaemonTaskDefinition"],
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}
        },
    )["tasks"][0]["taskArn"]
    return {"cluster": cluster, "subnet": subnet, "group": group, "daemon": daemon, "run_definition": arns["RunTaskDefinition"]}


def instance_env(postgres: PostgresServer, s3: S3Server, home: Path, run_definition: str) -> dict[str, str]:
    """What the daemon's container gets from the stack, with local stand-ins for the values."""
    return {
        **postgres.env(),
        **s3.env(),
        "AWS_ENDPOINT_URL": s3.endpoint_url,  # every AWS service at moto
        "DAGSTER_HOME": str(home),
        "DAGSTER_COMPUTE_LOGS_BUCKET": "cdr-dagster-logs-test",
        "DAGSTER_COMPUTE_LOGS_PREFIX": "dagster",
        "DAGSTER_RUN_TASK_DEFINITION": run_definition,
    }


@pytest.mark.postgres
@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_the_deployments_instance_files_load_with_the_ecs_run_launcher(
    deployment: str, postgres: PostgresServer, s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterInstance
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_aws.ecs import EcsRunLauncher

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint_url)
    ecs = ecs_like_the_stack(deployment)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(INSTANCE_DIR / deployment / "dagster.yaml", home / "dagster.yaml")
    dagster, _ = stacks(deployment)
    family = environment(dagster.properties("DaemonTaskDefinition")["ContainerDefinitions"][0])["DAGSTER_RUN_TASK_DEFINITION"]
    for name, value in instance_env(postgres, s3, home, family).items():
        monkeypatch.setenv(name, value)
    instance = DagsterInstance.from_config(str(home))
    try:
        launcher = instance.run_launcher
        assert isinstance(launcher, EcsRunLauncher)
        # the family the stack gives, resolved once to its ACTIVE revision: that exact definition
        assert launcher.task_definition == ecs["run_definition"]
        assert (launcher.container_name, launcher.secrets_tags, launcher.use_current_ecs_task_config) == ("run", [], True)
        assert launcher.supports_check_run_worker_health  # run monitoring can see a lost run task
        assert instance.run_monitoring_enabled and instance.run_retries_enabled
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    finally:
        instance.dispose()


@pytest.mark.postgres
def test_a_launched_run_is_a_task_of_the_stacks_run_definition_with_its_image_secrets_tags_and_command(
    postgres: PostgresServer, s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterInstance, DagsterRunStatus
    from dagster._core.launcher import LaunchRunContext
    from dagster._grpc.types import ExecuteRunArgs
    from dagster._serdes import deserialize_value

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint_url)
    ecs_names = ecs_like_the_stack("test")
    # ECS's task metadata endpoint (v4) of the daemon's task: what ECS_CONTAINER_METADATA_URI_V4 serves
    task = json.dumps({"Cluster": ecs_names["cluster"], "TaskARN": ecs_names["daemon"]}).encode()
    metadata = contextlib.ExitStack()
    site = metadata.enter_context(serving({"/task": (200, task)}))
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(INSTANCE_DIR / "test" / "dagster.yaml", home / "dagster.yaml")
    env = {**instance_env(postgres, s3, home, "cdr-dagster-run-test"), "ECS_CONTAINER_METADATA_URI_V4": site.url("")}
    try:
        # a run submitted as the webserver or the schedule does: it waits in the queue
        queued = subprocess.run(
            [str(BIN / "dagster"), "job", "launch", "-m", "cdr_dagster.definitions", "-j", "weekly_refresh"],
            cwd=ROOT,
            env={**os.environ, **env, "DAGSTER_DEPLOYMENT": "test", "CDR_DASHBOARD_BUCKET": "cdr-dashboard-test"},
            capture_output=True,
            text=True,
            timeout=LAUNCH_TIMEOUT_S,
        )
        assert queued.returncode == 0, queued.stderr[-3000:]
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        instance = DagsterInstance.from_config(str(home))
        try:
            [run] = instance.get_runs()
            assert run.status == DagsterRunStatus.QUEUED
            # what the daemon's queue does with it: the instance's launcher launches it
            instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
            tags = instance.get_run_by_id(run.run_id).tags  # type: ignore[union-attr]
        finally:
            instance.dispose()
    finally:
        metadata.close()

    ecs = boto3.client("ecs")
    [task_arn] = ecs.list_tasks(cluster=ecs_names["cluster"], family="cdr-dagster-run-test")["taskArns"]
    assert tags["ecs/task_arn"] == task_arn
    [task] = ecs.describe_tasks(cluster=ecs_names["cluster"], tasks=[task_arn], include=["TAGS"])["tasks"]
    # the stack's run task definition, as registered: pinned image, pipeline role, the run's secrets
    assert task["taskDefinitionArn"] == ecs_names["run_definition"]
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    [container] = definition["containerDefinitions"]
    dagster, dashboard = stacks("test")
    assert container["image"] == f"123456789012.dkr.ecr.ca-central-1.amazonaws.com/cdr-dagster-test:{SHA}"
    assert definition["taskRoleArn"] == dashboard.get_att("PipelineRole", "Arn")
    template_container = dagster.properties("RunTaskDefinition")["ContainerDefinitions"][0]
    assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == secrets(template_container)
    # the run's tags and its command: `dagster api execute_run` with this run, no secret in it
    task_tags = {t["key"]: t["value"] for t in task["tags"]}
    assert (task_tags["dagster/run_id"], task_tags["dagster/job_name"]) == (run.run_id, "weekly_refresh")
    [override] = task["overrides"]["containerOverrides"]
    assert override["name"] == "run"
    assert override["command"][:3] == ["dagster", "api", "execute_run"]
    args = deserialize_value(override["command"][3], ExecuteRunArgs)
    assert args.run_id == run.run_id
    assert postgres.password not in override["command"][3]
    assert args.instance_ref is not None
    assert args.instance_ref.run_storage_data.config_yaml.count("DAGSTER_PG_PASSWORD") >= 1
    # in the daemon's network, never with a public address
    [attachment] = task["attachments"]
    details = {d["name"]: d["value"] for d in attachment["details"]}
    assert details["subnetId"] == ecs_names["subnet"]
