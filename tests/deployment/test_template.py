"""deployment/template.yaml: cfn-lint passes, and it agrees with deployments.toml, the presign
function's code and settings, and the least-privilege rules of docs/presign.md."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cdr_dagster.domain import layout
from deployment.deploy import build_lambda_package, load_config
from devtools.task_definitions import ACCOUNT, load_template
from presign_lambda.s3 import WORST_CASE_REQUEST_SECONDS
from presign_lambda.settings import DEFAULT_ALLOWED_ORIGINS
from tests.deployment.cloudformation import Stack, allowed
from tests.deployment.conftest import CONFIG_PATH, ROOT

TEMPLATE = ROOT / "deployment" / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def sub(value: dict[str, str], deployment: str) -> str:
    """A !Sub naming something after the Deployment parameter, for one deployment."""
    text = value["Fn::Sub"]
    assert set(re.findall(r"\$\{([^}]+)\}", text)) == {"Deployment"}, text
    return text.replace("${Deployment}", deployment)


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


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


def test_the_api_routes_get_and_options_of_both_routes_to_the_live_alias(template: dict[str, Any]) -> None:
    uri = {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${PresignAlias}/invocations"
    }
    routes = {}
    for name, body in template["Resources"].items():
        if body["Type"] == "AWS::ApiGateway::Method":
            props = body["Properties"]
            path = resource(template, props["ResourceId"]["Ref"])["PathPart"]
            routes[(path, props["HttpMethod"])] = name
            assert props["AuthorizationType"] == "NONE"
            assert props["Integration"] == {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": uri}
    assert routes == {
        ("presigned-url", "GET"): "PresignedUrlGet",
        ("presigned-url", "OPTIONS"): "PresignedUrlOptions",
        ("presigned-urls", "GET"): "PresignedUrlsGet",
        ("presigned-urls", "OPTIONS"): "PresignedUrlsOptions",
    }
    # the stage's deployment holds every route
    [deployment] = [n for n, b in template["Resources"].items() if b["Type"] == "AWS::ApiGateway::Deployment"]
    assert sorted(template["Resources"][deployment]["DependsOn"]) == sorted(routes.values())
    assert resource(template, "ApiStage")["DeploymentId"] == {"Ref": deployment}
    # API Gateway may invoke the alias for both paths, any stage and method, and nothing else
    permissions = [b["Properties"] for b in template["Resources"].values() if b["Type"] == "AWS::Lambda::Permission"]
    assert {(p["FunctionName"]["Ref"], p["Principal"], p["Action"]) for p in permissions} == {
        ("PresignAlias", "apigateway.amazonaws.com", "lambda:InvokeFunction")
    }
    source = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/*/"
    assert sorted(p["SourceArn"]["Fn::Sub"] for p in permissions) == [source + "presigned-url", source + "presigned-urls"]


def test_the_function_times_out_after_the_worst_case_request_and_before_api_gateway(template: dict[str, Any]) -> None:
    timeout = resource(template, "PresignFunction")["Timeout"]
    assert WORST_CASE_REQUEST_SECONDS == 19
    assert WORST_CASE_REQUEST_SECONDS < timeout < 29  # 29 s: API Gateway's integration timeout
    assert timeout == 25


def test_the_stage_is_throttled_at_200_requests_a_second_burst_400(template: dict[str, Any]) -> None:
    assert resource(template, "ApiStage")["MethodSettings"] == [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": 200,
            "ThrottlingBurstLimit": 400,
            "LoggingLevel": "ERROR",
            "DataTraceEnabled": False,  # never request or response bodies in the logs
        }
    ]


def test_a_waf_rule_limits_each_client_ip_to_1000_requests_per_5_minutes_on_the_stage(template: dict[str, Any]) -> None:
    stack = Stack(template, parameters("test"))
    acl = stack.properties("WebAcl")
    assert (acl["Scope"], acl["DefaultAction"]) == ("REGIONAL", {"Allow": {}})
    [rule] = acl["Rules"]
    assert rule["Action"] == {"Block": {}}
    assert rule["Statement"] == {"RateBasedStatement": {"AggregateKeyType": "IP", "Limit": 1000, "EvaluationWindowSec": 300}}
    association = resource(template, "WebAclAssociation")
    assert association["WebACLArn"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
    assert association["ResourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/${ApiStage}"
    }


def test_the_stage_writes_access_logs_to_an_encrypted_log_group_kept_a_year(template: dict[str, Any]) -> None:
    stack = Stack(template, parameters("prod"))
    group = stack.properties("ApiAccessLogGroup")
    assert group == {
        "LogGroupName": "/aws/apigateway/cdr-dashboard-prod/access",
        "RetentionInDays": 365,
        "KmsKeyId": "<LogsKey.Arn>",
    }
    # the key lets CloudWatch Logs use it for this deployment's two log groups only
    [logs_service] = [s for s in stack.properties("LogsKey")["KeyPolicy"]["Statement"] if s["Sid"].startswith("CloudWatchLogs")]
    assert logs_service["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == [
        f"arn:aws:logs:ca-central-1:{ACCOUNT}:log-group:/aws/lambda/cdr-dashboard-presign-prod",
        f"arn:aws:logs:ca-central-1:{ACCOUNT}:log-group:/aws/apigateway/cdr-dashboard-prod/access",
    ]
    setting = stack.properties("ApiStage")["AccessLogSetting"]
    assert setting["DestinationArn"] == f"arn:aws:logs:ca-central-1:{ACCOUNT}:log-group:/aws/apigateway/cdr-dashboard-prod/access"
    fields = json.loads(setting["Format"])  # one JSON object per request
    assert {"ip", "requestTime", "method", "resourcePath", "status", "error", "waf"} <= set(fields)
    assert fields["ip"] == "$context.identity.sourceIp" and fields["status"] == "$context.status"
    # API Gateway's account-level role for CloudWatch Logs is set before the stage logs
    assert template["Resources"]["ApiStage"]["DependsOn"] == "ApiGatewayAccount"
    assert resource(template, "ApiGatewayAccount")["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}


def test_the_buckets_write_server_access_logs_to_the_access_logs_bucket(template: dict[str, Any]) -> None:
    stack = Stack(template, parameters("test"))
    logs = stack.properties("AccessLogsBucket")
    assert logs["BucketName"] == "cdr-dashboard-access-logs-test"
    assert logs["LifecycleConfiguration"]["Rules"] == [
        {
            "Id": "expire-access-logs",
            "Status": "Enabled",
            "ExpirationInDays": 90,
            "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
        }
    ]
    assert logs["PublicAccessBlockConfiguration"] == resource(template, "DashboardBucket")["PublicAccessBlockConfiguration"]
    for bucket, name in (("DashboardBucket", "cdr-dashboard-test"), ("ComputeLogsBucket", "cdr-dagster-logs-test")):
        assert stack.properties(bucket)["LoggingConfiguration"] == {
            "DestinationBucketName": "cdr-dashboard-access-logs-test",
            "LogFilePrefix": f"s3/{name}/",
        }
    # S3's logging service may write there, for these two buckets of this account only
    [grant] = [s for s in stack.bucket_policy("cdr-dashboard-access-logs-test") if s["Effect"] == "Allow"]
    assert grant == {
        "Sid": "S3ServerAccessLogs",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::cdr-dashboard-access-logs-test/s3/*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": ["arn:aws:s3:::cdr-dashboard-test", "arn:aws:s3:::cdr-dagster-logs-test"]},
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        },
    }


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
    assert [(s["Sid"], s["Effect"]) for s in on_dashboard] == [
        ("ReadWriteOwnPrefixes", "Allow"),
        ("RemoveUnpublishedFiles", "Allow"),
        ("NeverOverwriteHandDroppedInputs", "Deny"),
        ("ListOwnPrefixes", "Allow"),
    ]  # nothing else: no viz/, no deployments/
    assert on_dashboard[0]["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert on_dashboard[0]["Resource"] == [
        {"Fn::Sub": f"${{DashboardBucket.Arn}}/{prefix}/*"} for prefix in ("raw", "staging", "processed")
    ]
    assert (on_dashboard[1]["Action"], on_dashboard[1]["Resource"]) == (
        "s3:DeleteObject",
        [{"Fn::Sub": f"${{DashboardBucket.Arn}}/{pattern}"} for pattern in ("processed/*.csv", "raw/published/*")],
    )
    assert on_dashboard[3]["Action"] == "s3:ListBucket"
    assert on_dashboard[3]["Condition"] == {"StringLikeIfExists": {"s3:prefix": ["raw/*", "staging/*", "processed/*"]}}
    on_logs = [s for s in statements(role) if "ComputeLogsBucket" in str(s["Resource"])]
    assert [s["Action"] for s in on_logs] == [["s3:GetObject", "s3:PutObject"], "s3:ListBucket"]


# ---------------------------------------------------------------------------------------------
# Who may do what, asked of the resolved policies
# ---------------------------------------------------------------------------------------------


def parameters(deployment: str) -> dict[str, Any]:
    """The stack's parameters: the defaults, and the deployment."""
    template = load_template(TEMPLATE)
    values: dict[str, Any] = {}
    for name, spec in template["Parameters"].items():
        default = spec.get("Default")
        values[name] = str(default).split(",") if spec["Type"] == "CommaDelimitedList" else default
    return {**values, "Deployment": deployment}


@pytest.fixture(scope="module")
def stacks(template: dict[str, Any]) -> dict[str, Stack]:
    return {d: Stack(template, parameters(d)) for d in ("test", "prod")}


def role(stacks: dict[str, Stack], deployment: str, logical_id: str) -> tuple[list[dict[str, Any]], str]:
    """A role of one stack: its statements and its ARN."""
    stack = stacks[deployment]
    return stack.role_statements(logical_id), stack.get_att(logical_id, "Arn")


ADMIN = ([{"Effect": "Allow", "Action": "*", "Resource": "*"}], f"arn:aws:iam::{ACCOUNT}:role/Administrator")


def may(stacks: dict[str, Stack], who: tuple[list[dict[str, Any]], str], action: str, bucket: str, key: str) -> bool:
    policy = next(stack.bucket_policy(bucket) for stack in stacks.values() if stack.bucket_policy(bucket))
    return allowed(who[0], policy, who[1], action, f"arn:aws:s3:::{bucket}/{key}")


def test_only_tests_deployer_role_writes_tests_markers(stacks: dict[str, Stack]) -> None:
    marker = "deployments/0123456789abcdef0123456789abcdef01234567.json"
    test_deployer = role(stacks, "test", "DeployerRole")
    assert test_deployer[1] == f"arn:aws:iam::{ACCOUNT}:role/cdr-dashboard-deployer-test"
    assert may(stacks, test_deployer, "s3:PutObject", "cdr-dashboard-test", marker)
    assert may(stacks, test_deployer, "s3:GetObject", "cdr-dashboard-test", marker)

    prod_deployer = role(stacks, "prod", "DeployerRole")
    assert may(stacks, prod_deployer, "s3:GetObject", "cdr-dashboard-test", marker)  # prod checks test's marker
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
        assert not may(stacks, prod_deployer, action, "cdr-dashboard-test", marker)
        # not even an administrator, nor a prod deployer who also holds broad rights
        assert not may(stacks, ADMIN, action, "cdr-dashboard-test", marker)
        assert not may(stacks, (prod_deployer[0] + ADMIN[0], prod_deployer[1]), action, "cdr-dashboard-test", marker)
        assert not may(stacks, role(stacks, "test", "PipelineRole"), action, "cdr-dashboard-test", marker)
    assert may(stacks, ADMIN, "s3:PutObject", "cdr-dashboard-test", "raw/ccn_companies.csv")  # the rule is that narrow
    # and the same holds in prod's bucket for prod's role
    assert may(stacks, prod_deployer, "s3:PutObject", "cdr-dashboard-prod", marker)
    assert not may(stacks, test_deployer, "s3:PutObject", "cdr-dashboard-prod", marker)
    assert not may(stacks, ADMIN, "s3:PutObject", "cdr-dashboard-prod", marker)


def test_the_deployer_role_is_assumed_by_the_given_principals_or_the_account(template: dict[str, Any]) -> None:
    default = Stack(template, parameters("test")).properties("DeployerRole")
    [statement] = default["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    ci = f"arn:aws:iam::{ACCOUNT}:role/ci-deploy-test"
    given = Stack(template, {**parameters("test"), "DeployerPrincipals": [ci]}).properties("DeployerRole")
    assert given["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": [ci]}
    assert given["ManagedPolicyArns"] == [f"arn:aws:iam::{ACCOUNT}:policy/cdr-dashboard-deploy-test"]


def test_the_pipeline_never_overwrites_the_hand_dropped_inputs(stacks: dict[str, Stack]) -> None:
    pipeline = role(stacks, "prod", "PipelineRole")
    for key in ("raw/ccn_companies.csv", "raw/world_bank_carbon_pricing.csv"):
        assert may(stacks, pipeline, "s3:GetObject", "cdr-dashboard-prod", key)
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
            assert not may(stacks, pipeline, action, "cdr-dashboard-prod", key), (action, key)
    # what it writes itself
    for key in (
        "raw/cdr_fyi_orders_20261127.csv",
        "raw/published/inputs.json",
        "staging/orders_for_viz_20261127.csv",
        "processed/manifests/20261127T060000Z.json",
        "processed/manifest.json",
    ):
        assert may(stacks, pipeline, "s3:PutObject", "cdr-dashboard-prod", key), key
    # what a failed, losing or killed publication wrote, removed by itself or by the next one's sweep
    for key in (
        layout.next_published_key("orders_for_viz", "20261127", ["processed/orders_for_viz_20261127.csv"]),
        layout.baseline_record_key("20261127T060000Z"),
        layout.baseline_input_key("20261127T060000Z", "cdr_fyi_orders"),
    ):
        assert may(stacks, pipeline, "s3:DeleteObject", "cdr-dashboard-prod", key), key
    # never what says what is live, nor the pipeline's other files
    for key in (
        layout.MANIFEST_KEY,
        layout.manifest_archive_key("20261127T060000Z"),
        "raw/cdr_fyi_orders_20261127.csv",
        "staging/orders_for_viz_20261127.csv",
    ):
        assert not may(stacks, pipeline, "s3:DeleteObject", "cdr-dashboard-prod", key), key
    assert not may(stacks, pipeline, "s3:PutObject", "cdr-dashboard-prod", "viz/v2/chart_templates.js")


def test_the_deployer_writes_versioned_page_code_only_and_can_roll_back_data(stacks: dict[str, Stack]) -> None:
    deployer = role(stacks, "prod", "DeployerRole")
    assert may(stacks, deployer, "s3:PutObject", "cdr-dashboard-prod", "viz/v2/chart_templates.js")
    assert not may(stacks, deployer, "s3:PutObject", "cdr-dashboard-prod", "viz/chart_templates.js")  # today's embed's
    assert may(stacks, deployer, "s3:GetObject", "cdr-dashboard-prod", "processed/manifests/20261127T060000Z.json")
    assert may(stacks, deployer, "s3:GetObject", "cdr-dashboard-prod", "processed/orders_for_viz_20261120.csv")
    assert may(stacks, deployer, "s3:PutObject", "cdr-dashboard-prod", "processed/manifest.json")
    assert not may(stacks, deployer, "s3:PutObject", "cdr-dashboard-prod", "processed/orders_for_viz_20261120.csv")
    assert not may(stacks, deployer, "s3:PutObject", "cdr-dashboard-prod", "raw/ccn_companies.csv")
