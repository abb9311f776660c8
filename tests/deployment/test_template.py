"""deployment/template.yaml: cfn-lint passes, and it agrees with deployments.toml, the presign
function's code and settings, and the least-privilege rules of docs/presign.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployment.deploy import build_lambda_package, load_config
from presign_lambda.settings import DEFAULT_ALLOWED_ORIGINS
from tests.deployment.conftest import CONFIG_PATH, ROOT

TEMPLATE = ROOT / "deployment" / "template.yaml"


class CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !Sub, ...) read as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=CloudFormationLoader)


def resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def sub(value: dict[str, str], deployment: str) -> str:
    """A !Sub naming something after the Deployment parameter, for one deployment."""
    text = value["Fn::Sub"]
    assert set(re.findall(r"\$\{([^}]+)\}", text)) == {"Deployment"}, text
    return text.replace("${Deployment}", deployment)


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def test_cfn_lint_passes_with_informational_checks_too() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--include-checks", "I", "--", str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_names_per_deployment_are_those_of_deployments_toml(template: dict[str, Any]) -> None:
    config = load_config(CONFIG_PATH)
    assert sorted(template["Parameters"]["Deployment"]["AllowedValues"]) == sorted(config.deployments)
    for name, deployment in config.deployments.items():
        assert sub(resource(template, "DashboardBucket")["BucketName"], name) == deployment.bucket
        assert sub(resource(template, "PresignFunction")["FunctionName"], name) == deployment.function
        assert resource(template, "PresignAlias")["Name"] == deployment.alias
        assert deployment.region == "ca-central-1"  # the old deployment's region, the bucket's
    assert resource(template, "ApiStage")["StageName"] == {"Ref": "Deployment"}  # /test, /prod


def test_the_function_runs_the_handler_deploy_py_ships(template: dict[str, Any]) -> None:
    function = resource(template, "PresignFunction")
    assert (function["Runtime"], function["Handler"]) == ("python3.12", "presign_lambda.handler.handler")
    assert "presign_lambda/handler.py" in build_lambda_package(ROOT).files
    assert function["Environment"]["Variables"] == {
        "CDR_DASHBOARD_BUCKET": {"Ref": "DashboardBucket"},
        "PRESIGN_ALLOWED_ORIGINS": {"Fn::Join": [",", {"Ref": "AllowedOrigins"}]},
        "PRESIGN_URL_EXPIRES_SECONDS": {"Ref": "PresignUrlExpiresSeconds"},
        "PRESIGN_MANIFEST_CACHE_SECONDS": {"Ref": "PresignManifestCacheSeconds"},
    }
    assert resource(template, "PresignAlias")["FunctionName"] == {"Ref": "PresignFunction"}


def test_the_bucket_is_versioned_private_and_lets_the_page_origins_get(template: dict[str, Any]) -> None:
    bucket = resource(template, "DashboardBucket")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["CorsConfiguration"]["CorsRules"] == [
        {
            "Id": "page-reads-presigned-urls",
            "AllowedOrigins": {"Ref": "AllowedOrigins"},
            "AllowedMethods": ["GET", "HEAD"],
            "AllowedHeaders": ["*"],
            "MaxAge": 3000,
        }
    ]
    # the same origins as the function's defaults (docs/presign.md)
    assert template["Parameters"]["AllowedOrigins"]["Default"].split(",") == list(DEFAULT_ALLOWED_ORIGINS)


def test_the_api_routes_get_and_options_of_presigned_url_to_the_live_alias(template: dict[str, Any]) -> None:
    assert resource(template, "PresignedUrlResource")["PathPart"] == "presigned-url"
    uri = {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${PresignAlias}/invocations"
    }
    for name, method in (("PresignedUrlGet", "GET"), ("PresignedUrlOptions", "OPTIONS")):
        props = resource(template, name)
        assert (props["HttpMethod"], props["ResourceId"], props["AuthorizationType"]) == (
            method,
            {"Ref": "PresignedUrlResource"},
            "NONE",
        )
        assert props["Integration"] == {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": uri}
    permission = resource(template, "ApiInvokesPresign")
    assert (permission["FunctionName"], permission["Principal"]) == ({"Ref": "PresignAlias"}, "apigateway.amazonaws.com")


def test_the_function_reads_only_processed_and_viz(template: dict[str, Any]) -> None:
    s3 = [
        s
        for s in statements(resource(template, "PresignRole"))
        if any(a.startswith("s3:") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    ]
    assert s3 == [
        {
            "Sid": "ReadPublishedAndViz",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [{"Fn::Sub": "${DashboardBucket.Arn}/processed/*"}, {"Fn::Sub": "${DashboardBucket.Arn}/viz/*"}],
        }
    ]


def test_the_pipeline_writes_only_raw_staging_and_processed(template: dict[str, Any]) -> None:
    role = resource(template, "PipelineRole")
    on_dashboard = [s for s in statements(role) if "DashboardBucket" in str(s["Resource"])]
    assert on_dashboard[0]["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert on_dashboard[0]["Resource"] == [
        {"Fn::Sub": f"${{DashboardBucket.Arn}}/{prefix}/*"} for prefix in ("raw", "staging", "processed")
    ]
    assert on_dashboard[1]["Action"] == "s3:ListBucket"
    assert on_dashboard[1]["Condition"] == {"StringLikeIfExists": {"s3:prefix": ["raw/*", "staging/*", "processed/*"]}}
    assert len(on_dashboard) == 2  # nothing else: no delete, no viz/, no deployments/
    on_logs = [s for s in statements(role) if "ComputeLogsBucket" in str(s["Resource"])]
    assert [s["Action"] for s in on_logs] == [["s3:GetObject", "s3:PutObject"], "s3:ListBucket"]
