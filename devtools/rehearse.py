"""`python3 dev.py rehearse`: the production topology of a deployment on one machine, from the
files deployment/deploy.py ships, with a lost run worker, before any deploy.

From deployment/dagster_stack.yaml (the task definitions' commands, environment and secrets),
the deployment's dagster.yaml, deployment/dagster/workspace.yaml and the Dockerfile, it runs:

- PostgreSQL (Debian's) as the instance's storage, moto (in this process, over HTTP) answering
  S3 (the bucket, the compute logs) and ECS, the fake cdr.fyi API and front page, a Slack sink;
- the code server, the webserver and the daemon as ECS tasks of the stack's task definitions,
  each a process with the container's command and environment (``devtools.ecs_agent``);
- each run the way the deployment launches it: the daemon's EcsRunLauncher calls RunTask on
  moto, and the ``dagster api execute_run`` command the task carries runs as a process.

Then it shows that a run launched through the webserver goes through the queue to an ECS task;
that killing that task's process mid-step (exit code 137) ends in a failed run, a retry from the
failed step and a publication whose manifest matches its files; and that the webserver lists,
over GraphQL, the runs, the materializations and the compute logs. It ends with
``rehearsal: N passed, M failed`` and stops everything it started, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cdr_dagster.domain import layout
from devtools.task_definitions import (
    ACCOUNT,
    LOCALHOST,
    Container,
    Resolver,
    StackError,
    discovery_names,
    dockerfile_copies,
    dockerfile_env,
    env_references,
    load_template,
    services,
    task_definitions,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deployment" / "dagster_stack.yaml"
REGION = "ca-central-1"
LOCATION = "cdr_dagster"
JOB = "weekly_refresh"
TOKEN = "rehearsal-token-7f3a"  # the cdr.fyi token's stand-in (the fake API accepts only it)
MONITORING_POLL_S = 5  # run monitoring's poll interval here (the instance file's is for AWS)
CONTAINERS = ("code-server", "webserver", "daemon", "run")
DROPPED_FILES = (layout.CCN_INPUT_KEY, layout.CARBON_PRICING_INPUT_KEY)
START_TIMEOUT_S = 300  # guards against a hang, not speed checks: the machine may be shared
RUN_TIMEOUT_S = 900


class Failed(Exception):
    """A step of the rehearsal failed: the message is one sentence for the person reading."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        return probe.getsockname()[1]


def container_path() -> str:
    """PATH of a process standing in for a container: the image's Python is this virtualenv's."""
    return f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin"


def wait_for(what: str, condition: Callable[[], Any], timeout: float, poll: float = 1.0) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise Failed(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(poll)


# ---------------------------------------------------------------------------------------------
# Reading the stack: what each container gets, and whether it is enough
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    resolver: Resolver
    containers: dict[str, Container]
    instance_file: Path  # the deployment's dagster.yaml in the repository
    workspace_file: Path
    image_paths: dict[str, str]  # image path -> repository path (the Dockerfile's COPYs)


def git_sha() -> str:
    found = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return found.stdout.strip() if found.returncode == 0 else "0" * 40


def parameters(template: dict[str, Any], deployment: str, network: dict[str, Any]) -> dict[str, Any]:
    """Local values of the template's parameters: its defaults, the deployment, this commit as the
    image tag, and moto's VPC, subnets and security group for the network ones."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        kind = spec.get("Type", "String")
        if kind == "AWS::EC2::VPC::Id":
            values[name] = network["vpc"]
        elif kind == "List<AWS::EC2::Subnet::Id>":
            values[name] = network["subnets"]
        elif kind == "AWS::EC2::Subnet::Id":
            values[name] = network["subnets"][0]
        elif deployment in spec.get("AllowedValues", []):
            values[name] = deployment
        elif "Default" in spec:
            values[name] = spec["Default"]
        elif "{40}" in spec.get("AllowedPattern", ""):
            values[name] = git_sha()
        else:
            values[name] = f"rehearsal-{name.lower()}"
    return values


def read_stack(template_path: Path, deployment: str, network: dict[str, Any], attributes: dict[str, Any]) -> Stack:
    template = load_template(template_path)
    resolver = Resolver(
        template,
        parameters(template, deployment, network),
        region=REGION,
        stack_name=f"cdr-dagster-{deployment}",
        refs=dict(network.get("refs", {})),
        attributes=attributes,
    )
    containers = task_definitions(resolver)
    missing = [name for name in CONTAINERS if name not in containers]
    if missing:
        raise StackError(f"{template_path.name} has no task definition with a container named {', '.join(missing)}")
    return Stack(
        resolver=resolver,
        containers=containers,
        instance_file=ROOT / "deployment" / "dagster" / deployment / "dagster.yaml",
        workspace_file=ROOT / "deployment" / "dagster" / "workspace.yaml",
        image_paths=dockerfile_copies(ROOT / "Dockerfile"),
    )


def repository_path(stack: Stack, image_path: str) -> Path | None:
    for image_dir, repo_dir in stack.image_paths.items():
        if image_path == image_dir or image_path.startswith(image_dir + "/"):
            return ROOT / repo_dir / image_path[len(image_dir) :].lstrip("/")
    return None


def check_containers(stack: Stack) -> None:
    """Every variable the instance file reads is given to every container (each loads the
    instance), and every variable the workspace reads to each container whose command names it."""
    workspace_vars = env_references(yaml.safe_load(stack.workspace_file.read_text()))
    for container in stack.containers.values():
        given = set(container.environment) | set(container.secrets)
        home = container.environment.get("DAGSTER_HOME")
        if home is None:
            raise StackError(f"the {container.name} container ({container.task_definition}) is not given DAGSTER_HOME")
        instance_file = repository_path(stack, f"{home}/dagster.yaml")
        if instance_file is None or not instance_file.is_file():
            raise StackError(
                f"the {container.name} container's DAGSTER_HOME {home} holds no dagster.yaml the Dockerfile copies into the image"
            )
        for name in env_references(yaml.safe_load(instance_file.read_text())):
            if name not in given:
                raise StackError(
                    f"the {container.name} container ({container.task_definition}) is not given {name}, "
                    f"which {instance_file.relative_to(ROOT)} reads"
                )
        if any(arg.endswith("workspace.yaml") for arg in container.command):
            for name in workspace_vars:
                if name not in given:
                    raise StackError(
                        f"the {container.name} container ({container.task_definition}) is not given {name}, "
                        f"which {stack.workspace_file.relative_to(ROOT)} reads"
                    )


# ---------------------------------------------------------------------------------------------
# The machine: moto, PostgreSQL, the outside world
# ---------------------------------------------------------------------------------------------


@dataclass
class Moto:
    endpoint_url: str

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@contextlib.contextmanager
def running_moto() -> Iterator[Moto]:
    """moto's server in a thread of this process: the agent writes exit codes into its tasks."""
    import logging

    from moto.moto_api import state_manager
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # a task stays RUNNING until its process exits (moto would otherwise move it one state per
    # DescribeTasks call to STOPPED with exit code 0)
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})
    server = ThreadedMotoServer(ip_address=LOCALHOST, port=0, verbose=False)
    server.start()
    try:
        yield Moto(endpoint_url=f"http://{LOCALHOST}:{server.get_host_and_port()[1]}")
    finally:
        server.stop()
        state_manager.unset_transition("ecs::task")


def create_network(moto: Moto, template: dict[str, Any]) -> dict[str, Any]:
    """A VPC with two subnets (DNS host names on, as awsvpc tasks need) and a security group for
    each of the template's."""
    ec2 = moto.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    refs = {}
    for logical, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::EC2::SecurityGroup":
            refs[logical] = ec2.create_security_group(GroupName=logical, Description=logical, VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnets": subnets, "refs": refs}


# ---------------------------------------------------------------------------------------------
# GraphQL, as the webserver answers it
# ---------------------------------------------------------------------------------------------


@dataclass
class Webserver:
    url: str

    def query(self, text: str, **variables: Any) -> dict[str, Any]:
        import requests

        answer = requests.post(f"{self.url}/graphql", json={"query": text, "variables": variables}, timeout=60)
        answer.raise_for_status()
        body = answer.json()
        if body.get("errors"):
            raise Failed(f"the webserver's GraphQL answered an error: {body['errors'][0].get('message')}")
        return body["data"]

    def run(self, run_id: str) -> dict[str, Any]:
        data = self.query(
            """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run {
                 runId status tags { key value } stepStats { stepKey status }
                 assetMaterializations { assetKey { path } } } } }""",
            id=run_id,
        )
        return data["runOrError"]

    def runs(self, tag: tuple[str, str] | None = None) -> list[dict[str, Any]]:
        selector = {"tags": [{"key": tag[0], "value": tag[1]}]} if tag else {}
        data = self.query(
            """query($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs {
                 results { runId jobName status tags { key value } } } } }""",
            filter=selector,
        )
        return data["runsOrError"]["results"]


def tags_of(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run.get("tags", [])}


# ---------------------------------------------------------------------------------------------
# The rehearsal
# ---------------------------------------------------------------------------------------------


class Rehearsal:
    def __init__(self, template: Path, deployment: str, keep: bool) -> None:
        self.template = template
        self.deployment = deployment
        self.keep = keep
        self.passed = 0
        self.failed = 0
        self.step = 0

    def say(self, text: str) -> None:
        print(text, flush=True)

    @contextlib.contextmanager
    def check(self, title: str) -> Iterator[list[str]]:
        """One numbered step; ``notes`` appended inside are printed under it."""
        self.step += 1
        self.say(f"[{self.step}] {title}")
        notes: list[str] = []
        try:
            yield notes
        except (Failed, StackError) as error:
            self.failed += 1
            self.say(f"    FAILED: {error}")
            raise Failed(str(error)) from None
        for note in notes:
            self.say(f"    {note}")
        self.passed += 1
        self.say("    ok")

    def main(self) -> int:
        from devtools.postgres import PostgresUnavailable

        workdir = Path(tempfile.mkdtemp(prefix="cdr-rehearsal-"))
        try:
            with contextlib.ExitStack() as stack:
                self._rehearse(stack, workdir)
        except Failed:
            pass
        except PostgresUnavailable as error:
            self.failed += 1
            self.say(f"    FAILED: {error}")
        except KeyboardInterrupt:
            self.say("interrupted: every process the rehearsal started is stopped")
            self.failed += 1
        except Exception as error:  # a bug of the rehearsal itself: say what, still clean up
            self.failed += 1
            self.say(f"    FAILED (unexpected {type(error).__name__}): {error}")
            if self.keep:
                traceback.print_exc()
        finally:
            if self.keep:
                self.say(f"logs of every process: {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
        self.say(f"rehearsal: {self.passed} passed, {self.failed} failed")
        if self.failed:
            hint = "" if self.keep else " (add --keep to keep every process's log)"
            self.say(f"next: fix the failed step above, then run python3 dev.py rehearse again{hint}")
        else:
            self.say(f"next: .venv/bin/python deployment/deploy.py {self.deployment} --dry-run, then deploy")
        return 1 if self.failed else 0

    def _rehearse(self, stack: contextlib.ExitStack, workdir: Path) -> None:
        from devtools.ecs_agent import TaskAgent
        from devtools.postgres import running_postgres

        rel = self.template.relative_to(ROOT) if self.template.is_relative_to(ROOT) else self.template
        with self.check(f"{rel}: every container is given what the instance and workspace files read") as notes:
            placeholder_network = {"vpc": "vpc-0", "subnets": ["subnet-0", "subnet-1"]}
            draft = read_stack(self.template, self.deployment, placeholder_network, self.database_attributes(LOCALHOST, 5432))
            check_containers(draft)
            for container in draft.containers.values():
                notes.append(
                    f"{container.name}: {container.task_definition}, {' '.join(container.command) or '(set by RunTask)'}"
                )

        with self.check("PostgreSQL, moto (S3, ECS), the fake cdr.fyi and a Slack sink are up") as notes:
            run_env = draft.containers["run"].environment
            storage = yaml.safe_load(draft.instance_file.read_text())["storage"]["postgres"]["postgres_db"]
            user, database = run_env[storage["username"]["env"]], run_env[storage["db_name"]["env"]]
            postgres = stack.enter_context(running_postgres(database=database, user=user))
            moto = stack.enter_context(running_moto())
            network = create_network(moto, draft.resolver.template)
            built = read_stack(self.template, self.deployment, network, self.database_attributes(postgres.host, postgres.port))
            self.buckets(moto, built)
            site, api = self.outside_world(stack)
            notes.append(f"PostgreSQL {postgres.host}:{postgres.port} (TLS), moto {moto.endpoint_url}, cdr.fyi {api.base_url}")

        ports = {port: free_port() for c in built.containers.values() for port in c.ports}
        instance_dir = self.image_files(built, workdir)
        for container in built.containers.values():  # task volumes: a local folder each
            for mount in container.registration["containerDefinitions"][0].get("mountPoints", []):
                instance_dir[mount["containerPath"]] = workdir / "volumes" / mount["sourceVolume"]
                instance_dir[mount["containerPath"]].mkdir(parents=True, exist_ok=True)
        image_env = dockerfile_env(ROOT / "Dockerfile")
        secrets = {
            "DAGSTER_PG_PASSWORD": postgres.password,
            "CDR_FYI_API_TOKEN": TOKEN,
            "SLACK_WEBHOOK_URL": site.url("/slack"),
        }
        hosts = discovery_names(built.resolver) | {"0.0.0.0"}

        def localize(values: list[str]) -> list[str]:
            """An image's values made to work here: image paths and volumes -> local folders, service
            discovery names and 0.0.0.0 -> 127.0.0.1, container ports -> free local ports."""
            out = []
            for value in values:
                for image_dir in instance_dir:
                    if value == image_dir or value.startswith(image_dir + "/"):
                        value = str(instance_dir[image_dir]) + value[len(image_dir) :]
                if value in hosts:
                    value = LOCALHOST
                if value.isdigit() and int(value) in ports:
                    value = str(ports[int(value)])
                out.append(value)
            return out

        def environment(given: dict[str, str], secret_refs: dict[str, str], task_id: str) -> dict[str, str]:
            unknown = [name for name in secret_refs if name not in secrets]
            if unknown:
                raise Failed(f"the secret {unknown[0]} has no local stand-in in devtools/rehearse.py")
            names = list(given)
            values = localize([given[n] for n in names])
            site.pages[f"/ecs-metadata/{task_id}/task"] = (200, json.dumps(self.task_metadata(ecs_cluster, task_id)).encode())
            return {
                **dict(zip(image_env, localize(list(image_env.values())), strict=True)),
                "PATH": container_path(),
                "HOME": str(workdir / "home"),
                "LANG": "C.UTF-8",
                # the task role and the AWS endpoints: moto
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ENDPOINT_URL": moto.endpoint_url,
                # what the ECS agent gives every container
                "ECS_CONTAINER_METADATA_URI_V4": site.url(f"/ecs-metadata/{task_id}"),
                # the outside world
                "CDR_FYI_API_URL": api.base_url,
                "CDR_FYI_SITE_URL": site.url("/"),
                **dict(zip(names, values, strict=True)),
                **{name: secrets[name] for name in secret_refs},
            }

        (workdir / "home").mkdir()
        ecs = moto.client("ecs")
        cluster_props = next(
            built.resolver.resolve(r.get("Properties", {}))
            for r in built.resolver.resources().values()
            if r.get("Type") == "AWS::ECS::Cluster"
        )
        ecs_cluster = cluster_props.get("ClusterName", "default")

        with self.check("the stack's cluster and task definitions are registered in moto's ECS") as notes:
            ecs.create_cluster(clusterName=ecs_cluster)
            arns = {}
            for container in built.containers.values():
                arns[container.name] = ecs.register_task_definition(**container.registration)["taskDefinition"][
                    "taskDefinitionArn"
                ]
                notes.append(f"{container.name}: {arns[container.name]}")
            moto.client("logs").create_log_group(logGroupName=f"/ecs/{ecs_cluster}")
        agent = TaskAgent(
            ecs=ecs,
            cluster=ecs_cluster,
            region=REGION,
            account=ACCOUNT,
            environment=environment,
            localize=localize,
            workdir=workdir,
        )
        agent.start()
        stack.callback(agent.stop)
        service_props = services(built.resolver)

        def start_service(name: str) -> None:
            container = built.containers[name]
            props = service_props.get(container.task_definition, {})
            network_config = props.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
            ecs.run_task(
                cluster=ecs_cluster,
                taskDefinition=arns[name],
                launchType=props.get("LaunchType", "FARGATE"),
                startedBy=props.get("ServiceName", name)[:36],
                networkConfiguration={
                    "awsvpcConfiguration": {
                        "subnets": network_config.get("Subnets", network["subnets"]),
                        "securityGroups": network_config.get("SecurityGroups", list(network["refs"].values())),
                        "assignPublicIp": network_config.get("AssignPublicIp", "DISABLED"),
                    }
                },
            )

        def process_of(name: str) -> Any:
            found = [t for t in agent.tasks.values() if t.container == name]
            return found[-1] if found else None

        def alive(name: str) -> None:
            task = process_of(name)
            if agent.errors:
                raise Failed(f"starting a task failed: {agent.errors[0]}")
            if task is not None and task.process.poll() is not None:
                log = (workdir / Path(task.log.name).name).read_text()[-2000:]
                raise Failed(f"the {name} process exited with {task.process.returncode}; its log ends:\n{log}")

        with self.check("the code server serves the code location (the task definition's health check)") as notes:
            start_service("code-server")
            health = built.containers["code-server"].registration["containerDefinitions"][0].get("healthCheck", {})
            probe = localize([c for c in health.get("command", []) if c not in ("CMD", "CMD-SHELL")])
            if not probe:
                raise Failed("the code-server container has no health check command")
            if "-h" not in probe:
                probe += ["-h", LOCALHOST]

            def healthy() -> bool:
                alive("code-server")
                if process_of("code-server") is None:
                    return False
                env = {"PATH": container_path(), "HOME": str(workdir / "home")}
                return subprocess.run(probe, env=env, capture_output=True, timeout=120).returncode == 0

            wait_for("the code server's health check passing", healthy, START_TIMEOUT_S, poll=2)
            notes.append(" ".join(probe))

        web_port = ports[built.containers["webserver"].ports[0]]
        web = Webserver(url=f"http://{LOCALHOST}:{web_port}")
        with self.check("the webserver loads the workspace and the daemon's daemons are healthy") as notes:
            start_service("webserver")
            start_service("daemon")

            def location_loaded() -> bool:
                alive("webserver")
                alive("daemon")
                try:
                    data = web.query(
                        """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
                             locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
                    )
                except Exception:
                    return False
                entries = {e["name"]: e for e in data["workspaceOrError"]["locationEntries"]}
                entry = entries.get(LOCATION)
                if entry and entry["locationOrLoadError"] and entry["locationOrLoadError"]["__typename"] == "PythonError":
                    raise Failed(f"the webserver could not load {LOCATION}: {entry['locationOrLoadError']['message']}")
                return bool(
                    entry and entry["locationOrLoadError"] and entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"
                )

            wait_for(f"the webserver loading {LOCATION}", location_loaded, START_TIMEOUT_S, poll=2)

            def daemons_healthy() -> list[str]:
                alive("daemon")
                data = web.query("{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }")
                statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
                required = [s for s in statuses if s["required"]]
                return [s["daemonType"] for s in required] if all(s["healthy"] for s in required) else []

            daemons = wait_for("every required daemon reporting healthy", daemons_healthy, START_TIMEOUT_S, poll=2)
            notes.append(f"webserver {web.url}; daemons: {', '.join(sorted(daemons))}")

        with self.check(f"a {JOB} run launched through the webserver is queued, then launched as an ECS task") as notes:
            data = web.query(
                """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
                     __typename ... on LaunchRunSuccess { run { runId status } }
                     ... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } } } }""",
                params={
                    "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "jobName": JOB},
                    "runConfigData": {},
                },
            )["launchRun"]
            if data["__typename"] != "LaunchRunSuccess":
                raise Failed(f"launchRun answered {data['__typename']}: {data.get('message') or data.get('errors')}")
            first_run, status = data["run"]["runId"], data["run"]["status"]
            if status != "QUEUED":
                raise Failed(f"the launched run was {status}, not QUEUED: the instance has no queue")
            task = wait_for(
                "an ECS task for the run",
                lambda: next((t for t in agent.tasks.values() if t.tags.get("dagster/run_id") == first_run), None),
                START_TIMEOUT_S,
            )
            self.check_run_task(ecs, task, built.containers["run"], arns["run"], notes)
            notes.append(f"run {first_run}: QUEUED, then task {task.arn.rsplit('/', 1)[-1]}")

        s3 = moto.client("s3")
        bucket = built.containers["run"].environment["CDR_DASHBOARD_BUCKET"]
        with self.check("killing the run's task mid-step (exit code 137) fails the run; nothing is published") as notes:

            def step_in_progress() -> str | None:
                alive("daemon")
                run = web.run(first_run)
                if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
                    raise Failed(f"the run ended {run['status']} before a step could be interrupted")
                stats = run["stepStats"]
                done = [s for s in stats if s["status"] == "SUCCESS"]
                running = [s["stepKey"] for s in stats if s["status"] == "IN_PROGRESS" and "publication" not in s["stepKey"]]
                return running[0] if done and running else None

            killed_step = wait_for("a step in progress after a step succeeded", step_in_progress, RUN_TIMEOUT_S, poll=0.5)
            from devtools.ecs_agent import signal_group

            signal_group(task.process, signal.SIGKILL)
            notes.append(f"killed the task's processes during {killed_step}")
            run = wait_for(
                "run monitoring marking the run failed",
                lambda: (r := web.run(first_run))["status"] in ("FAILURE", "SUCCESS", "CANCELED") and r,
                START_TIMEOUT_S,
            )
            if run["status"] != "FAILURE":
                raise Failed(f"the run whose worker was killed ended {run['status']}")
            described = ecs.describe_tasks(cluster=ecs_cluster, tasks=[task.arn])["tasks"][0]
            codes = [c.get("exitCode") for c in described["containers"]]
            if described["lastStatus"] != "STOPPED" or codes != [137]:
                raise Failed(f"ECS reports the task {described['lastStatus']} with exit codes {codes}, not STOPPED with 137")
            message = self.failure_message(web, first_run)
            notes.append(f"ECS: STOPPED, exit code 137; run FAILURE: {message}")
            failed_tags = tags_of(run)
            notes.append(
                f"failure reason {failed_tags.get('dagster/failure_reason', '?')}, "
                f"will retry: {failed_tags.get('dagster/will_retry', '?')}"
            )
            published = f"{layout.PUBLISHED_PREFIX}/"
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=published).get("KeyCount", 0)
            if listed:
                raise Failed(f"the killed run left {listed} objects under {published}")

        with self.check("the daemon retries the run from the failed step, as a new ECS task, and it succeeds") as notes:
            retry = wait_for(
                "a retry of the failed run",
                lambda: next(iter(web.runs(("dagster/parent_run_id", first_run))), None),
                START_TIMEOUT_S,
            )
            retry_id = retry["runId"]
            retry_tags = tags_of(retry)
            wait_for(
                "an ECS task for the retry",
                lambda: any(t.tags.get("dagster/run_id") == retry_id for t in agent.tasks.values()),
                START_TIMEOUT_S,
            )

            def retry_ended() -> dict[str, Any] | None:
                alive("daemon")
                run = web.run(retry_id)
                return run if run["status"] in ("FAILURE", "SUCCESS", "CANCELED") else None

            final = wait_for("the retry ending", retry_ended, RUN_TIMEOUT_S, poll=2)
            if final["status"] != "SUCCESS":
                raise Failed(f"the retry {retry_id} ended {final['status']}: {self.failure_message(web, retry_id)}")
            first = web.run(first_run)
            succeeded_before = {s["stepKey"] for s in first["stepStats"] if s["status"] == "SUCCESS"}
            executed_again = {s["stepKey"] for s in final["stepStats"] if s["status"] != "SKIPPED"} & succeeded_before
            if executed_again:
                raise Failed(f"the retry ran again steps that had succeeded: {', '.join(sorted(executed_again))}")
            # the step seen in progress may have finished just before the kill: then it is reused
            if killed_step not in succeeded_before | {s["stepKey"] for s in final["stepStats"]}:
                raise Failed(f"the retry did not run the interrupted step {killed_step}")
            notes.append(
                f"run {retry_id} (retry {retry_tags.get('dagster/retry_number')}, strategy "
                f"{retry_tags.get('dagster/retry_strategy', 'FROM_FAILURE')}): "
                f"{len(succeeded_before)} steps reused, {len(final['stepStats'])} run, SUCCESS"
            )

        with self.check("the publication: seven datasets, the manifest matches its files, nothing half-published") as notes:
            notes.extend(self.check_publication(s3, bucket))

        with self.check("the webserver lists, over GraphQL, the runs, their materializations and compute logs") as notes:
            notes.extend(self.check_graphql(web, first_run, retry_id))

    # -----------------------------------------------------------------------------------------

    def database_attributes(self, host: str, port: int) -> dict[str, Any]:
        """The RDS instance's endpoint: the local PostgreSQL."""
        attributes: dict[str, Any] = {}
        for kind_suffix in ("Endpoint.Address", "Endpoint.Port"):
            attributes[f"Database.{kind_suffix}"] = host if kind_suffix.endswith("Address") else str(port)
        return attributes

    def buckets(self, moto: Moto, stack: Stack) -> None:
        """The deployment's bucket (with the hand-dropped files, as a person puts them) and the
        compute logs bucket: the other stack's, named in the containers' environment."""
        from cdr_dagster.sample_data import sample_bytes

        s3 = moto.client("s3")
        env = stack.containers["run"].environment
        logs_var = yaml.safe_load(stack.instance_file.read_text())["compute_logs"]["config"]["bucket"]["env"]
        for name in {env["CDR_DASHBOARD_BUCKET"], env[logs_var]}:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        for key in DROPPED_FILES:
            s3.put_object(Bucket=env["CDR_DASHBOARD_BUCKET"], Key=key, Body=sample_bytes(key.rsplit("/", 1)[-1]))

    def outside_world(self, stack: contextlib.ExitStack) -> tuple[Any, Any]:
        """cdr.fyi's API (the bundled sample tables) and a site serving its front page, the Slack
        webhook and each task's ECS metadata."""
        from cdr_dagster.cdr_fyi.sample import sample_tables
        from cdr_dagster.sample_data import FRONT_PAGE_FILE, sample_bytes
        from devtools.fake_cdr_fyi import FakeCdrFyi
        from devtools.static_site import serving

        api = stack.enter_context(FakeCdrFyi(sample_tables(), TOKEN))
        site = stack.enter_context(serving({"/": (200, sample_bytes(FRONT_PAGE_FILE)), "/slack": (200, b"ok")}))
        return site, api

    def task_metadata(self, cluster: str, task_id: str) -> dict[str, str]:
        return {
            "Cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}",
            "TaskARN": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{cluster}/{task_id}",
        }

    def image_files(self, stack: Stack, workdir: Path) -> dict[str, Path]:
        """A copy of what the Dockerfile copies into the image, with run monitoring polled every
        few seconds instead of the instance file's minutes."""
        copies = {}
        for image_dir, repo_dir in stack.image_paths.items():
            target = workdir / "image" / image_dir.strip("/")
            shutil.copytree(ROOT / repo_dir, target)
            copies[image_dir] = target
            for instance in target.glob("*/dagster.yaml"):
                config = yaml.safe_load(instance.read_text())
                if config.get("run_monitoring", {}).get("enabled"):
                    config["run_monitoring"]["poll_interval_seconds"] = MONITORING_POLL_S
                instance.write_text(yaml.safe_dump(config, sort_keys=False))
        return copies

    def check_run_task(self, ecs: Any, task: Any, container: Container, run_arn: str, notes: list[str]) -> None:
        """The task the launcher started: the stack's run task definition, the pinned image, the
        secrets listed, the run's tags and the `dagster api execute_run` command."""
        definition = ecs.describe_task_definition(taskDefinition=task.task_definition_arn)["taskDefinition"]
        [registered] = definition["containerDefinitions"]
        problems = []
        if definition["family"] != container.family:
            problems.append(f"task definition family {definition['family']}, not the stack's {container.family}")
        if not registered["image"].endswith(":" + git_sha()):
            problems.append(f"image {registered['image']} is not pinned to this commit")
        if sorted(s["name"] for s in registered.get("secrets", [])) != sorted(container.secrets):
            problems.append("the secrets differ from the stack's")
        if task.command[:3] != ["dagster", "api", "execute_run"]:
            problems.append(f"command {' '.join(task.command[:3])}, not dagster api execute_run")
        if task.tags.get("dagster/job_name") != JOB:
            problems.append("no dagster/job_name tag")
        if problems:
            raise Failed("the run's ECS task is not what the stack declares: " + "; ".join(problems))
        notes.append(
            f"task definition {definition['family']}:{definition['revision']} ({'the stack' if definition['taskDefinitionArn'] == run_arn else 'registered by the launcher'}), "
            f"image {registered['image'].rsplit('/', 1)[-1]}, secrets {', '.join(sorted(container.secrets))}"
        )

    def failure_message(self, web: Webserver, run_id: str) -> str:
        data = web.query(
            """query($id: ID!) { logsForRun(runId: $id, limit: 5000) { ... on EventConnection {
                 events { __typename ... on MessageEvent { message } } } } }""",
            id=run_id,
        )
        events = data["logsForRun"]["events"]
        failures = [e["message"] for e in events if e["__typename"] == "RunFailureEvent"]
        return " ".join((failures[-1] if failures else "no failure event").split())[:300]

    def check_publication(self, s3: Any, bucket: str) -> list[str]:
        from cdr_dagster.domain.datasets import DATASET_NAMES

        manifest = json.loads(s3.get_object(Bucket=bucket, Key=layout.MANIFEST_KEY)["Body"].read())
        datasets = manifest["datasets"]
        if sorted(datasets) != sorted(DATASET_NAMES) or len(datasets) != 7:
            raise Failed(f"the manifest names {sorted(datasets)}, not the seven datasets")
        for name, entry in datasets.items():
            stored = s3.get_object(Bucket=bucket, Key=entry["key"])
            body = stored["Body"].read()
            if stored.get("ContentEncoding") == "gzip":  # as the page downloads it, its CSV text
                body = gzip.decompress(body)
            if hashlib.sha256(body).hexdigest() != entry["sha256"]:
                raise Failed(f"{entry['key']} does not match the SHA-256 the manifest gives for {name}")
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{layout.PUBLISHED_PREFIX}/").get("Contents", [])
        keys = {o["Key"] for o in listed}
        archives = {k for k in keys if layout.manifest_archive_stamp(k)}
        stray = keys - archives - {layout.MANIFEST_KEY} - {e["key"] for e in datasets.values()}
        if stray:
            raise Failed(f"published files no manifest names: {', '.join(sorted(stray))}")
        if len(archives) != 1:
            raise Failed(f"{len(archives)} archived manifests after one publication")
        return [f"{layout.MANIFEST_KEY} ({manifest['deployment']}): {', '.join(e['key'] for e in datasets.values())}"]

    def check_graphql(self, web: Webserver, first_run: str, retry_id: str) -> list[str]:
        listed = {r["runId"]: r["status"] for r in web.runs()}
        if listed.get(first_run) != "FAILURE" or listed.get(retry_id) != "SUCCESS":
            raise Failed(f"the webserver lists {listed}, not the failed run and its successful retry")
        run = web.run(retry_id)
        materialized = sorted({"/".join(m["assetKey"]["path"]) for m in run["assetMaterializations"]})
        if "dashboard_publication" not in materialized:
            raise Failed(f"the retry's materializations lack dashboard_publication: {materialized}")
        data = web.query(
            """query($id: ID!) { logsForRun(runId: $id, limit: 5000) { ... on EventConnection {
                 events { __typename ... on LogsCapturedEvent { fileKey stepKeys } } } } }""",
            id=retry_id,
        )
        captured = [e for e in data["logsForRun"]["events"] if e["__typename"] == "LogsCapturedEvent"]
        if not captured:
            raise Failed("the retry recorded no captured compute logs")
        event = captured[-1]
        logs = web.query(
            """query($key: [String!]!) { capturedLogs(logKey: $key) { stdout stderr } }""",
            key=[retry_id, "compute_logs", event["fileKey"]],
        )["capturedLogs"]
        if not (logs["stderr"] or logs["stdout"]):
            raise Failed(f"the compute logs of {', '.join(event['stepKeys'] or [])} are empty through the webserver")
        return [
            f"runs: {len(listed)} listed; materializations of the retry: {len(materialized)} assets",
            f"compute logs of {', '.join(event['stepKeys'] or [event['fileKey']])}: {len(logs['stderr'] or '')} characters of stderr (from S3)",
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dev.py rehearse", description=__doc__.split("\n\n")[0])
    parser.add_argument("deployment", nargs="?", default="test", choices=["test", "prod"])
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="the Dagster tier's template (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs (their folder is printed)")
    args = parser.parse_args(argv)
    # SIGTERM (a CI job cancelled) stops everything like Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    return Rehearsal(args.template.resolve(), args.deployment, args.keep).main()


if __name__ == "__main__":
    sys.exit(main())
