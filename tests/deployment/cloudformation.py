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
from collections.abc import Mapping
from typing import Any

from devtools.task_definitions import Resolver

REGION = "ca-central-1"


class Stack(Resolver):
    """The template resolved for one set of parameters (names, ARNs, conditions) by devtools'
    resolver, the one `dev.py rehearse` reads the task definitions with."""

    def __init__(self, template: dict[str, Any], parameters: Mapping[str, Any]) -> None:
        super().__init__(template, dict(parameters), region=REGION, stack_name="this-stack")

    def unknown(self, key: str) -> str:
        """An id only AWS makes up (the API's, a security group's, an endpoint), named as such."""
        return f"<{key}>"

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
