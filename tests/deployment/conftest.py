"""Fixtures of the deployment tests: a checkout to deploy, and the AWS side on moto's server.

``checkout`` is a throwaway git repository holding what deploy.py ships (its own copy of
deploy.py and deployments.toml, presign_lambda, the page's files), committed, so each test
controls the commit and whether the tree is clean, without touching the real repository.
``aws`` is moto's server over HTTP (the session's, emptied) with what the CloudFormation stack
of each deployment creates: the bucket (versioned), the function (the template's placeholder code)
and its ``live`` alias.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from deployment.deploy import Config, load_config
from devtools.s3_server import FAKE_AWS_ENV, S3Server

ROOT = Path(__file__).resolve().parents[2]
CONFIG_PATH = ROOT / "deployment" / "deployments.toml"
SHIPPED = (
    "deployment/__init__.py",
    "deployment/deploy.py",
    "deployment/errors.py",
    "deployment/rollback_data.py",
    "deployment/shipped.py",
    "deployment/deployments.toml",
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

    def deploy(self, *args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        """Run this checkout's deployment/deploy.py as the team does, in a subprocess."""
        return subprocess.run(
            [sys.executable, str(self.path / "deployment" / "deploy.py"), *args],
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


# The Dagster stack as deploy.py sees it: its parameters, and the image tag it runs (held in an
# SSM parameter here, since moto's CloudFormation cannot create the real stack's resources).
DAGSTER_STACK_STAND_IN = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Deployment: {Type: String}
  ImageTag: {Type: String}
  VpcId: {Type: String}
  PrivateSubnetIds: {Type: CommaDelimitedList}
  DatabaseInstanceClass: {Type: String, Default: db.t4g.micro}
Resources:
  RunningImage:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub /cdr-dagster-${Deployment}/image-tag
      Type: String
      Value: !Ref ImageTag
"""
FIRST_IMAGE_TAG = "f" * 40


def running_image_tag(aws: Aws, deployment: str) -> str:
    """The ImageTag the deployment's Dagster stack (its stand-in) was last updated to."""
    return aws.client("ssm").get_parameter(Name=f"/cdr-dagster-{deployment}/image-tag")["Parameter"]["Value"]


def create_stack_resources(aws: Aws) -> None:
    """What deployment/template.yaml and dagster_stack.yaml create, for each deployment."""
    iam, lam, s3 = aws.client("iam"), aws.client("lambda"), aws.client("s3")
    ecs, cloudformation = aws.client("ecs"), aws.client("cloudformation")
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
        cloudformation.create_stack(
            StackName=deployment.dagster.stack,
            TemplateBody=DAGSTER_STACK_STAND_IN,
            Parameters=[
                {"ParameterKey": "Deployment", "ParameterValue": deployment.name},
                {"ParameterKey": "ImageTag", "ParameterValue": FIRST_IMAGE_TAG},
                {"ParameterKey": "VpcId", "ParameterValue": "vpc-0"},
                {"ParameterKey": "PrivateSubnetIds", "ParameterValue": "subnet-a,subnet-b"},
                {"ParameterKey": "DatabaseInstanceClass", "ParameterValue": "db.t4g.micro"},
            ],
        )


@pytest.fixture()
def aws(s3: S3Server) -> Aws:
    """moto's server (emptied by the ``s3`` fixture) with both deployments' stack resources."""
    result = Aws(endpoint_url=s3.endpoint_url, config=load_config(CONFIG_PATH))
    create_stack_resources(result)
    return result
