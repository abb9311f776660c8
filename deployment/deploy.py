#!/usr/bin/env python3
"""Ship the current commit to one deployment: ``deployment/deploy.py test|prod``; or put the
previous published data back: ``deployment/deploy.py rollback-data test|prod``.

    .venv/bin/python deployment/deploy.py test [--dry-run] [--skip-dagster] [--allow-dirty]
    .venv/bin/python deployment/deploy.py prod [--dry-run] [--skip-dagster] [--force-unverified]
    .venv/bin/python deployment/deploy.py rollback-data test|prod [--to <archive key>] [--dry-run]

A deploy, for the commit checked out (HEAD), refuses first when what would ship is not exactly
the commit (uncommitted changes, or a state git does not show: see deployment/shipped.py), then:

1. prod only: refuse unless the commit was deployed to test first, which leaves the marker
   ``deployments/<sha>.json`` in the test bucket, and that marker records the same checksum of
   what ships (the function's zip, the page's files, the image's sources, both templates) as prod
   computes (``--force-unverified`` skips the check);
2. package ``presign_lambda`` into a zip holding only the modules its handler imports (boto3 is
   in the Lambda runtime);
3. ship the Dagster image (``--skip-dagster`` leaves the Dagster tier as it is): refuse while a
   run is in progress (a task of the run task definition's family is running in the deployment's
   ECS cluster), then run the deployment's ``dagster_commands`` one by one (test builds and pushes
   ``<repository>:<sha>``; prod copies the image test ran);
4. update the stacks from the commit's template files, each through a CloudFormation change set
   (create it, wait, print its changes, execute it and wait; a change set without changes is
   "nothing to change"): the dashboard stack (deployment/template.yaml) with ``Deployment``, then
   the Dagster stack (deployment/dagster_stack.yaml) with ``ImageTag=<sha>`` too, which rolls the
   code server, webserver and daemon services to the image just pushed (checked again just before:
   no run in progress). Every other parameter keeps the stack's value (set at creation, by hand);
5. update the function's code, publish a version and point the alias API Gateway invokes at it
   (the previous version stays, so rolling back is moving the alias back);
6. upload the page's files under ``viz/v2/`` with their content types (never the flat
   ``viz/chart_templates.js`` that today's live embed loads: see dashboard/viz_files.py);
7. write the marker ``deployments/<sha>.json`` (when, who, what, the checksums of what shipped)
   in the deployment's bucket.

``--dry-run`` prints the plan (image, stacks with their template's sha256 and parameters,
services) and stops: no AWS request, no command,
no credentials needed. ``rollback-data`` is
deployment/rollback_data.py (its ``--dry-run`` reads the bucket and writes nothing). Names and
regions come from ``deployment/deployments.toml``; credentials from boto3's chain;
``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``) point it at a local stand-in (moto).
Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 3 refused (unverified, a tree that is
not the commit, a run in progress, nothing to roll back to). See docs/deployment.md.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import getpass
import hashlib
import io
import json
import os
import shlex
import socket
import string
import subprocess
import sys
import tomllib
import urllib.parse
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: this checkout's own modules, not an installed copy
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from cdr_dagster.domain.layout import LEGACY_ENTRY_KEY, MANIFEST_ARCHIVE_PREFIX, VIZ_PREFIX, stored_object
from dashboard.viz_files import content_type, viz_files
from deployment import rollback_data, shipped
from deployment.errors import EXIT_FAILED, ConfigError, DeployError, Refused
from deployment.shipped import head_commit, uncommitted_changes

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = Path("deployment") / "deployments.toml"

LAMBDA_PACKAGE = "presign_lambda"
# The package's local HTTP server for the page's preview and tests; never in the Lambda. That the
# rest imports only the standard library and boto3 is tests/presign/test_pipeline_agreement.py's.
LAMBDA_LEFT_OUT = frozenset({"local.py"})


MARKER_PREFIX = "deployments/"
# What a deploy ships from the working tree; it must match the commit it is recorded as.
SHIPPED_PATHS = (*shipped.LAMBDA_PATHS, *shipped.PAGE_PATHS, *shipped.TEMPLATE_PATHS, "deployment/deployments.toml")
DAGSTER_SHIPPED_PATHS = shipped.IMAGE_PATHS
ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ENDPOINT_URL_ECS",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
)
DASHBOARD_TEMPLATE, DAGSTER_TEMPLATE = shipped.TEMPLATE_PATHS
IMAGE_PARAMETER = "ImageTag"
DEPLOYMENT_PARAMETER = "Deployment"
# CloudFormation's limit on a template sent in the request (TemplateBody); larger needs S3.
TEMPLATE_BODY_LIMIT = 51_200
# What CloudFormation says of a change set that changes nothing.
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# How long a stack update may take (the services' rollout included) before the deploy gives up.
STACK_UPDATE_MINUTES = 60

__all__ = ["ConfigError", "DeployError", "Refused"]  # the errors live in deployment/errors.py


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """One ``[<name>]`` table of deployments.toml."""

    name: str
    region: str
    bucket: str
    function: str
    alias: str
    stack: str  # the dashboard stack (deployment/template.yaml)
    requires_deployed_to: str | None
    dagster_commands: tuple[tuple[str, ...], ...]
    values: Mapping[str, str]  # every string setting, plus "deployment": the placeholders
    dagster: DagsterTier | None


@dataclass(frozen=True)
class DagsterTier:
    """The deployment's Dagster stack (deployment/dagster_stack.yaml) and what it runs."""

    stack: str
    cluster: str
    services: tuple[str, ...]
    run_task_family: str


DAGSTER_KEYS = ("dagster_stack", "ecs_cluster", "ecs_services", "run_task_family")


@dataclass(frozen=True)
class Config:
    """The whole deployments.toml."""

    deployments: Mapping[str, Deployment]
    location: str
    image: str


REQUIRED_KEYS = ("region", "bucket", "function", "alias", "stack")
COMMAND_PLACEHOLDERS = frozenset({"sha", "image", "location", "account"})


def load_config(path: Path) -> Config:
    """Read and check deployments.toml (raises ConfigError naming the problem)."""
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    dagster = raw.pop("dagster", {})
    location, image = str(dagster.get("location", "")), str(dagster.get("image", ""))
    if not location or not image:
        raise ConfigError(f"{path}: [dagster] needs location and image")
    deployments = {name: _deployment(path, name, table) for name, table in raw.items()}
    for deployment in deployments.values():
        required = deployment.requires_deployed_to
        if required is not None and required not in deployments:
            raise ConfigError(f"{path}: [{deployment.name}] requires_deployed_to names no deployment: {required}")
        _check_placeholders(path, deployment, image)
    return Config(deployments=deployments, location=location, image=image)


def _deployment(path: Path, name: str, table: Any) -> Deployment:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {name} is not a table")
    missing = [key for key in REQUIRED_KEYS if not isinstance(table.get(key), str) or not table[key]]
    if missing:
        raise ConfigError(f"{path}: [{name}] needs {', '.join(missing)}")
    commands = table.get("dagster_commands", [])
    if not all(isinstance(c, list) and c and all(isinstance(a, str) for a in c) for c in commands):
        raise ConfigError(f"{path}: [{name}] dagster_commands must be a list of non-empty lists of strings")
    values = {key: value for key, value in table.items() if isinstance(value, str)}
    given = [key for key in DAGSTER_KEYS if values.get(key)]
    if given and len(given) < len(DAGSTER_KEYS):
        missing_keys = ", ".join(key for key in DAGSTER_KEYS if key not in given)
        raise ConfigError(f"{path}: [{name}] names a Dagster stack but not {missing_keys}")
    tier = (
        DagsterTier(
            stack=values["dagster_stack"],
            cluster=values["ecs_cluster"],
            services=tuple(s.strip() for s in values["ecs_services"].split(",")),
            run_task_family=values["run_task_family"],
        )
        if given
        else None
    )
    return Deployment(
        name=name,
        region=table["region"],
        bucket=table["bucket"],
        function=table["function"],
        alias=table["alias"],
        stack=table["stack"],
        requires_deployed_to=table.get("requires_deployed_to"),
        dagster_commands=tuple(tuple(c) for c in commands),
        values={**values, "deployment": name},
        dagster=tier,
    )


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _check_placeholders(path: Path, deployment: Deployment, image: str) -> None:
    known = set(deployment.values) | COMMAND_PLACEHOLDERS
    templates = [image, *(arg for command in deployment.dagster_commands for arg in command)]
    unknown = sorted(set().union(*(_placeholders(t) for t in templates)) - known)
    if unknown:
        raise ConfigError(f"{path}: [{deployment.name}] unknown placeholders: {', '.join(unknown)}")


def image_name(config: Config, deployment: Deployment, account: str) -> str:
    """The deployment's image repository (without a tag)."""
    return config.image.format_map({**deployment.values, "account": account})


def dagster_commands(config: Config, deployment: Deployment, sha: str, account: str) -> list[list[str]]:
    """The deployment's Dagster commands with every placeholder filled in."""
    values = {**deployment.values, "sha": sha, "location": config.location, "account": account}
    values["image"] = image_name(config, deployment, account)
    return [[arg.format_map(values) for arg in command] for command in deployment.dagster_commands]


def needs_account(config: Config, deployment: Deployment) -> bool:
    """Whether a Dagster command (or the image name) uses {account}."""
    templates = [config.image, *(arg for command in deployment.dagster_commands for arg in command)]
    return any("account" in _placeholders(t) for t in templates)


# ---------------------------------------------------------------------------------------------
# The checkout
# ---------------------------------------------------------------------------------------------


def deployer(root: Path) -> str:
    """Who deploys, for the marker: the git identity if set, and the local user@host."""
    local = f"{getpass.getuser()}@{socket.gethostname()}"
    result = subprocess.run(["git", "-C", str(root), "config", "user.email"], capture_output=True, text=True, check=False)
    email = result.stdout.strip()
    return f"{email} ({local})" if email else local


# ---------------------------------------------------------------------------------------------
# What is shipped
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LambdaPackage:
    """The function's zip: deterministic, so the same commit gives the same CodeSha256."""

    files: tuple[str, ...]
    data: bytes

    @property
    def code_sha256(self) -> str:
        """What Lambda reports as CodeSha256: base64 of the zip's SHA-256."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


def build_lambda_package(root: Path) -> LambdaPackage:
    """Zip the modules of ``presign_lambda`` (all but its local server), in a fixed order."""
    package_dir = root / LAMBDA_PACKAGE
    files = sorted(p.name for p in package_dir.glob("*.py") if p.name not in LAMBDA_LEFT_OUT)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in files:
            info = zipfile.ZipInfo(f"{LAMBDA_PACKAGE}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (package_dir / name).read_bytes())
    return LambdaPackage(files=tuple(f"{LAMBDA_PACKAGE}/{name}" for name in files), data=buffer.getvalue())


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    deployment: str
    dry_run: bool
    skip_dagster: bool
    force_unverified: bool
    allow_dirty: bool


@dataclass(frozen=True)
class Plan:
    """Everything a deploy will do, worked out before touching AWS."""

    root: Path
    config: Config
    deployment: Deployment
    sha: str
    dirty: bool
    package: LambdaPackage
    viz: Mapping[str, Path]
    checksums: Mapping[str, Any]
    templates: Mapping[str, bytes]  # repository path -> the commit's template file
    options: Options

    @property
    def verify_in(self) -> Deployment | None:
        """The deployment the commit must have reached first, unless forced."""
        name = self.deployment.requires_deployed_to
        return None if name is None else self.config.deployments[name]

    @property
    def marker_key(self) -> str:
        return f"{MARKER_PREFIX}{self.sha}.json"

    @property
    def stacks(self) -> list[StackUpdate]:
        """The stacks this deploy updates, in order: the dashboard's, then (unless skipped) the
        Dagster tier's, pinned to the commit's image."""
        d = self.deployment
        updates = [StackUpdate(d.stack, DASHBOARD_TEMPLATE, {DEPLOYMENT_PARAMETER: d.name})]
        if d.dagster is not None and not self.options.skip_dagster:
            updates.append(
                StackUpdate(d.dagster.stack, DAGSTER_TEMPLATE, {DEPLOYMENT_PARAMETER: d.name, IMAGE_PARAMETER: self.sha})
            )
        return updates


@dataclass(frozen=True)
class StackUpdate:
    """One stack updated from a template file of the commit; every parameter not given here keeps
    the value the stack has (VPC, subnets, deployers: set by hand when the stack was created)."""

    stack: str
    template: str  # repository path
    parameters: Mapping[str, str]


def _listing(lines: Sequence[str]) -> str:
    return "\n".join(f"    {line}" for line in lines)


def make_plan(root: Path, config: Config, options: Options) -> Plan:
    """Check the checkout and build the packages; raise Refused when what would ship is not
    exactly the commit (uncommitted changes, or a state git does not show)."""
    deployment = config.deployments[options.deployment]
    sha = head_commit(root)
    with_image = not options.skip_dagster
    paths = SHIPPED_PATHS + (DAGSTER_SHIPPED_PATHS if with_image else ())
    if options.allow_dirty and deployment.requires_deployed_to is not None:
        raise ConfigError(f"--allow-dirty is not accepted for {deployment.name}: it ships committed code only")
    package = build_lambda_package(root)
    viz = viz_files(root)
    changes = uncommitted_changes(root, paths)
    shipped_files = [*package.files, *(path.relative_to(root).as_posix() for path in viz.values()), *shipped.TEMPLATE_PATHS]
    hidden = shipped.hidden_state(root, shipped_files, with_image)
    if changes and not options.allow_dirty:
        shown = {line[3:].split(" -> ")[-1] for line in changes}  # git status already names these
        also = [line for line in hidden if line.split(": ", 1)[0] not in shown]
        raise Refused(
            f"refusing to deploy {sha[:12]} to {deployment.name}: the working tree differs from the "
            f"commit in what would be shipped:\n{_listing(changes + also)}\n"
            "commit them, or pass --allow-dirty (test only)"
        )
    if hidden and not options.allow_dirty:
        raise Refused(
            f"refusing to deploy {sha[:12]} to {deployment.name}: what would be shipped is not what git "
            f"shows for the commit:\n{_listing(hidden)}\n"
            "clear the flags, move the files out of the shipped folders (or commit them), "
            "or pass --allow-dirty (test only)"
        )
    viz_bytes = {key: path.read_bytes() for key, path in viz.items()}
    templates = {path: (root / path).read_bytes() for path in shipped.TEMPLATE_PATHS}
    too_large = [path for path, body in templates.items() if len(body) > TEMPLATE_BODY_LIMIT]
    if too_large:
        raise ConfigError(
            f"{', '.join(too_large)} is larger than the {TEMPLATE_BODY_LIMIT} bytes CloudFormation accepts in a "
            "request: shorten it (deploy.py sends templates as TemplateBody)"
        )
    return Plan(
        root=root,
        config=config,
        deployment=deployment,
        sha=sha,
        dirty=bool(changes or hidden),
        package=package,
        viz=viz,
        checksums=shipped.checksums(package.data, viz_bytes, shipped.image_tree(root), templates),
        templates=templates,
        options=options,
    )


def _without_userinfo(url: str) -> str:
    """An endpoint URL safe to print: any user:password@ part is dropped."""
    parts = urllib.parse.urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def describe(plan: Plan, account: str = "<account>") -> list[str]:
    """The plan as printed lines (the same with and without --dry-run)."""
    d = plan.deployment
    lines = [
        f"deploy {plan.sha} to {d.name}: region {d.region}, bucket {d.bucket}, function {d.function}"
        + (" (uncommitted changes, --allow-dirty)" if plan.dirty else "")
    ]
    lines += [
        f"AWS endpoint override: {name}={_without_userinfo(os.environ[name])}"
        for name in ENDPOINT_VARIABLES
        if os.environ.get(name)
    ]
    lines.append("plan (dry run: nothing will be changed):" if plan.options.dry_run else "plan:")
    step = 0
    if plan.verify_in is not None:
        step += 1
        target = f"s3://{plan.verify_in.bucket}/{plan.marker_key}"
        note = (
            "skipped: --force-unverified"
            if plan.options.force_unverified
            else f"must exist ({target}) and record the same checksum of what ships"
        )
        lines.append(f"  {step}. verify: {plan.sha[:12]} was deployed to {plan.verify_in.name} first: {note}")
    step += 1
    lines.append(
        f"  {step}. package {LAMBDA_PACKAGE}: {len(plan.package.files)} files, "
        f"{len(plan.package.data)} bytes, CodeSha256 {plan.package.code_sha256}"
    )
    lines += [f"       {name}" for name in plan.package.files]
    step += 1
    if plan.options.skip_dagster:
        lines.append(f"  {step}. dagster: skipped (--skip-dagster)")
    else:
        commands = dagster_commands(plan.config, d, plan.sha, account)
        image = f"{image_name(plan.config, d, account)}:{plan.sha}"
        lines.append(f"  {step}. dagster: ship code location {plan.config.location} as image {image}")
        if d.dagster is not None:
            lines.append(
                f"       runs: refuse while a run is in progress (a {d.dagster.run_task_family} task "
                f"running in ECS cluster {d.dagster.cluster})"
            )
        lines += [f"       $ {shlex.join(command)}" for command in commands]
    step += 1
    lines.append(f"  {step}. stacks: one change set each (created, shown, executed; none when nothing changes)")
    for update in plan.stacks:
        given = ", ".join(f"{key}={value}" for key, value in update.parameters.items())
        lines += [
            f"       {update.stack}: {update.template} (sha256 {plan.checksums['templates'][update.template]})",
            f"         parameters: {given}; every other one as the stack has it",
        ]
    if d.dagster is not None and not plan.options.skip_dagster:
        lines.append(
            f"       services: {', '.join(d.dagster.services)} in {d.dagster.cluster} roll to the new image "
            "(the daemon stops before its successor starts); each run is a task of "
            f"{d.dagster.run_task_family}, checked again before {d.dagster.stack} changes"
        )
    step += 1
    lines.append(f"  {step}. lambda: update the code of {d.function}, publish a version, point alias {d.alias} at it")
    step += 1
    lines.append(
        f"  {step}. viz: upload {len(plan.viz)} files to s3://{d.bucket}/{VIZ_PREFIX} "
        f"({LEGACY_ENTRY_KEY}, today's live embed, is left as it is)"
    )
    lines += [f"       {key}  {content_type(path)}  {path.stat().st_size} bytes" for key, path in plan.viz.items()]
    step += 1
    lines.append(
        f"  {step}. marker: write s3://{d.bucket}/{plan.marker_key} (checksum of what ships: sha256 {plan.checksums['shipped']})"
    )
    return lines


# ---------------------------------------------------------------------------------------------
# The steps that change things
# ---------------------------------------------------------------------------------------------


def say(line: str) -> None:
    """One line of the deploy's report on stdout, flushed (it interleaves with commands' output)."""
    print(line, flush=True)


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def verify_deployed_first(client: Callable[[str, str], Any], plan: Plan) -> None:
    """Refuse unless the marker of this commit exists in the required deployment's bucket."""
    required = plan.verify_in
    if required is None or plan.options.force_unverified:
        return
    s3 = client("s3", required.region)
    location = f"s3://{required.bucket}/{plan.marker_key}"
    try:
        marker = json.loads(s3.get_object(Bucket=required.bucket, Key=plan.marker_key)["Body"].read())
    except ClientError as error:
        if not _is_missing(error):
            raise
        raise Refused(
            f"refusing to deploy {plan.sha[:12]} to {plan.deployment.name}: it has not been deployed to "
            f"{required.name} first (no {location}). Deploy it to {required.name}, check it there, "
            f"then retry; --force-unverified skips this check."
        ) from None
    if marker.get("uncommitted_changes") is not False:
        raise Refused(
            f"refusing to deploy {plan.sha[:12]} to {plan.deployment.name}: it was deployed to {required.name} "
            f"with uncommitted changes (--allow-dirty), so {required.name} did not run this commit. Deploy it "
            f"to {required.name} from a clean checkout first; --force-unverified skips this check."
        )
    recorded = marker.get("checksums")
    if not isinstance(recorded, dict) or not isinstance(recorded.get("shipped"), str):
        raise Refused(
            f"refusing to deploy {plan.sha[:12]} to {plan.deployment.name}: {location} records no checksum "
            f"of what was shipped (an older deploy.py wrote it), so it cannot show {required.name} ran what "
            f"would ship now. Deploy it to {required.name} again; --force-unverified skips this check."
        )
    different = shipped.differences(plan.checksums, recorded)
    if different:
        raise Refused(
            f"refusing to deploy {plan.sha[:12]} to {plan.deployment.name}: what would ship differs from what "
            f"{required.name} recorded in {location}: {', '.join(different)}. Deploy from a clean checkout of "
            f"{plan.sha[:12]} (the same one that went to {required.name}), or deploy it to {required.name} "
            "again from here; --force-unverified skips this check."
        )
    say(
        f"verified: {plan.sha[:12]} was deployed to {required.name} at {marker.get('deployed_at')} by "
        f"{marker.get('deployed_by')}, with the same checksum of what ships ({plan.checksums['shipped'][:12]})"
    )


def preflight(lambda_client: Any, s3: Any, deployment: Deployment) -> str:
    """Check the bucket and the function's alias exist; return the alias's current version."""
    try:
        s3.head_bucket(Bucket=deployment.bucket)
    except ClientError as error:
        raise DeployError(
            f"bucket {deployment.bucket} is not reachable ({_code(error)}): create the "
            f"stack {deployment.values.get('stack', '')} from deployment/template.yaml first"
        ) from None
    try:
        alias = lambda_client.get_alias(FunctionName=deployment.function, Name=deployment.alias)
    except ClientError as error:
        raise DeployError(
            f"alias {deployment.alias} of function {deployment.function} is not reachable "
            f"({_code(error)}): create the stack from deployment/template.yaml first"
        ) from None
    return alias["FunctionVersion"]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "error"))


def runs_in_progress(ecs: Any, tier: DagsterTier) -> list[str]:
    """The runs whose task is starting or running (their Dagster run ids, or task ids)."""
    arns = ecs.list_tasks(cluster=tier.cluster, family=tier.run_task_family, desiredStatus="RUNNING")["taskArns"]
    if not arns:
        return []
    tasks = ecs.describe_tasks(cluster=tier.cluster, tasks=arns, include=["TAGS"])["tasks"]
    runs = []
    for task in tasks:
        tags = {tag["key"]: tag["value"] for tag in task.get("tags", [])}
        runs.append(tags.get("dagster/run_id", f"task {task['taskArn'].rsplit('/', 1)[-1]}"))
    return sorted(runs)


def refuse_while_runs(ecs: Any, plan: Plan, tier: DagsterTier) -> None:
    """Refuse to replace the code server or move the run image while a run is in progress."""
    runs = runs_in_progress(ecs, tier)
    if runs:
        raise Refused(
            f"refusing to ship the Dagster tier of {plan.deployment.name}: {len(runs)} run(s) in progress "
            f"({', '.join(runs)}), tasks of {tier.run_task_family} in {tier.cluster}. Nothing was changed: wait "
            "until they end (the webserver's Runs page), then deploy again."
        )
    say(f"runs: none in progress in {tier.cluster}")


def update_stack(cloudformation: Any, update: StackUpdate, body: str, name: str, before_execute: Callable[[], None]) -> None:
    """Update a stack from a template through a change set: create it, wait, print its changes,
    ``before_execute()``, execute it and wait. A change set without changes is deleted and said."""
    try:
        [stack] = cloudformation.describe_stacks(StackName=update.stack)["Stacks"]
    except ClientError as error:
        raise DeployError(
            f"the stack {update.stack} is not reachable ({_code(error)}): create it from {update.template} "
            "first (docs/deployment.md)"
        ) from None
    kept = [p["ParameterKey"] for p in stack.get("Parameters", []) if p["ParameterKey"] not in update.parameters]
    parameters = [{"ParameterKey": key, "UsePreviousValue": True} for key in kept]
    parameters += [{"ParameterKey": key, "ParameterValue": value} for key, value in update.parameters.items()]
    cloudformation.create_change_set(
        StackName=update.stack,
        ChangeSetName=name,
        ChangeSetType="UPDATE",
        TemplateBody=body,
        Parameters=parameters,
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Description=f"deployment/deploy.py: {update.template} of the commit",
    )
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            StackName=update.stack, ChangeSetName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
        )
    except WaiterError as error:
        reason = str((error.last_response or {}).get("StatusReason", error))
        if not any(text in reason for text in NO_CHANGES):
            raise DeployError(f"the change set {name} of {update.stack} failed: {reason}") from None
        cloudformation.delete_change_set(StackName=update.stack, ChangeSetName=name)
        say(f"stack: {update.stack}: nothing to change ({update.template} and its parameters are what it runs)")
        return
    changes = cloudformation.describe_change_set(StackName=update.stack, ChangeSetName=name).get("Changes", [])
    say(f"stack: {update.stack}: change set {name}, {len(changes)} change(s):")
    for change in changes:
        r = change["ResourceChange"]
        replacement = f", replacement {r['Replacement']}" if r.get("Replacement") else ""
        say(f"    {r['Action']} {r['LogicalResourceId']} ({r['ResourceType']}{replacement})")
    before_execute()
    cloudformation.execute_change_set(StackName=update.stack, ChangeSetName=name)
    say(f"stack: {update.stack}: executing; waiting for the update to complete")
    try:
        cloudformation.get_waiter("stack_update_complete").wait(
            StackName=update.stack, WaiterConfig={"Delay": 15, "MaxAttempts": STACK_UPDATE_MINUTES * 4}
        )
    except WaiterError:
        [stack] = cloudformation.describe_stacks(StackName=update.stack)["Stacks"]
        raise DeployError(
            f"the update of {update.stack} did not complete: {stack['StackStatus']} "
            f"({stack.get('StackStatusReason', 'no reason given')}); see its events in the CloudFormation console"
        ) from None
    say(f"stack: {update.stack}: updated")


def run_commands(commands: Sequence[Sequence[str]], cwd: Path) -> None:
    """Run each command from the repository root; stop at the first that fails."""
    for command in commands:
        say(f"$ {shlex.join(command)}")
        try:
            result = subprocess.run(list(command), cwd=cwd, check=False)
        except FileNotFoundError:
            raise DeployError(f"{command[0]} is not installed: install it, or pass --skip-dagster") from None
        if result.returncode != 0:
            raise DeployError(f"command failed with exit code {result.returncode}: {shlex.join(command)}")


@dataclass(frozen=True)
class LambdaRelease:
    previous_version: str
    version: str
    code_sha256: str


def ship_lambda(
    lambda_client: Any, deployment: Deployment, package: LambdaPackage, sha: str, previous_version: str
) -> LambdaRelease:
    """UpdateFunctionCode, wait for it, PublishVersion, then move the alias to the new version."""
    updated = lambda_client.update_function_code(FunctionName=deployment.function, ZipFile=package.data)
    if updated["CodeSha256"] != package.code_sha256:
        raise DeployError(f"{deployment.function} reports CodeSha256 {updated['CodeSha256']}, expected {package.code_sha256}")
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=deployment.function)
    published = lambda_client.publish_version(
        FunctionName=deployment.function, CodeSha256=package.code_sha256, Description=f"git {sha}"
    )
    lambda_client.update_alias(FunctionName=deployment.function, Name=deployment.alias, FunctionVersion=published["Version"])
    return LambdaRelease(previous_version=previous_version, version=published["Version"], code_sha256=package.code_sha256)


def upload_viz(s3: Any, deployment: Deployment, viz: Mapping[str, Path], sha: str) -> None:
    """Put each page file with its content type, labelled with the commit it comes from. Only
    versioned keys: the old embed's flat keys are never written, whatever the plan says."""
    for key, path in viz.items():
        if not key.startswith(VIZ_PREFIX):
            raise DeployError(f"refusing to upload {key}: page code ships only under {VIZ_PREFIX}")
        stored = stored_object(key, path.read_bytes(), content_type(path))  # gzipped, as the pipeline stores
        s3.put_object(Bucket=deployment.bucket, Metadata={"git-sha": sha}, **stored)


def marker_document(plan: Plan, release: LambdaRelease, now: dt.datetime) -> dict[str, Any]:
    """What the marker records: the commit, when, who, and what was shipped."""
    return {
        "commit": plan.sha,
        "deployment": plan.deployment.name,
        "deployed_at": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deployed_by": deployer(plan.root),
        "uncommitted_changes": plan.dirty,
        "lambda": {
            "function": plan.deployment.function,
            "alias": plan.deployment.alias,
            "version": release.version,
            "previous_version": release.previous_version,
            "code_sha256": release.code_sha256,
        },
        "viz": sorted(plan.viz),
        "checksums": dict(plan.checksums),
        "dagster": "skipped" if plan.options.skip_dagster else "shipped",
        "forced_unverified": plan.options.force_unverified and plan.verify_in is not None,
    }


def write_marker(s3: Any, plan: Plan, document: Mapping[str, Any]) -> None:
    """Put ``deployments/<sha>.json`` in the deployment's bucket (written last, after every step)."""
    s3.put_object(
        Bucket=plan.deployment.bucket,
        Key=plan.marker_key,
        Body=json.dumps(document, indent=2).encode() + b"\n",
        ContentType="application/json",
    )


def aws_client(service: str, region: str) -> Any:
    """A boto3 client from the default chain (credentials, AWS_ENDPOINT_URL_<SERVICE>)."""
    return boto3.session.Session(region_name=region).client(service)  # type: ignore[call-overload]


def execute(plan: Plan, client: Callable[[str, str], Any] = aws_client) -> None:
    """Run the plan against AWS: checks first, then the changes, the marker last."""
    d = plan.deployment
    lambda_client, s3 = client("lambda", d.region), client("s3", d.region)
    verify_deployed_first(client, plan)
    previous_version = preflight(lambda_client, s3, d)

    def no_runs() -> None:
        if d.dagster is not None and not plan.options.skip_dagster:
            refuse_while_runs(client("ecs", d.region), plan, d.dagster)

    if plan.options.skip_dagster:
        say("dagster: skipped (--skip-dagster)")
    else:
        no_runs()
        account = client("sts", d.region).get_caller_identity()["Account"] if needs_account(plan.config, d) else "<account>"
        run_commands(dagster_commands(plan.config, d, plan.sha, account), plan.root)
        say(f"dagster: pushed the image of code location {plan.config.location} for {plan.sha[:12]}")

    cloudformation = client("cloudformation", d.region)
    name = f"deploy-{plan.sha[:12]}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    for update in plan.stacks:
        check = no_runs if update.template == DAGSTER_TEMPLATE else (lambda: None)
        update_stack(cloudformation, update, plan.templates[update.template].decode(), name, check)

    release = ship_lambda(lambda_client, d, plan.package, plan.sha, previous_version)
    say(
        f"lambda: {d.function} code updated (CodeSha256 {release.code_sha256}), published version "
        f"{release.version}, alias {d.alias}: {release.previous_version} -> {release.version}"
    )
    say(
        f"        roll back: aws lambda update-alias --region {d.region} --function-name {d.function} "
        f"--name {d.alias} --function-version {release.previous_version}"
    )

    upload_viz(s3, d, plan.viz, plan.sha)
    say(f"viz: uploaded {len(plan.viz)} files to s3://{d.bucket}/{VIZ_PREFIX}")

    write_marker(s3, plan, marker_document(plan, release, dt.datetime.now(dt.UTC)))
    say(f"marker: wrote s3://{d.bucket}/{plan.marker_key}")
    say(f"deployed {plan.sha[:12]} to {d.name}")


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None, deployments: Sequence[str]) -> Options:
    """The command line; the deployments to choose from are those of deployments.toml."""
    parser = argparse.ArgumentParser(prog="deployment/deploy.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("deployment", choices=list(deployments))
    parser.add_argument("--dry-run", action="store_true", help="print the plan; touch nothing")
    parser.add_argument("--skip-dagster", action="store_true", help="leave the Dagster code location as it is")
    parser.add_argument(
        "--force-unverified",
        action="store_true",
        help="deploy even though the commit was not deployed to the required deployment first",
    )
    parser.add_argument(
        "--allow-dirty", action="store_true", help="ship uncommitted changes (deployments without requires_deployed_to only)"
    )
    args = parser.parse_args(argv)
    return Options(
        deployment=args.deployment,
        dry_run=args.dry_run,
        skip_dagster=args.skip_dagster,
        force_unverified=args.force_unverified,
        allow_dirty=args.allow_dirty,
    )


@dataclass(frozen=True)
class RollbackOptions:
    deployment: str
    to: str | None
    dry_run: bool


ROLLBACK_COMMAND = "rollback-data"


def parse_rollback_args(argv: Sequence[str], deployments: Sequence[str]) -> RollbackOptions:
    """``rollback-data <deployment> [--to <archive key>] [--dry-run]``."""
    parser = argparse.ArgumentParser(
        prog=f"deployment/deploy.py {ROLLBACK_COMMAND}",
        description="Put the previous published manifest back (docs/deployment.md, Rolling back).",
    )
    parser.add_argument("deployment", choices=list(deployments))
    parser.add_argument(
        "--to", metavar="ARCHIVE_KEY", help=f"the archive to put back: {MANIFEST_ARCHIVE_PREFIX}/<YYYYMMDDTHHMMSSZ>.json"
    )
    parser.add_argument("--dry-run", action="store_true", help="read the bucket and print what would change; write nothing")
    args = parser.parse_args(argv)
    return RollbackOptions(deployment=args.deployment, to=args.to, dry_run=args.dry_run)


def rollback(config: Config, options: RollbackOptions) -> None:
    """The rollback-data command against the deployment's bucket."""
    d = config.deployments[options.deployment]
    for name in ENDPOINT_VARIABLES:
        if os.environ.get(name):
            say(f"AWS endpoint override: {name}={_without_userinfo(os.environ[name])}")
    s3 = aws_client("s3", d.region)
    rollback_data.run(s3, d.bucket, d.name, options.to, options.dry_run, say)


def main(argv: Sequence[str] | None = None, root: Path = ROOT, client: Callable[[str, str], Any] = aws_client) -> int:
    """Plan, print, and (unless --dry-run) execute; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        config = load_config(root / CONFIG_FILE)
        if args[:1] == [ROLLBACK_COMMAND]:
            rollback(config, parse_rollback_args(args[1:], sorted(config.deployments)))
            return 0
        options = parse_args(args, sorted(config.deployments))
        plan = make_plan(root, config, options)
        for line in describe(plan):
            say(line)
        if options.dry_run:
            say("dry run: nothing was changed (no AWS request, no command run)")
            return 0
        execute(plan, client)
        return 0
    except DeployError as error:
        print(f"deploy: {error}", file=sys.stderr, flush=True)
        return error.exit_code
    except ClientError as error:
        print(f"deploy failed: AWS answered {_code(error)}: {error}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    except BotoCoreError as error:
        print(f"deploy failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
