"""deployment/dagster_stack.yaml, the Dagster tier: who may do what (asked of the policy evaluator,
over both stacks' roles), and that the task definitions agree with the instance files, the
workspace, the Dockerfile, deployments.toml and docs/deployment.md."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdr_dagster.domain import layout
from deployment.deploy import load_config
from devtools.task_definitions import ACCOUNT, load_template
from tests.deployment.cloudformation import Stack, allowed
from tests.deployment.conftest import CONFIG_PATH, ROOT

DAGSTER_STACK = ROOT / "deployment" / "dagster_stack.yaml"
DASHBOARD_STACK = ROOT / "deployment" / "template.yaml"
INSTANCE_DIR = ROOT / "deployment" / "dagster"
SHA = "0123456789abcdef0123456789abcdef01234567"
TASK_DEFINITIONS = {
    "CodeServerTaskDefinition": "code-server",
    "WebserverTaskDefinition": "webserver",
    "DaemonTaskDefinition": "daemon",
    "RunTaskDefinition": "run",
}
SECRET_VARIABLES = {"DAGSTER_PG_PASSWORD", "CDR_FYI_API_TOKEN", "SLACK_WEBHOOK_URL"}


def defaults(template: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in template["Parameters"].items():
        default = spec.get("Default")
        values[name] = str(default).split(",") if spec["Type"] == "CommaDelimitedList" else default
    return values


def stacks(deployment: str) -> tuple[Stack, Stack]:
    """The Dagster stack and the dashboard stack of one deployment, resolved."""
    dagster = load_template(DAGSTER_STACK)
    dashboard = load_template(DASHBOARD_STACK)
    dagster_parameters = {
        **defaults(dagster),
        "Deployment": deployment,
        "ImageTag": SHA,
        "VpcId": "vpc-1",
        "PrivateSubnetIds": ["subnet-a", "subnet-b"],
    }
    return Stack(dagster, dagster_parameters), Stack(dashboard, {**defaults(dashboard), "Deployment": deployment})


def role_arn(stack: Stack, name: str) -> str:
    return str(stack.get_att(name, "Arn"))


def every_role(deployment: str) -> dict[str, list[dict[str, Any]]]:
    """Every role of both stacks with its statements, including the Dagster stack's policy that it
    attaches, by name, to the dashboard stack's deployer role."""
    dagster, dashboard = stacks(deployment)
    roles = {**dagster.roles(), **dashboard.roles()}
    for name, resource in dagster.template["Resources"].items():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            policy = dagster.properties(name)
            for role_name in policy.get("Roles", []):
                roles[f"arn:aws:iam::{ACCOUNT}:role/{role_name}"] += policy["PolicyDocument"]["Statement"]
    return roles


def containers(stack: Stack) -> dict[str, dict[str, Any]]:
    """Container name -> its definition (each task definition has one container)."""
    found = {}
    for resource, name in TASK_DEFINITIONS.items():
        [container] = stack.properties(resource)["ContainerDefinitions"]
        assert container["Name"] == name
        found[name] = container
    return found


def environment(container: dict[str, Any]) -> dict[str, str]:
    return {item["Name"]: item["Value"] for item in container.get("Environment", [])}


def secrets(container: dict[str, Any]) -> dict[str, str]:
    return {item["Name"]: item["ValueFrom"] for item in container.get("Secrets", [])}


def secret_arn(value_from: str) -> str:
    """The secret a ValueFrom names (``<arn>:<json key>:<stage>:<version>`` or the ARN)."""
    return ":".join(value_from.split(":")[:7])


def env_references(node: Any) -> set[str]:
    """Every ``{env: NAME}`` of a Dagster YAML file."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(env_references(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(env_references(v) for v in node)) if node else set()
    return set()


# ---------------------------------------------------------------------------------------------
# Who may do what
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_only_the_pipeline_writes_processed_and_the_deployer_only_puts_a_manifest_back(deployment: str) -> None:
    dagster, dashboard = stacks(deployment)
    bucket = f"cdr-dashboard-{deployment}"
    policy = dashboard.bucket_policy(bucket)
    pipeline = role_arn(dashboard, "PipelineRole")
    deployer = role_arn(dashboard, "DeployerRole")
    roles = every_role(deployment)
    writers = {
        key: {
            arn
            for arn, identity in roles.items()
            if allowed(identity, policy, arn, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")
        }
        for key in ("processed/cdr_purchases_20260105.csv", "processed/manifest.json")
    }
    assert writers == {"processed/cdr_purchases_20260105.csv": {pipeline}, "processed/manifest.json": {pipeline, deployer}}
    # the run task runs as the pipeline role, and nothing else of the Dagster tier writes the bucket
    assert dagster.properties("RunTaskDefinition")["TaskRoleArn"] == pipeline
    for task in ("CodeServerTaskDefinition", "WebserverTaskDefinition", "DaemonTaskDefinition"):
        role = dagster.properties(task)["TaskRoleArn"]
        assert not any(
            allowed(roles[role], policy, role, action, f"arn:aws:s3:::{bucket}/{prefix}/x")
            for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject")
            for prefix in ("raw", "staging", "processed")
        )


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_the_daemon_passes_only_the_run_roles_and_the_deployer_only_task_roles_to_ecs_tasks(deployment: str) -> None:
    dagster, dashboard = stacks(deployment)
    roles = every_role(deployment)
    passes = {
        (who, whom, service)
        for who, identity in roles.items()
        for whom in roles
        for service in ("ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "cloudformation.amazonaws.com")
        if allowed(identity, [], who, "iam:PassRole", whom, {"iam:PassedToService": service})
    }
    daemon = role_arn(dagster, "DaemonTaskRole")
    run_roles = {dagster.properties("RunTaskDefinition")[key] for key in ("TaskRoleArn", "ExecutionRoleArn")}
    assert run_roles == {role_arn(dashboard, "PipelineRole"), role_arn(dagster, "RunExecutionRole")}
    # the deployer's stack update registers the four task definitions, so it passes their roles
    deployer = role_arn(dashboard, "DeployerRole")
    task_roles = {dagster.properties(task)[key] for task in TASK_DEFINITIONS for key in ("TaskRoleArn", "ExecutionRoleArn")}
    assert len(task_roles) == 8
    assert passes == {(daemon, role, "ecs-tasks.amazonaws.com") for role in run_roles} | {
        (deployer, role, "ecs-tasks.amazonaws.com") for role in task_roles
    }


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_the_daemon_runs_only_the_run_task_definition_in_its_cluster(deployment: str) -> None:
    dagster, _ = stacks(deployment)
    daemon = dagster.role_statements("DaemonTaskRole")
    arn = role_arn(dagster, "DaemonTaskRole")
    cluster = {"ecs:cluster": f"arn:aws:ecs:ca-central-1:{ACCOUNT}:cluster/cdr-dagster-{deployment}"}
    run_definition = str(dagster.ref("RunTaskDefinition"))
    assert allowed(daemon, [], arn, "ecs:RunTask", run_definition, cluster)
    assert not allowed(
        daemon, [], arn, "ecs:RunTask", run_definition, {"ecs:cluster": "arn:aws:ecs:ca-central-1:1:cluster/other"}
    )
    for other in ("CodeServerTaskDefinition", "WebserverTaskDefinition", "DaemonTaskDefinition"):
        assert not allowed(daemon, [], arn, "ecs:RunTask", str(dagster.ref(other)), cluster)
    task = f"arn:aws:ecs:ca-central-1:{ACCOUNT}:task/cdr-dagster-{deployment}/abc"
    assert allowed(daemon, [], arn, "ecs:TagResource", task, {"ecs:CreateAction": "RunTask"})
    assert not allowed(daemon, [], arn, "ecs:TagResource", task, {"ecs:CreateAction": "CreateService"})
    assert all(allowed(daemon, [], arn, action, task) for action in ("ecs:DescribeTasks", "ecs:StopTask"))


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_each_secret_is_read_only_by_the_execution_roles_of_the_containers_given_it(deployment: str) -> None:
    dagster, _ = stacks(deployment)
    roles = every_role(deployment)
    secret_resources = ("DatabaseSecret", "CdrFyiTokenSecret", "SlackWebhookSecret")
    readers = {
        name: {
            arn
            for arn, identity in roles.items()
            if allowed(identity, [], arn, "secretsmanager:GetSecretValue", str(dagster.ref(name)))
        }
        for name in secret_resources
    }
    # what each container gets as task Secrets decides who may read what, and nothing more
    expected: dict[str, set[str]] = {name: set() for name in secret_resources}
    by_arn = {str(dagster.ref(name)): name for name in secret_resources}
    for resource in TASK_DEFINITIONS:
        definition = dagster.properties(resource)
        [container] = definition["ContainerDefinitions"]
        for value_from in secrets(container).values():
            expected[by_arn[secret_arn(value_from)]].add(definition["ExecutionRoleArn"])
    assert readers == expected
    execution = {name: role_arn(dagster, f"{name}ExecutionRole") for name in ("CodeServer", "Webserver", "Daemon", "Run")}
    assert readers == {
        "DatabaseSecret": set(execution.values()),
        "CdrFyiTokenSecret": {execution["Run"]},
        "SlackWebhookSecret": {execution["CodeServer"], execution["Run"]},
    }
    # no task role (the containers' own code) reads a secret through the API
    task_roles = {dagster.properties(r)["TaskRoleArn"] for r in TASK_DEFINITIONS}
    assert not any(task_roles & readers[name] for name in secret_resources)


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_the_webserver_reads_the_compute_logs_and_nothing_else_of_the_tier_does(deployment: str) -> None:
    dagster, dashboard = stacks(deployment)
    logs = f"cdr-dagster-logs-{deployment}"
    policy = dashboard.bucket_policy(logs)
    roles = every_role(deployment)
    readers = {
        arn
        for arn, identity in roles.items()
        if allowed(identity, policy, arn, "s3:GetObject", f"arn:aws:s3:::{logs}/dagster/x.out")
    }
    writers = {
        arn
        for arn, identity in roles.items()
        if allowed(identity, policy, arn, "s3:PutObject", f"arn:aws:s3:::{logs}/dagster/x.out")
    }
    assert readers == {role_arn(dagster, "WebserverTaskRole"), role_arn(dashboard, "PipelineRole")}
    assert writers == {role_arn(dashboard, "PipelineRole")}


# ---------------------------------------------------------------------------------------------
# The task definitions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_every_task_runs_the_image_of_the_deployed_commit_from_the_deployments_repository(deployment: str) -> None:
    dagster, _ = stacks(deployment)
    image = f"{ACCOUNT}.dkr.ecr.ca-central-1.amazonaws.com/cdr-dagster-{deployment}:{SHA}"
    assert {name: c["Image"] for name, c in containers(dagster).items()} == dict.fromkeys(TASK_DEFINITIONS.values(), image)
    assert dagster.template["Parameters"]["ImageTag"]["AllowedPattern"] == "^[0-9a-f]{40}$"  # a commit, never a tag
    repository = dagster.properties("ImageRepository")
    assert repository["ImageTagMutability"] == "IMMUTABLE"
    assert repository["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert json.loads(repository["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_secrets_reach_containers_only_as_task_secrets(deployment: str) -> None:
    dagster, _ = stacks(deployment)
    secret_arns = {
        str(dagster.ref(r)) for r, body in dagster.template["Resources"].items() if body["Type"] == "AWS::SecretsManager::Secret"
    }
    for name, container in containers(dagster).items():
        env = environment(container)
        assert not SECRET_VARIABLES & set(env), name
        assert not any("resolve:secretsmanager" in str(v) or any(a in str(v) for a in secret_arns) for v in env.values()), name
        assert set(secrets(container)) <= SECRET_VARIABLES
        assert {secret_arn(v) for v in secrets(container).values()} <= secret_arns
    # the database password is the generated secret's, in RDS and in the containers alike
    database = dagster.properties("Database")
    assert (
        database["MasterUserPassword"] == f"{{{{resolve:secretsmanager:{dagster.ref('DatabaseSecret')}:SecretString:password}}}}"
    )
    assert secrets(containers(dagster)["run"])["DAGSTER_PG_PASSWORD"] == f"{dagster.ref('DatabaseSecret')}:password::"


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_every_variable_the_instance_and_workspace_read_is_given_to_each_container_that_loads_them(deployment: str) -> None:
    dagster, _ = stacks(deployment)
    instance_vars = env_references(yaml.safe_load((INSTANCE_DIR / deployment / "dagster.yaml").read_text()))
    workspace_vars = env_references(yaml.safe_load((INSTANCE_DIR / "workspace.yaml").read_text()))
    assert {"DAGSTER_PG_PASSWORD", "DAGSTER_RUN_TASK_DEFINITION"} <= instance_vars
    assert workspace_vars == {"DAGSTER_CODE_SERVER_HOST", "DAGSTER_CODE_SERVER_PORT"}
    for name, container in containers(dagster).items():
        given = set(environment(container)) | set(secrets(container))
        assert instance_vars <= given, f"{name} lacks {sorted(instance_vars - given)}"
        assert environment(container)["DAGSTER_HOME"] == f"/opt/dagster/instance/{deployment}"
        assert environment(container)["DAGSTER_DEPLOYMENT"] == deployment
    for name in ("webserver", "daemon"):  # the two that load the workspace
        assert workspace_vars <= set(environment(containers(dagster)[name]))
    # the code location's own settings, where its code runs (the run; the code server's sensors)
    for name in ("code-server", "run"):
        assert environment(containers(dagster)[name])["CDR_DASHBOARD_BUCKET"] == f"cdr-dashboard-{deployment}"
    assert "CDR_FYI_API_TOKEN" in secrets(containers(dagster)["run"])


def dockerfile() -> list[tuple[str, str]]:
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in joined.splitlines() if line.strip()]


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_commands_ports_and_names_agree_with_the_dockerfile_the_instance_and_deployments_toml(deployment: str) -> None:
    dagster, _ = stacks(deployment)
    found = containers(dagster)
    instructions = dockerfile()
    assert not [i for i in instructions if i[0] == "ENTRYPOINT"]  # it would be put before the launcher's command
    [cmd] = [json.loads(args) for name, args in instructions if name == "CMD"]
    assert found["code-server"]["Command"] == cmd
    assert "Command" not in found["run"]  # RunTask gives `dagster api execute_run <json>`
    [copy] = [args for name, args in instructions if name == "COPY" and "deployment/dagster" in args]
    instance_root = copy.split()[-1]
    workspace = f"{instance_root}/workspace.yaml"
    assert found["webserver"]["Command"] == ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", workspace]
    assert found["daemon"]["Command"] == ["dagster-daemon", "run", "-w", workspace]
    # ports: the mapping, the commands, the image, the workspace's variables
    ports = dagster.template["Mappings"]["Ports"]
    code_port = ports["CodeServer"]["Port"]
    assert cmd[cmd.index("-p") + 1] == str(code_port) and ("EXPOSE", str(code_port)) in instructions
    assert found["code-server"]["PortMappings"] == [{"ContainerPort": code_port, "Protocol": "tcp"}]
    assert found["webserver"]["PortMappings"] == [{"ContainerPort": ports["Webserver"]["Port"], "Protocol": "tcp"}]
    assert found["code-server"]["HealthCheck"]["Command"] == ["CMD", "dagster", "api", "grpc-health-check", "-p", str(code_port)]
    namespace = dagster.properties("Namespace")["Name"]
    discovery = dagster.properties("CodeServerDiscovery")["Name"]
    for name in ("webserver", "daemon"):
        env = environment(found[name])
        assert (env["DAGSTER_CODE_SERVER_HOST"], env["DAGSTER_CODE_SERVER_PORT"]) == (f"{discovery}.{namespace}", str(code_port))
    # the run launcher's names
    launcher = yaml.safe_load((INSTANCE_DIR / deployment / "dagster.yaml").read_text())["run_launcher"]["config"]
    assert launcher["container_name"] == "run"
    family = dagster.properties("RunTaskDefinition")["Family"]
    assert {environment(c)["DAGSTER_RUN_TASK_DEFINITION"] for c in found.values()} == {family}
    # deployments.toml names what the stack creates
    config = load_config(CONFIG_PATH).deployments[deployment].values
    assert config["dagster_stack"] == f"cdr-dagster-{deployment}"
    assert config["ecs_cluster"] == dagster.properties("Cluster")["ClusterName"]
    assert config["run_task_family"] == family
    services = {dagster.properties(s)["ServiceName"] for s in ("CodeServerService", "WebserverService", "DaemonService")}
    assert set(config["ecs_services"].split(",")) == services


def test_there_is_never_more_than_one_daemon_even_during_a_deploy() -> None:
    dagster, _ = stacks("prod")
    daemon = dagster.properties("DaemonService")
    assert daemon["DesiredCount"] == 1
    assert (daemon["DeploymentConfiguration"]["MaximumPercent"], daemon["DeploymentConfiguration"]["MinimumHealthyPercent"]) == (
        100,
        0,
    )


def test_the_database_is_private_encrypted_tls_only_backed_up_and_protected() -> None:
    dagster, _ = stacks("prod")
    database = dagster.properties("Database")
    assert database["PubliclyAccessible"] is False and database["StorageEncrypted"] is True
    assert database["BackupRetentionPeriod"] >= 7 and database["DeletionProtection"] is True
    assert dagster.template["Resources"]["Database"]["DeletionPolicy"] == "Snapshot"
    assert dagster.properties("DatabaseParameters")["Parameters"] == {"rds.force_ssl": "1"}
    instance = yaml.safe_load((INSTANCE_DIR / "prod" / "dagster.yaml").read_text())
    assert instance["storage"]["postgres"]["postgres_db"]["params"] == {"sslmode": "require"}
    # only the tasks reach it, on its port
    [ingress] = dagster.properties("DatabaseSecurityGroup")["SecurityGroupIngress"]
    assert ingress["SourceSecurityGroupId"] == "<TasksSecurityGroup>"
    assert ingress["FromPort"] == ingress["ToPort"] == database["Port"]


def test_nothing_is_reachable_from_outside_the_vpc() -> None:
    """No load balancer, no public address, and the tasks' group lets in only the code server's
    port from the tasks themselves: the webserver's way in is ECS Exec port forwarding."""
    dagster, _ = stacks("prod")
    kinds = {body["Type"] for body in dagster.template["Resources"].values()}
    assert not {k for k in kinds if k.startswith(("AWS::ElasticLoadBalancing", "AWS::ApiGateway", "AWS::CloudFront"))}
    for service in ("CodeServerService", "WebserverService", "DaemonService"):
        assert dagster.properties(service)["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert "SecurityGroupIngress" not in dagster.properties("TasksSecurityGroup")
    ingress = dagster.properties("CodeServerFromTasks")
    assert (ingress["SourceSecurityGroupId"], ingress["FromPort"]) == ("<TasksSecurityGroup>", 4000)
    assert dagster.properties("WebserverService")["EnableExecuteCommand"] is True


# ---------------------------------------------------------------------------------------------
# What expires in the bucket
# ---------------------------------------------------------------------------------------------


def expiring_rules(bucket: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in bucket["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r and r["Status"] == "Enabled"]


def test_each_runs_own_folders_expire_after_30_days_and_nothing_else_of_the_bucket_does() -> None:
    _, dashboard = stacks("prod")
    rules = expiring_rules(dashboard.properties("DashboardBucket"))
    assert {r["ExpirationInDays"] for r in rules} == {30}

    def matching(key: str) -> list[str]:
        return [r["Id"] for r in rules if key.startswith(r["Prefix"])]

    # every run id (Dagster's are UUIDs) under both folders: each first three characters
    hexdigits = "0123456789abcdef"
    for a in hexdigits:
        for b in hexdigits:
            for c in hexdigits:
                run_id = f"{a}{b}{c}{uuid.uuid4().hex[3:8]}-0000-4000-8000-000000000000"
                for prefix in (layout.RAW_PREFIX, layout.STAGING_PREFIX):
                    key = layout.run_key(prefix, run_id, "cdr_purchases", "20260105")
                    assert len(matching(key)) == 1, key
    # what must stay: the hand-dropped inputs, the published week's inputs, the lock, processed/
    stays = [
        layout.CCN_INPUT_KEY,
        layout.CARBON_PRICING_INPUT_KEY,
        layout.baseline_record_key("20260105T060000Z"),
        f"{layout.PUBLISHED_INPUTS_PREFIX}/cdr_purchases_20260105.csv",
        layout.MANIFEST_KEY,
        layout.manifest_archive_key("20260105T060000Z"),
        "processed/cdr_purchases_20260105.csv",
        "deployments/" + SHA + ".json",
        "viz/v2/chart_templates.js",
    ]
    assert {key: matching(key) for key in stays} == {key: [] for key in stays}


def test_compute_logs_and_old_versions_expire() -> None:
    _, dashboard = stacks("prod")
    assert [r["ExpirationInDays"] for r in expiring_rules(dashboard.properties("ComputeLogsBucket"))] == [90]
    rules = dashboard.properties("DashboardBucket")["LifecycleConfiguration"]["Rules"]
    assert [r["NoncurrentVersionExpiration"] for r in rules if "NoncurrentVersionExpiration" in r] == [{"NoncurrentDays": 180}]


# ---------------------------------------------------------------------------------------------
# docs/deployment.md
# ---------------------------------------------------------------------------------------------


def documented_environment() -> dict[str, tuple[set[str], bool]]:
    """variable -> (containers, secret) from the environment table of docs/deployment.md."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    section = text.split("### Environment of the containers", 1)[1].split("###", 1)[0]
    rows = re.findall(r"^ *\| `([A-Z_]+)` \| ([a-z, -]+) \| (.+?) \|$", section, re.MULTILINE)
    return {name: ({c.strip() for c in who.split(",")}, "secret" in value.lower()) for name, who, value in rows}


def test_the_environment_table_of_the_docs_matches_the_stack() -> None:
    dagster, _ = stacks("test")
    actual: dict[str, tuple[set[str], bool]] = {}
    for name, container in containers(dagster).items():
        for variable in environment(container):
            actual.setdefault(variable, (set(), False))[0].add(name)
        for variable in secrets(container):
            actual[variable] = (actual.get(variable, (set(), True))[0] | {name}, True)
    assert documented_environment() == actual


def test_the_stack_reads_as_written_by_the_instance_files_comments() -> None:
    """Each instance file's header lists the variables it reads."""
    for deployment in ("test", "prod"):
        path: Path = INSTANCE_DIR / deployment / "dagster.yaml"
        header = "".join(line for line in path.read_text().splitlines(keepends=True) if line.startswith("#"))
        assert all(variable in header for variable in env_references(yaml.safe_load(path.read_text())))
