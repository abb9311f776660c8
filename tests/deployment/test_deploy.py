"""deployment/deploy.py against moto's server over HTTP (S3, Lambda and STS), run as a subprocess
exactly as the team runs it, on a throwaway git checkout."""

from __future__ import annotations

import datetime as dt
import getpass
import gzip
import hashlib
import json
import os
import shlex
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployment.deploy import DeployError, LambdaPackage, build_lambda_package, viz_files
from tests.deployment.conftest import (
    BASE,
    DAGSTER,
    GIT_EMAIL,
    NO_CHANGES_REASON,
    ROOT,
    Aws,
    Checkout,
    git,
    placeholder_zip,
    stack_parameters,
    update_answers,
)

LAMBDA_FILES = [
    "presign_lambda/__init__.py",
    "presign_lambda/cors.py",
    "presign_lambda/events.py",
    "presign_lambda/handler.py",
    "presign_lambda/keys.py",
    "presign_lambda/manifest.py",
    "presign_lambda/s3.py",
    "presign_lambda/service.py",
    "presign_lambda/settings.py",
]
# this project's page code, under the versioned prefix today's live embed never loads
VIZ_CONTENT_TYPES = {
    "viz/v2/cdr_charts.js": "application/javascript",
    "viz/v2/cdr_csv.js": "application/javascript",
    "viz/v2/cdr_format.js": "application/javascript",
    "viz/v2/cdr_page.js": "application/javascript",
    "viz/v2/chart.umd.min.js": "application/javascript",
    "viz/v2/chart_templates.css": "text/css",
    "viz/v2/chart_templates.js": "application/javascript",
}
OLD_ENTRY = "viz/chart_templates.js"  # what today's live embed loads: never written by a deploy
WHO = f"{GIT_EMAIL} ({getpass.getuser()}@{socket.gethostname()})"


EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # sha256(b"")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_checksums(checkout: Checkout) -> dict:
    """The marker's checksums of what ships from the checkout, worked out here from the files: the
    zip's SHA-256, each page file's under its key, the image's source tree as git lists it,
    empty in these checkouts (they hold no image inputs), so SHA-256 of nothing, and each
    template's."""
    parts = {
        "lambda_zip": hashlib.sha256(build_lambda_package(checkout.path).data).hexdigest(),
        "viz": {key: sha256(path) for key, path in sorted(viz_files(checkout.path).items())},
        "image_tree": EMPTY_SHA256,
        "templates": {template: sha256(checkout.path / template) for template in (DAGSTER, BASE)},
    }
    shipped = hashlib.sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return {"shipped": shipped, **parts}


def code_sha256(aws: Aws, deployment: str, qualifier: str = "$LATEST") -> str:
    function = aws.config.deployments[deployment].function
    return aws.client("lambda").get_function(FunctionName=function, Qualifier=qualifier)["Configuration"]["CodeSha256"]


def alias_version(aws: Aws, deployment: str) -> str:
    d = aws.config.deployments[deployment]
    return aws.client("lambda").get_alias(FunctionName=d.function, Name=d.alias)["FunctionVersion"]


def marker(aws: Aws, deployment: str, sha: str) -> dict:
    body = (
        aws.client("s3")
        .get_object(Bucket=aws.config.deployments[deployment].bucket, Key=f"deployments/{sha}.json")["Body"]
        .read()
    )
    return json.loads(body)


def untouched(aws: Aws, deployment: str) -> bool:
    """The deployment is as the stack left it: placeholder code, no version, empty bucket."""
    placeholder = LambdaPackage(files=(), data=placeholder_zip()).code_sha256
    return (
        code_sha256(aws, deployment) == placeholder
        and aws.versions(deployment) == ["$LATEST"]
        and alias_version(aws, deployment) == "$LATEST"
        and aws.keys(deployment) == []
    )


# ---------------------------------------------------------------------------------------------
# What is shipped
# ---------------------------------------------------------------------------------------------


def test_the_lambda_zip_holds_the_package_but_its_local_server() -> None:
    package = build_lambda_package(ROOT)
    assert list(package.files) == LAMBDA_FILES  # local.py (the dev server) is left out
    # the same commit gives the same bytes, so the same CodeSha256
    assert build_lambda_package(ROOT).data == package.data


def test_viz_files_are_the_pages_files_with_their_content_types() -> None:
    files = viz_files(ROOT)
    assert OLD_ENTRY not in files and all(key.startswith("viz/v2/") for key in files)
    assert {
        key: ("text/css" if p.suffix == ".css" else "application/javascript") for key, p in files.items()
    } == VIZ_CONTENT_TYPES


# ---------------------------------------------------------------------------------------------
# Deploying to test
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoints", ["AWS_ENDPOINT_URL", "per-service"])
def test_deploy_to_test_updates_the_function_uploads_viz_and_writes_the_marker(
    aws: Aws, checkout: Checkout, endpoints: str
) -> None:
    env = aws.env()
    if endpoints == "per-service":  # the service-specific variables work as well
        env.pop("AWS_ENDPOINT_URL")
        env |= {"AWS_ENDPOINT_URL_S3": aws.endpoint_url, "AWS_ENDPOINT_URL_LAMBDA": aws.endpoint_url}
    package = build_lambda_package(checkout.path)
    before = code_sha256(aws, "test")
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)

    # today's live embed and its old code, already in the bucket
    old_code = b"/* the old chart code the live embed loads */\n"
    aws.client("s3").put_object(Bucket="cdr-dashboard-test", Key=OLD_ENTRY, Body=old_code)

    run = checkout.deploy("test", "--skip-dagster", env=env)

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr == ""
    sha = checkout.sha
    # the function: new code, a published version carrying the commit, the alias moved to it
    assert before != package.code_sha256 == code_sha256(aws, "test") == code_sha256(aws, "test", "1")
    assert aws.versions("test") == ["$LATEST", "1"]
    function = aws.config.deployments["test"].function
    version = aws.client("lambda").get_function(FunctionName=function, Qualifier="1")["Configuration"]
    assert version["Description"] == f"git {sha}"
    assert alias_version(aws, "test") == "1"
    # the page's files, byte for byte, with their content types and the commit
    s3 = aws.client("s3")
    assert sorted(aws.keys("test", "viz/")) == sorted([*VIZ_CONTENT_TYPES, OLD_ENTRY])
    assert s3.get_object(Bucket="cdr-dashboard-test", Key=OLD_ENTRY)["Body"].read() == old_code
    for key, path in viz_files(checkout.path).items():
        obj = s3.get_object(Bucket="cdr-dashboard-test", Key=key)
        assert (key, obj["ContentType"], obj["Metadata"]) == (key, VIZ_CONTENT_TYPES[key], {"git-sha": sha})
        assert (obj["ContentEncoding"], obj["CacheControl"]) == ("gzip", "no-cache"), key
        assert gzip.decompress(obj["Body"].read()) == path.read_bytes()
    # the marker: when, who, what
    document = marker(aws, "test", sha)
    deployed_at = dt.datetime.strptime(document.pop("deployed_at"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert started <= deployed_at <= dt.datetime.now(dt.UTC)
    assert document == {
        "commit": sha,
        "deployment": "test",
        "deployed_by": WHO,
        "uncommitted_changes": False,
        "lambda": {
            "function": "cdr-dashboard-presign-test",
            "alias": "live",
            "version": "1",
            "previous_version": "$LATEST",
            "code_sha256": package.code_sha256,
        },
        "viz": sorted(VIZ_CONTENT_TYPES),
        "checksums": expected_checksums(checkout),
        "dagster": "skipped",
        "forced_unverified": False,
    }
    assert sorted(aws.keys("test")) == sorted([*VIZ_CONTENT_TYPES, OLD_ENTRY, f"deployments/{sha}.json"])
    # what it printed
    lines = run.stdout.splitlines()
    assert lines[0] == (
        f"deploy {sha} to test: region ca-central-1, bucket cdr-dashboard-test, function cdr-dashboard-presign-test"
    )
    assert lines[-7:] == [
        "dagster: skipped (--skip-dagster)",
        f"stack: cdr-dashboard-test: nothing to change ({BASE} and its parameters are what it runs)",
        f"lambda: cdr-dashboard-presign-test code updated (CodeSha256 {package.code_sha256}), "
        "published version 1, alias live: $LATEST -> 1",
        "        roll back: aws lambda update-alias --region ca-central-1 --function-name "
        "cdr-dashboard-presign-test --name live --function-version $LATEST",
        "viz: uploaded 7 files to s3://cdr-dashboard-test/viz/v2/",
        f"marker: wrote s3://cdr-dashboard-test/deployments/{sha}.json",
        f"deployed {sha[:12]} to test",
    ]
    assert untouched(aws, "prod")


def test_each_deploy_publishes_a_new_version_so_the_previous_one_stays_for_rollback(aws: Aws, checkout: Checkout) -> None:
    first = checkout.deploy("test", "--skip-dagster", env=aws.env())
    assert first.returncode == 0, first.stderr
    first_code = code_sha256(aws, "test", "1")
    keys = checkout.path / "presign_lambda" / "keys.py"
    keys.write_text(keys.read_text() + "\n# a change\n")
    sha = checkout.commit("change the key rules")

    second = checkout.deploy("test", "--skip-dagster", env=aws.env())

    assert second.returncode == 0, second.stderr
    assert aws.versions("test") == ["$LATEST", "1", "2"]
    assert alias_version(aws, "test") == "2"
    assert code_sha256(aws, "test", "1") == first_code != code_sha256(aws, "test", "2")
    assert code_sha256(aws, "test", "2") == build_lambda_package(checkout.path).code_sha256
    assert marker(aws, "test", sha)["lambda"]["previous_version"] == "1"
    assert (
        "        roll back: aws lambda update-alias --region ca-central-1 --function-name "
        "cdr-dashboard-presign-test --name live --function-version 1"
    ) in second.stdout.splitlines()


def test_uncommitted_changes_are_refused_unless_allowed_and_then_recorded(aws: Aws, checkout: Checkout) -> None:
    checkout.write("presign_lambda/keys.py", "# edited, not committed\n")
    checkout.write("dashboard/src/new.js", "// new, untracked\n")

    refused = checkout.deploy("test", "--skip-dagster", env=aws.env())

    assert refused.returncode == 3
    assert refused.stderr == (
        f"deploy: refusing to deploy {checkout.sha[:12]} to test: the working tree differs from the commit "
        "in what would be shipped:\n     M presign_lambda/keys.py\n    ?? dashboard/src/new.js\n"
        "commit them, or pass --allow-dirty (test only)\n"
    )
    assert untouched(aws, "test")

    allowed = checkout.deploy("test", "--skip-dagster", "--allow-dirty", env=aws.env())
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines()[0].endswith(" (uncommitted changes, --allow-dirty)")
    assert marker(aws, "test", checkout.sha)["uncommitted_changes"] is True

    prod = checkout.deploy("prod", "--skip-dagster", "--allow-dirty", env=aws.env())
    assert (prod.returncode, prod.stderr) == (2, "deploy: --allow-dirty is not accepted for prod: it ships committed code only\n")

    # the commit, once clean, is still not verified: test ran something else
    git(checkout.path, "checkout", "--", "presign_lambda/keys.py")  # the throwaway checkout's git
    (checkout.path / "dashboard/src/new.js").unlink()
    prod = checkout.deploy("prod", "--skip-dagster", env=aws.env())
    assert (prod.returncode, prod.stderr) == (
        3,
        (
            f"deploy: refusing to deploy {checkout.sha[:12]} to prod: it was deployed to test with uncommitted "
            "changes (--allow-dirty), so test did not run this commit. Deploy it to test from a clean checkout "
            "first; --force-unverified skips this check.\n"
        ),
    )
    assert untouched(aws, "prod")


def test_a_deployment_without_its_stack_fails_before_changing_anything(aws: Aws, checkout: Checkout) -> None:
    aws.client("lambda").delete_alias(FunctionName="cdr-dashboard-presign-test", Name="live")

    run = checkout.deploy("test", "--skip-dagster", env=aws.env())

    assert run.returncode == 1
    assert run.stderr == (
        "deploy: alias live of function cdr-dashboard-presign-test is not reachable "
        "(ResourceNotFoundException): create the stack from deployment/template.yaml first\n"
    )
    assert aws.versions("test") == ["$LATEST"] and aws.keys("test") == []


# ---------------------------------------------------------------------------------------------
# Prod needs test first
# ---------------------------------------------------------------------------------------------


def test_prod_refuses_a_commit_not_deployed_to_test(aws: Aws, checkout: Checkout) -> None:
    run = checkout.deploy("prod", "--skip-dagster", env=aws.env())

    assert run.returncode == 3
    sha = checkout.sha
    assert run.stderr == (
        f"deploy: refusing to deploy {sha[:12]} to prod: it has not been deployed to test first "
        f"(no s3://cdr-dashboard-test/deployments/{sha}.json). Deploy it to test, check it there, then "
        "retry; --force-unverified skips this check.\n"
    )
    assert untouched(aws, "prod") and untouched(aws, "test")


def test_prod_accepts_a_commit_after_its_test_deploy_and_only_that_commit(aws: Aws, checkout: Checkout) -> None:
    tested = checkout.deploy("test", "--skip-dagster", env=aws.env())
    assert tested.returncode == 0, tested.stderr
    deployed_at = marker(aws, "test", checkout.sha)["deployed_at"]

    prod = checkout.deploy("prod", "--skip-dagster", env=aws.env())

    assert prod.returncode == 0, prod.stderr
    sha = checkout.sha
    shipped = expected_checksums(checkout)["shipped"]
    assert (
        f"verified: {sha[:12]} was deployed to test at {deployed_at} by {WHO}, with the same checksum of what ships "
        f"({shipped[:12]})"
    ) in prod.stdout.splitlines()
    assert aws.versions("prod") == ["$LATEST", "1"] and alias_version(aws, "prod") == "1"
    assert code_sha256(aws, "prod", "1") == code_sha256(aws, "test", "1")
    assert sorted(aws.keys("prod", "viz/")) == sorted(VIZ_CONTENT_TYPES)
    prod_marker = marker(aws, "prod", sha)
    assert (prod_marker["deployment"], prod_marker["forced_unverified"]) == ("prod", False)

    # a new commit is a new question: refused until it has been to test
    checkout.write("dashboard/src/chart_templates.css", ".cdr-chart { height: 360px; }\n")
    new_sha = checkout.commit("taller charts")
    again = checkout.deploy("prod", "--skip-dagster", env=aws.env())
    assert again.returncode == 3
    assert f"no s3://cdr-dashboard-test/deployments/{new_sha}.json" in again.stderr
    assert aws.versions("prod") == ["$LATEST", "1"]


def test_prod_with_force_unverified_deploys_and_says_so_in_the_marker(aws: Aws, checkout: Checkout) -> None:
    run = checkout.deploy("prod", "--skip-dagster", "--force-unverified", env=aws.env())

    assert run.returncode == 0, run.stderr
    assert aws.versions("prod") == ["$LATEST", "1"] and alias_version(aws, "prod") == "1"
    assert marker(aws, "prod", checkout.sha)["forced_unverified"] is True
    assert untouched(aws, "test")  # the check was skipped, not satisfied


# ---------------------------------------------------------------------------------------------
# The Dagster step
# ---------------------------------------------------------------------------------------------

RECORD = "import json, sys; open(sys.argv[1], 'a').write(json.dumps(dict(operation='command', params=dict(argv=sys.argv[2:]))) + chr(10))"


def set_dagster_commands(checkout: Checkout, deployment: str, commands: list[list[str]]) -> None:
    """Replace one deployment's dagster_commands in the checkout's deployments.toml, committed."""
    path = checkout.path / "deployment" / "deployments.toml"
    text = path.read_text()
    start = text.index("dagster_commands = [", text.index(f"[{deployment}]"))
    end = text.index("\n]\n", start) + 3
    path.write_text(text[:start] + f"dagster_commands = {json.dumps(commands)}\n" + text[end:])
    checkout.commit(f"{deployment}: local dagster commands")


def push_recorded(checkout: Checkout, deployment: str) -> None:
    """The deployment's image push, as a command that logs itself in the CloudFormation log."""
    arguments = ["{image}:{sha}", "{deployment}", "{location}", "{ecs_cluster}"]
    set_dagster_commands(checkout, deployment, [[sys.executable, "-c", RECORD, str(checkout.cloudformation_log), *arguments]])


def previous_values(template: str, given: dict[str, str]) -> list[dict]:
    """The Parameters of an update: every parameter of the stack not given keeps its value."""
    kept = [{"ParameterKey": key, "UsePreviousValue": True} for key in stack_parameters(template) if key not in given]
    return kept + [{"ParameterKey": key, "ParameterValue": value} for key, value in given.items()]


def test_a_deploy_pushes_the_image_then_updates_both_stacks_from_the_repos_templates(aws: Aws, checkout: Checkout) -> None:
    push_recorded(checkout, "test")
    answers = [
        *update_answers("cdr-dashboard-test", BASE, [("Modify", "PresignFunction", "AWS::Lambda::Function")]),
        *update_answers(
            "cdr-dagster-test",
            DAGSTER,
            [
                ("Modify", "CodeServerTaskDefinition", "AWS::ECS::TaskDefinition"),
                ("Modify", "CodeServerService", "AWS::ECS::Service"),
            ],
        ),
    ]

    run = checkout.deploy("test", env=aws.env(), cloudformation=answers)

    assert run.returncode == 0, run.stdout + run.stderr
    sha = checkout.sha
    requests = checkout.requests()
    # the order: the image (by sha) first, then each stack through its change set
    image = f"123456789012.dkr.ecr.ca-central-1.amazonaws.com/cdr-dagster-test:{sha}"  # moto's account, from STS
    assert [(r["operation"], r["params"].get("StackName")) for r in requests] == [
        ("command", None),
        *(
            (operation, stack)
            for stack in ("cdr-dashboard-test", "cdr-dagster-test")
            for operation in (
                "DescribeStacks",
                "CreateChangeSet",
                "DescribeChangeSet",
                "DescribeChangeSet",
                "ExecuteChangeSet",
                "DescribeStacks",
            )
        ),
    ]
    assert requests[0]["params"]["argv"] == [image, "test", "cdr_dagster", "cdr-dagster-test"]
    base, dagster = (r["params"] for r in requests if r["operation"] == "CreateChangeSet")
    # what was sent: the commit's template files, byte for byte, and the parameters
    assert base["TemplateBody"] == (checkout.path / BASE).read_text()
    assert dagster["TemplateBody"] == (checkout.path / DAGSTER).read_text()
    assert base["Parameters"] == previous_values(BASE, {"Deployment": "test"})
    assert dagster["Parameters"] == previous_values(DAGSTER, {"Deployment": "test", "ImageTag": sha})
    assert (base["ChangeSetType"], base["Capabilities"]) == ("UPDATE", ["CAPABILITY_NAMED_IAM"])
    assert base["ChangeSetName"] == dagster["ChangeSetName"] and base["ChangeSetName"].startswith(f"deploy-{sha[:12]}-")
    # each request names the change set it created
    assert {r["params"].get("ChangeSetName") for r in requests if "ChangeSet" in r["operation"]} == {base["ChangeSetName"]}
    lines = run.stdout.splitlines()
    at = lines.index("stack: cdr-dagster-test: executing; waiting for the update to complete")
    assert lines[at - 4 : at + 2] == [
        f"stack: cdr-dagster-test: change set {base['ChangeSetName']}, 2 change(s):",
        "    Modify CodeServerTaskDefinition (AWS::ECS::TaskDefinition)",
        "    Modify CodeServerService (AWS::ECS::Service)",
        "runs: none in progress in cdr-dagster-test",  # checked again, just before the Dagster stack changes
        "stack: cdr-dagster-test: executing; waiting for the update to complete",
        "stack: cdr-dagster-test: updated",
    ]
    assert marker(aws, "test", sha)["dagster"] == "shipped"


def test_a_stack_with_nothing_to_change_is_said_and_its_change_set_deleted(aws: Aws, checkout: Checkout) -> None:
    push_recorded(checkout, "test")

    run = checkout.deploy("test", env=aws.env())  # CloudFormation: no changes in either stack

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr == ""
    operations = [(r["operation"], r["params"].get("StackName")) for r in checkout.requests()]
    assert [o for o in operations if o[0] in ("ExecuteChangeSet", "DeleteChangeSet")] == [
        ("DeleteChangeSet", "cdr-dashboard-test"),
        ("DeleteChangeSet", "cdr-dagster-test"),
    ]
    lines = run.stdout.splitlines()
    assert f"stack: cdr-dashboard-test: nothing to change ({BASE} and its parameters are what it runs)" in lines
    assert f"stack: cdr-dagster-test: nothing to change ({DAGSTER} and its parameters are what it runs)" in lines
    assert marker(aws, "test", checkout.sha)["lambda"]["version"] == "1"  # the rest of the deploy went on


def test_a_change_set_that_fails_for_another_reason_stops_the_deploy(aws: Aws, checkout: Checkout) -> None:
    answers = update_answers("cdr-dashboard-test", BASE, None)
    reason = "Parameters: [VpcId] must have values"
    answers[2][1] = {**answers[2][1], "StatusReason": reason}
    assert NO_CHANGES_REASON not in reason

    run = checkout.deploy("test", "--skip-dagster", env=aws.env(), cloudformation=answers)

    assert run.returncode == 1
    assert run.stderr.startswith("deploy: the change set deploy-") and run.stderr.endswith(
        f"of cdr-dashboard-test failed: {reason}\n"
    )
    assert untouched(aws, "test")  # no new code, no viz, no marker


def start_run_task(aws: Aws, deployment: str, run_id: str) -> None:
    """A run in progress, as the run launcher starts it: a task of the run family, tagged."""
    ec2, ecs = aws.client("ec2"), aws.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    family = f"cdr-dagster-run-{deployment}"
    ecs.register_task_definition(
        family=family,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="1024",
        memory="2048",
        containerDefinitions=[{"name": "run", "image": f"cdr-dagster-{deployment}:{'f' * 40}", "memory": 2048}],
    )
    ecs.run_task(
        cluster=f"cdr-dagster-{deployment}",
        taskDefinition=family,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}},
        tags=[{"key": "dagster/run_id", "value": run_id}, {"key": "dagster/job_name", "value": "weekly_refresh"}],
    )


def test_a_run_in_progress_stops_the_deploy_before_anything_changes(aws: Aws, checkout: Checkout) -> None:
    push_recorded(checkout, "test")
    start_run_task(aws, "test", "6f1c9a52-0000-4000-8000-000000000001")

    run = checkout.deploy("test", env=aws.env())

    assert run.returncode == 3
    assert run.stderr == (
        "deploy: refusing to ship the Dagster tier of test: 1 run(s) in progress "
        "(6f1c9a52-0000-4000-8000-000000000001), tasks of cdr-dagster-run-test in cdr-dagster-test. Nothing was "
        "changed: wait until they end (the webserver's Runs page), then deploy again.\n"
    )
    assert checkout.requests() == []  # no image pushed or copied, no stack touched
    assert untouched(aws, "test")
    # a run in the other deployment is none of this one's business
    push_recorded(checkout, "prod")
    prod = checkout.deploy("prod", "--force-unverified", env=aws.env())
    assert prod.returncode == 0, prod.stderr
    assert [r["operation"] for r in checkout.requests()][:2] == ["command", "DescribeStacks"]


def test_a_failing_dagster_command_stops_the_deploy_before_the_function_changes(aws: Aws, checkout: Checkout) -> None:
    set_dagster_commands(checkout, "test", [[sys.executable, "-c", "raise SystemExit(7)"]])

    run = checkout.deploy("test", env=aws.env())

    assert run.returncode == 1
    assert run.stderr == f"deploy: command failed with exit code 7: {shlex.join([sys.executable, '-c', 'raise SystemExit(7)'])}\n"
    assert checkout.requests() == []  # no stack touched
    assert untouched(aws, "test")  # no new code, no viz, no marker


# ---------------------------------------------------------------------------------------------
# Dry run
# ---------------------------------------------------------------------------------------------


class ConnectionCounter:
    """A TCP listener that counts the connections made to it (and answers none)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


@pytest.fixture()
def counter() -> Iterator[ConnectionCounter]:
    listener = ConnectionCounter()
    yield listener
    listener.close()


def expected_dry_run(checkout: Checkout, deployment: str) -> list[str]:
    """The plan deploy.py must print for the checkout's commit."""
    sha = checkout.sha
    package = build_lambda_package(checkout.path)
    registry = "<account>.dkr.ecr.ca-central-1.amazonaws.com"
    image = f"{registry}/cdr-dagster-{deployment}:{sha}"
    dagster_lines = [
        f"  STEP. dagster: ship code location cdr_dagster as image {image}",
        f"       runs: refuse while a run is in progress (a cdr-dagster-run-{deployment} task running in ECS "
        f"cluster cdr-dagster-{deployment})",
        *(
            [f"       $ docker build --pull --tag '{image}' .", f"       $ docker push '{image}'"]
            if deployment == "test"
            else [f"       $ docker buildx imagetools create --tag '{image}' '{registry}/cdr-dagster-test:{sha}'"]
        ),
        "  STACKS. stacks: one change set each (created, shown, executed; none when nothing changes)",
        f"       cdr-dashboard-{deployment}: {BASE} (sha256 {sha256(checkout.path / BASE)})",
        f"         parameters: Deployment={deployment}; every other one as the stack has it",
        f"       cdr-dagster-{deployment}: {DAGSTER} (sha256 {sha256(checkout.path / DAGSTER)})",
        f"         parameters: Deployment={deployment}, ImageTag={sha}; every other one as the stack has it",
        f"       services: cdr-dagster-code-server, cdr-dagster-webserver, cdr-dagster-daemon in cdr-dagster-{deployment} "
        f"roll to the new image (the daemon stops before its successor starts); each run is a task of "
        f"cdr-dagster-run-{deployment}, checked again before cdr-dagster-{deployment} changes",
    ]
    lines = [
        f"deploy {sha} to {deployment}: region ca-central-1, bucket cdr-dashboard-{deployment}, "
        f"function cdr-dashboard-presign-{deployment}",
        "plan (dry run: nothing will be changed):",
    ]
    step = 1
    if deployment == "prod":
        lines.append(
            f"  1. verify: {sha[:12]} was deployed to test first: must exist (s3://cdr-dashboard-test/deployments/{sha}.json) "
            "and record the same checksum of what ships"
        )
        step = 2
    lines.append(f"  {step}. package presign_lambda: 9 files, {len(package.data)} bytes, CodeSha256 {package.code_sha256}")
    lines += [f"       {name}" for name in LAMBDA_FILES]
    lines += [line.replace("STEP", str(step + 1)).replace("STACKS", str(step + 2)) for line in dagster_lines]
    step += 1
    lines += [
        f"  {step + 2}. lambda: update the code of cdr-dashboard-presign-{deployment}, publish a version, point alias live at it",
        f"  {step + 3}. viz: upload 7 files to s3://cdr-dashboard-{deployment}/viz/v2/ "
        "(viz/chart_templates.js, today's live embed, is left as it is)",
    ]
    lines += [
        f"       {key}  {VIZ_CONTENT_TYPES[key]}  {path.stat().st_size} bytes" for key, path in viz_files(checkout.path).items()
    ]
    lines += [
        f"  {step + 4}. marker: write s3://cdr-dashboard-{deployment}/deployments/{sha}.json "
        f"(checksum of what ships: sha256 {expected_checksums(checkout)['shipped']})",
        "dry run: nothing was changed (no AWS request, no command run)",
    ]
    return lines


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_dry_run_prints_the_plan_and_sends_no_request(checkout: Checkout, counter: ConnectionCounter, deployment: str) -> None:
    # every AWS service pointed at a listener that counts connections
    env = {**Aws(endpoint_url=counter.url, config=None).env()}

    run = checkout.deploy(deployment, "--dry-run", env=env, cloudformation=())

    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert run.stdout.splitlines() == [
        *expected_dry_run(checkout, deployment)[:1],
        f"AWS endpoint override: AWS_ENDPOINT_URL={counter.url}",
        *expected_dry_run(checkout, deployment)[1:],
    ]
    assert counter.connections == 0


@pytest.mark.parametrize("deployment", ["test", "prod"])
def test_dry_run_needs_no_aws_at_all(checkout: Checkout, tmp_path: Path, deployment: str) -> None:
    """A machine with no AWS credentials, configuration or network: the whole plan still prints."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    run = checkout.deploy(deployment, "--dry-run", env=env, cloudformation=())

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == expected_dry_run(checkout, deployment)


def test_dry_run_changes_nothing_on_the_server(aws: Aws, checkout: Checkout) -> None:
    for args in (["test", "--dry-run"], ["prod", "--dry-run"], ["prod", "--dry-run", "--force-unverified"]):
        run = checkout.deploy(*args, env=aws.env())
        assert run.returncode == 0, run.stderr
    assert checkout.requests() == []
    assert untouched(aws, "test") and untouched(aws, "prod")


def test_dry_run_with_skip_dagster_and_force_shows_both_steps_skipped(checkout: Checkout, counter: ConnectionCounter) -> None:
    run = checkout.deploy(
        "prod", "--dry-run", "--skip-dagster", "--force-unverified", env=Aws(endpoint_url=counter.url, config=None).env()
    )

    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[3] == f"  1. verify: {checkout.sha[:12]} was deployed to test first: skipped: --force-unverified"
    assert "  3. dagster: skipped (--skip-dagster)" in lines
    at = lines.index("  4. stacks: one change set each (created, shown, executed; none when nothing changes)")
    assert lines[at + 1].startswith(f"       cdr-dashboard-prod: {BASE} (sha256 ")
    assert lines[at + 3].startswith("  5. lambda: ")  # the Dagster stack is left as it is
    assert counter.connections == 0


def test_todays_embeds_flat_viz_keys_stay_byte_identical_through_deploys(aws: Aws, checkout: Checkout) -> None:
    """Stand-ins for the old live code at every flat key this project's files share a name with:
    after two deploys (the second with changed page code) each is the same single version."""
    s3 = aws.client("s3")
    old = {f"viz/{key.rsplit('/', 1)[1]}": f"/* old live {key} */\n".encode() for key in VIZ_CONTENT_TYPES}
    assert OLD_ENTRY in old
    versions = {key: s3.put_object(Bucket="cdr-dashboard-test", Key=key, Body=body)["VersionId"] for key, body in old.items()}

    assert checkout.deploy("test", "--skip-dagster", env=aws.env()).returncode == 0
    checkout.write("dashboard/src/chart_templates.js", "// the new page code, changed\n")
    checkout.commit("change the page code")
    assert checkout.deploy("test", "--skip-dagster", env=aws.env()).returncode == 0

    for key, body in old.items():
        listed = s3.list_object_versions(Bucket="cdr-dashboard-test", Prefix=key)
        same_key = [v for v in listed.get("Versions", []) if v["Key"] == key]
        assert [v["VersionId"] for v in same_key] == [versions[key]], key
        assert s3.get_object(Bucket="cdr-dashboard-test", Key=key)["Body"].read() == body
    new = s3.get_object(Bucket="cdr-dashboard-test", Key="viz/v2/chart_templates.js")["Body"].read()
    assert gzip.decompress(new) == b"// the new page code, changed\n"


def test_no_upload_list_ever_holds_the_old_embeds_key() -> None:
    """Every plan's uploads come from viz_files; the old embed's flat keys are never in it, and
    upload_viz refuses one outright should a future change put it there."""
    from deployment.deploy import upload_viz

    assert OLD_ENTRY not in viz_files(ROOT)
    assert not [key for key in viz_files(ROOT) if key.count("/") == 1]  # no flat viz/<file>
    with pytest.raises(DeployError, match=r"refusing to upload viz/chart_templates\.js"):
        upload_viz(None, None, {OLD_ENTRY: ROOT / "dashboard/src/chart_templates.js"}, "0" * 40)  # type: ignore[arg-type]
