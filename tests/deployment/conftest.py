"""Fixtures of the deployment tests: a checkout to deploy, and the AWS side on moto's server.

``checkout`` is a throwaway git repository holding what deploy.py ships (its own copy of
deploy.py and deployments.toml, presign_lambda, the page's files), committed, so each test
controls the commit and whether the tree is clean, without touching the real repository.
``aws`` is moto's server over HTTP (the session's, emptied) with what the CloudFormation stacks
of each deployment create: the bucket (versioned), the function (the template's placeholder code)
and its ``live`` alias, the ECS cluster. CloudFormation itself is botocore's Stubber
(tests/deployment/stubbed_deploy.py): moto's cannot create the real templates.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployment.deploy import Config, load_config
from devtools.s3_server import FAKE_AWS_ENV, S3Server
from devtools.task_definitions import load_template

ROOT = Path(__file__).resolve().parents[2]
CONFIG_PATH = ROOT / "deployment" / "deployments.toml"
SHIPPED = (
    "deployment/__init__.py",
    "deployment/deploy.py",
    "deployment/errors.py",
    "deployment/rollback_data.py",
    "deployment/shipped.py",
    "deployment/deployments.toml",
    "deployment/template.yaml",
    "deployment/dagster_stack.yaml",
    "dashboard/__init__.py",
    "dashboard/viz_files.py",
    "presign_lambda",
    "dashboard/src",
    "dashboard/vendor/chart.umd.min.js",
)
GIT_EMAIL = "deployer@example.com"
PRESIGN_ROLE = "cdr-dashboard-presign"
PLACEHOLDER_CODE = b"# placeholder: run deployment/deploy.py to install presign_lambda\n"


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return result.stdout.strip()


@dataclass(frozen=True)
class Checkout:
    """A git repository with the files deploy.py ships; ``commit`` records a new version."""

    path: Path

    @property
    def sha(self) -> str:
        return git(self.path, "rev-parse", "HEAD")

    def commit(self, message: str) -> str:
        git(self.path, "add", "--all")
        git(self.path, "commit", "--quiet", "--message", message)
        return self.sha

    def write(self, relative: str, text: str) -> None:
        (self.path / relative).write_text(text)

    @property
    def cloudformation_log(self) -> Path:
        """Every CloudFormation request of this checkout's deploys, in order (JSON lines)."""
        return self.path.parent / "cloudformation.jsonl"

    def requests(self) -> list[dict[str, Any]]:
        """The log's entries: ``{"operation": ..., "params": ...}``."""
        if not self.cloudformation_log.exists():
            return []
        return [json.loads(line) for line in self.cloudformation_log.read_text().splitlines()]

    def deploy(
        self, *args: str, env: Mapping[str, str], cloudformation: Sequence[Any] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run this checkout's deployment/deploy.py as the team does, in a subprocess; CloudFormation
        answers ``cloudformation`` (by default: each stack has nothing to change), through the
        Stubber. ``cloudformation=()`` runs the script itself, with no CloudFormation at all."""
        answers = self.path.parent / "answers.json"
        answers.write_text(json.dumps(list(NOTHING_TO_CHANGE if cloudformation is None else cloudformation)))
        stubbed = [str(STUBBED_DEPLOY), str(self.path), str(answers), str(self.cloudformation_log)]
        script = [str(self.path / "deployment" / "deploy.py")] if cloudformation == () else stubbed
        return subprocess.run(
            [sys.executable, *script, *args],
            cwd=self.path,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture()
def checkout(tmp_path: Path) -> Checkout:
    repo = tmp_path / "repo"
    for relative in SHIPPED:
        source, target = ROOT / relative, repo / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)
    (repo / ".gitignore").write_text("__pycache__/\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.email", GIT_EMAIL)
    git(repo, "config", "user.name", "Deployer")
    result = Checkout(repo)
    result.commit("the platform")
    return result


def placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("index.py", date_time=(1980, 1, 1, 0, 0, 0)), PLACEHOLDER_CODE)
    return buffer.getvalue()


@dataclass(frozen=True)
class Aws:
    """moto's server holding both deployments' bucket, function and alias."""

    endpoint_url: str
    config: Config

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name="ca-central-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def env(self, **overrides: str) -> dict[str, str]:
        """A deploy.py environment: fake credentials, every AWS service at moto (AWS_ENDPOINT_URL)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        return {**env, **FAKE_AWS_ENV, "AWS_ENDPOINT_URL": self.endpoint_url, **overrides}

    def versions(self, deployment: str) -> list[str]:
        function = self.config.deployments[deployment].function
        return [v["Version"] for v in self.client("lambda").list_versions_by_function(FunctionName=function)["Versions"]]

    def keys(self, deployment: str, prefix: str = "") -> list[str]:
        bucket = self.config.deployments[deployment].bucket
        listing = self.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for item in listing.get("Contents", [])]


# ---------------------------------------------------------------------------------------------
# CloudFormation's answers (botocore's Stubber checks each against the service model)
# ---------------------------------------------------------------------------------------------

STUBBED_DEPLOY = Path(__file__).with_name("stubbed_deploy.py")
NO_CHANGES_REASON = "The submitted information didn't contain changes. Submit different information to create a change set."


def stack_parameters(template: str) -> list[str]:
    """The parameters a stack created from one of the repository's templates has."""
    return list(load_template(ROOT / template)["Parameters"])


def update_answers(stack: str, template: str, changes: Sequence[tuple[str, str, str]] | None) -> list[Any]:
    """What CloudFormation answers to deploy.py's update of ``stack``: its description (its
    parameters as created), the change set, then either its ``changes`` (action, logical id,
    type), its execution and the completed update, or (``None``) "no changes" and its deletion."""
    arn = f"arn:aws:cloudformation:ca-central-1:123456789012:stack/{stack}/1"
    described = {
        "StackName": stack,
        "StackId": arn,
        "CreationTime": "2026-11-02T10:00:00Z",
        "StackStatus": "UPDATE_COMPLETE",
        "Parameters": [{"ParameterKey": key, "ParameterValue": "as created"} for key in stack_parameters(template)],
    }
    answers: list[Any] = [
        ["describe_stacks", {"Stacks": [described]}],
        ["create_change_set", {"Id": "arn:aws:cloudformation:ca-central-1:123456789012:changeSet/deploy/1", "StackId": arn}],
    ]
    if changes is None:
        failed = {"StackName": stack, "Status": "FAILED", "ExecutionStatus": "UNAVAILABLE", "StatusReason": NO_CHANGES_REASON}
        return [*answers, ["describe_change_set", failed], ["delete_change_set", {}]]
    listed = [
        {"Type": "Resource", "ResourceChange": {"Action": action, "LogicalResourceId": logical, "ResourceType": kind}}
        for action, logical, kind in changes
    ]
    ready = {"StackName": stack, "Status": "CREATE_COMPLETE", "ExecutionStatus": "AVAILABLE", "Changes": listed}
    return [
        *answers,
        ["describe_change_set", ready],  # the waiter's
        ["describe_change_set", ready],
        ["execute_change_set", {}],
        ["describe_stacks", {"Stacks": [{**described, "LastUpdatedTime": "2026-12-05T10:00:00Z"}]}],
    ]


BASE, DAGSTER = "deployment/template.yaml", "deployment/dagster_stack.yaml"
# Both stacks of a deployment as the repository's templates already made them (test's names; a
# Stubber does not check names, so prod's deploys take the same answers).
NOTHING_TO_CHANGE = [*update_answers("cdr-dashboard-test", BASE, None), *update_answers("cdr-dagster-test", DAGSTER, None)]


def create_stack_resources(aws: Aws) -> None:
    """What deployment/template.yaml and dagster_stack.yaml create, for each deployment."""
    iam, lam, s3, ecs = aws.client("iam"), aws.client("lambda"), aws.client("s3"), aws.client("ecs")
    role = iam.create_role(
        RoleName=PRESIGN_ROLE,
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    )["Role"]["Arn"]
    for deployment in aws.config.deployments.values():
        s3.create_bucket(Bucket=deployment.bucket, CreateBucketConfiguration={"LocationConstraint": deployment.region})
        s3.put_bucket_versioning(Bucket=deployment.bucket, VersioningConfiguration={"Status": "Enabled"})
        lam.create_function(
            FunctionName=deployment.function,
            Runtime="python3.12",
            Handler="presign_lambda.handler.handler",
            Role=role,
            Code={"ZipFile": placeholder_zip()},
            Environment={"Variables": {"CDR_DASHBOARD_BUCKET": deployment.bucket}},
        )
        lam.create_alias(FunctionName=deployment.function, Name=deployment.alias, FunctionVersion="$LATEST")
        assert deployment.dagster is not None
        ecs.create_cluster(clusterName=deployment.dagster.cluster)


@pytest.fixture()
def aws(s3: S3Server) -> Aws:
    """moto's server (emptied by the ``s3`` fixture) with both deployments' stack resources."""
    result = Aws(endpoint_url=s3.endpoint_url, config=load_config(CONFIG_PATH))
    create_stack_resources(result)
    return result
