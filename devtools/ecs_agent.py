"""A process for each ECS task that moto says is running: the one part of ECS moto cannot do.

moto answers the ECS API (RegisterTaskDefinition, RunTask, DescribeTasks, StopTask) exactly as
the Dagster run launcher calls it; what no moto call does is start a container. ``TaskAgent``
watches the cluster through the API and, for each new RUNNING task, starts a process with the
container's command (or the RunTask command override) and environment, its secrets replaced by
local stand-ins, as the ECS agent would start the container. When the process exits, the task is
stopped through the API and its container's exit code (137 for a process killed by SIGKILL, as
Docker reports it) written into moto's task, the only fact the API cannot carry. A task stopped
through the API (the launcher terminating a run) has its process group stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

POLL_S = 0.5
STOP_TIMEOUT_S = 30  # ECS's default stopTimeout: SIGTERM, then SIGKILL


def exit_code(returncode: int) -> int:
    """A container's exit code as ECS reports it: 128 + the signal for a killed process."""
    return 128 - returncode if returncode < 0 else returncode


@dataclass
class TaskProcess:
    arn: str
    container: str
    command: list[str]
    tags: dict[str, str]
    task_definition_arn: str
    process: subprocess.Popen
    log: IO[str]
    reported: bool = False


@dataclass
class TaskAgent:
    """Starts and reaps the processes standing in for the cluster's tasks (a thread of its own)."""

    ecs: Any  # a boto3 ECS client pointed at moto
    cluster: str
    region: str
    account: str
    # (container environment, secrets as {name: valueFrom}, task id) -> the process's environment
    environment: Callable[[dict[str, str], dict[str, str], str], dict[str, str]]
    localize: Callable[[list[str]], list[str]]  # a container's command, made runnable here
    workdir: Path
    tasks: dict[str, TaskProcess] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="ecs-agent", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching, then stop every process still running (SIGTERM, SIGKILL after a grace)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for task in self.tasks.values():
            terminate(task.process)
            signal_group(task.process, signal.SIGKILL)  # what a step process left behind
            task.log.close()

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self._poll()
            except Exception as error:  # shown by the rehearsal; the loop keeps going
                self.errors.append(f"{type(error).__name__}: {error}")

    def _poll(self) -> None:
        arns = self.ecs.list_tasks(cluster=self.cluster)["taskArns"]
        described = self.ecs.describe_tasks(cluster=self.cluster, tasks=arns, include=["TAGS"])["tasks"] if arns else []
        for task in described:
            arn = task["taskArn"]
            if arn not in self.tasks and task["lastStatus"] == "RUNNING":
                self.tasks[arn] = self._start(task)
            elif arn in self.tasks and task["lastStatus"] == "STOPPED" and self.tasks[arn].process.poll() is None:
                terminate(self.tasks[arn].process)  # stopped through the API (StopTask)
        for task in self.tasks.values():
            returncode = task.process.poll()
            if returncode is not None and not task.reported:
                self._report_stopped(task, exit_code(returncode))

    def _start(self, task: dict[str, Any]) -> TaskProcess:
        definition = self.ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
        [container] = definition["containerDefinitions"]  # one container per task definition here
        override: dict[str, Any] = next(
            (o for o in task.get("overrides", {}).get("containerOverrides", []) if o.get("name") == container["name"]), {}
        )
        environment = {e["name"]: e["value"] for e in container.get("environment", [])}
        environment.update({e["name"]: e["value"] for e in override.get("environment", [])})
        secrets = {s["name"]: s["valueFrom"] for s in container.get("secrets", [])}
        command = self.localize(override.get("command") or container.get("command") or [])
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        log = open(self.workdir / f"{container['name']}-{task_id[:8]}.log", "w")  # noqa: SIM115 (closed in stop)
        process = subprocess.Popen(
            command,
            cwd=self.workdir,
            env=self.environment(environment, secrets, task_id),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group: the whole "container" is stopped at once
        )
        return TaskProcess(
            arn=task["taskArn"],
            container=container["name"],
            command=command,
            tags={t["key"]: t["value"] for t in task.get("tags", [])},
            task_definition_arn=task["taskDefinitionArn"],
            process=process,
            log=log,
        )

    def _report_stopped(self, task: TaskProcess, code: int) -> None:
        from moto.ecs.models import ecs_backends

        self.ecs.stop_task(cluster=self.cluster, task=task.arn, reason="Essential container in task exited")
        backend = ecs_backends[self.account][self.region]
        for tasks in backend.tasks.values():
            for moto_task in tasks.values():
                if moto_task.task_arn == task.arn:
                    for container in moto_task.containers:
                        container.exitCode = code
                        container.last_status = "STOPPED"
        task.reported = True


def terminate(process: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> None:
    """Stop a process group as ECS stops a container: SIGTERM, then SIGKILL after ``timeout``."""
    if process.poll() is not None:
        return
    signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        process.wait()


def signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass
