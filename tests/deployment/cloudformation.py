"""Reading deployment/template.yaml as CloudFormation would for one deployment, and answering "may
this role do this to that key?" from its policies, so the tests can ask questions of the access
rules (who may write the markers, the hand-dropped inputs, the old embed's code) rather than only
compare their text.

The evaluator covers what the template uses and nothing more: identity policies of the roles (and
any extra policy a test gives a principal), the bucket policies, Allow/Deny, ``*``/``?`` patterns
in actions and resources, and the condition operators the template writes. An explicit Deny
anywhere wins; otherwise an Allow in the principal's own policies is needed (one account).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ACCOUNT = "123456789012"
REGION = "ca-central-1"
PARTITION = "aws"


class CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !Sub, ...) read as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=CloudFormationLoader)


_NO_VALUE = object()


@dataclass
class Stack:
    """The template resolved for one set of parameters (names, ARNs, conditions)."""

    template: dict[str, Any]
    parameters: Mapping[str, Any]

    def __post_init__(self) -> None:
        self.conditions = {name: self._condition(body) for name, body in self.template.get("Conditions", {}).items()}

    # -- intrinsic functions -----------------------------------------------------------------

    def _condition(self, body: Any) -> bool:
        if isinstance(body, dict) and "Condition" in body:
            return self.conditions[body["Condition"]]
        [(name, args)] = body.items()
        if name == "Fn::Equals":
            return self.resolve(args[0]) == self.resolve(args[1])
        if name == "Fn::Not":
            return not self._condition(args[0])
        if name == "Fn::And":
            return all(self._condition(a) for a in args)
        if name == "Fn::Or":
            return any(self._condition(a) for a in args)
        raise AssertionError(f"condition {name} is not handled")

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/this-stack/1",
        }
        if name in pseudo:
            return pseudo[name]
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        resource = self.template["Resources"][name]
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::S3::Bucket":
            return self.resolve(props["BucketName"])
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{self.resolve(props['ManagedPolicyName'])}"
        if kind == "AWS::Logs::LogGroup":
            return self.resolve(props["LogGroupName"])
        if kind == "AWS::Lambda::Function":
            return self.resolve(props["FunctionName"])
        if kind == "AWS::SecretsManager::Secret":  # its ARN, with the random suffix AWS adds
            return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{self.resolve(props['Name'])}-AbCdEf"
        if kind == "AWS::ECS::Cluster":
            return self.resolve(props["ClusterName"])
        if kind == "AWS::ECS::TaskDefinition":
            return f"arn:{PARTITION}:ecs:{REGION}:{ACCOUNT}:task-definition/{self.resolve(props['Family'])}:1"
        if kind == "AWS::ECR::Repository":
            return self.resolve(props["RepositoryName"])
        return f"<{name}>"  # ids CloudFormation makes up (the API's, the stage's...)

    def get_att(self, name: str, attribute: str) -> Any:
        resource = self.template["Resources"][name]
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if (kind, attribute) == ("AWS::S3::Bucket", "Arn"):
            return f"arn:{PARTITION}:s3:::{self.ref(name)}"
        if (kind, attribute) == ("AWS::IAM::Role", "Arn"):
            role_name = self.resolve(props["RoleName"]) if "RoleName" in props else f"stack-{name}-RANDOM"
            return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{role_name}"
        if (kind, attribute) == ("AWS::Lambda::Function", "Arn"):
            return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{self.ref(name)}"
        if (kind, attribute) == ("AWS::ECS::Cluster", "Arn"):
            return f"arn:{PARTITION}:ecs:{REGION}:{ACCOUNT}:cluster/{self.ref(name)}"
        if (kind, attribute) == ("AWS::Logs::LogGroup", "Arn"):
            return f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{self.ref(name)}:*"
        if (kind, attribute) == ("AWS::ECR::Repository", "Arn"):
            return f"arn:{PARTITION}:ecr:{REGION}:{ACCOUNT}:repository/{self.ref(name)}"
        if (kind, attribute) == ("AWS::ECR::Repository", "RepositoryUri"):
            return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{self.ref(name)}"
        if (kind, attribute) == ("AWS::ECS::Service", "Name"):
            return self.resolve(props["ServiceName"])
        return f"<{name}.{attribute}>"

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return str(self.get_att(resource, attribute))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", value, text)

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function applied (AWS::NoValue entries dropped)."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(name, args)] = value.items()
            if name == "Ref":
                return self.ref(args)
            if name == "Fn::GetAtt":
                return self.get_att(*args)
            if name == "Fn::Sub":
                return self._sub(args, {}) if isinstance(args, str) else self._sub(args[0], args[1])
            if name == "Fn::Join":
                return args[0].join(str(v) for v in self.resolve(args[1]))
            if name == "Fn::If":
                return self.resolve(args[1] if self.conditions[args[0]] else args[2])
            if name == "Fn::FindInMap":
                first, second, third = (self.resolve(a) for a in args)
                return self.template["Mappings"][first][second][third]
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def properties(self, name: str) -> dict[str, Any]:
        return self.resolve(self.template["Resources"][name]["Properties"])

    def role_statements(self, role: str) -> list[dict[str, Any]]:
        """Every statement of a role's inline and managed (from this template) policies."""
        props = self.properties(role)
        statements = [s for p in props.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
        for arn in props.get("ManagedPolicyArns", []):
            for name, resource in self.template["Resources"].items():
                if resource["Type"] == "AWS::IAM::ManagedPolicy" and self.ref(name) == arn:
                    statements += self.properties(name)["PolicyDocument"]["Statement"]
        return statements

    def roles(self) -> dict[str, list[dict[str, Any]]]:
        """Every role of this stack by ARN, with its statements."""
        return {
            self.get_att(name, "Arn"): self.role_statements(name)
            for name, resource in self.template["Resources"].items()
            if resource["Type"] == "AWS::IAM::Role"
        }

    def bucket_policy(self, bucket: str) -> list[dict[str, Any]]:
        """The statements of the bucket policy on a bucket of this stack (by bucket name)."""
        for name, resource in self.template["Resources"].items():
            if resource["Type"] == "AWS::S3::BucketPolicy":
                props = self.properties(name)
                if props["Bucket"] == bucket:
                    return props["PolicyDocument"]["Statement"]
        return []


# ---------------------------------------------------------------------------------------------
# The evaluator
# ---------------------------------------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    for operator, tests in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                if if_exists:
                    continue
                if base.endswith(("NotEquals", "NotLike")):
                    continue  # a missing key makes a negated operator true
                return False
            values = [str(v) for v in _listed(expected)]
            if base in ("StringEquals", "ArnEquals", "Bool"):
                ok = actual in values
            elif base in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in values
            elif base in ("StringLike", "ArnLike"):
                ok = any(_matches(v, actual) for v in values)
            elif base in ("StringNotLike", "ArnNotLike"):
                ok = not any(_matches(v, actual) for v in values)
            else:
                raise AssertionError(f"condition operator {operator} is not handled")
            if not ok:
                return False
    return True


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if not any(_matches(a, action, ignore_case=True) for a in _listed(statement["Action"])):
        return False
    if not any(_matches(r, resource) for r in _listed(statement["Resource"])):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def allowed(
    identity: list[dict[str, Any]],
    bucket_policy: list[dict[str, Any]],
    principal_arn: str,
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """Whether a principal of the account, with these identity statements, may do ``action`` on
    ``resource`` in a bucket with this policy (over TLS, as every client here uses)."""
    request = {"aws:PrincipalArn": principal_arn, "aws:SecureTransport": "true", **(context or {})}
    resource_statements = [
        s for s in bucket_policy if s.get("Principal") == "*" or s.get("Principal") == {"AWS": "*"}
    ]  # service principals (the logging service) are not this principal
    everything = identity + resource_statements
    if any(s["Effect"] == "Deny" and _applies(s, action, resource, request) for s in everything):
        return False
    return any(s["Effect"] == "Allow" and _applies(s, action, resource, request) for s in everything)


# ---------------------------------------------------------------------------------------------
# ECS's API from the template's task definitions
# ---------------------------------------------------------------------------------------------


def _api_shape(value: Any) -> Any:
    """CloudFormation's PascalCase property names as the ECS API's camelCase ones."""
    if isinstance(value, list):
        return [_api_shape(v) for v in value]
    if isinstance(value, dict):
        return {(k[0].lower() + k[1:]): _api_shape(v) for k, v in value.items()}
    return value


def register_task_definition_request(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The RegisterTaskDefinition request for a resolved ``AWS::ECS::TaskDefinition``'s
    properties (the awslogs options keep their own names)."""
    request = _api_shape(properties)
    for container, original in zip(request["containerDefinitions"], properties["ContainerDefinitions"], strict=True):
        if "LogConfiguration" in original:
            container["logConfiguration"]["options"] = dict(original["LogConfiguration"]["Options"])
    return request
