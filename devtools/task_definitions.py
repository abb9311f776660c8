"""The Dagster tier's CloudFormation (deployment/dagster_stack.yaml) read the way `dev.py rehearse`
needs it: each task definition's container with its command, environment and secrets, every
intrinsic (!Ref, !Sub, !GetAtt, !FindInMap, !If, !Join, ...) resolved to a local value. The
deployment tests resolve both templates with the same ``Resolver`` (tests/deployment/cloudformation.py).

What exists only in AWS gets a local stand-in, derived from the template rather than hard-coded:
the database endpoint and service-discovery names are 127.0.0.1, a container port is a free
local port, a path the Dockerfile copies into the image (or a task volume) is a local folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"  # moto's default account
LOCALHOST = "127.0.0.1"


class StackError(Exception):
    """The template (or the files it names) cannot be rehearsed: one sentence says why."""


def load_template(path: Path) -> dict[str, Any]:
    """The template as CloudFormation reads it (cfn-lint's decoder loads the short-form intrinsics)."""
    from cfnlint.decode import decode

    if not path.is_file():
        raise StackError(f"the Dagster stack template {path} does not exist")
    template, matches = decode(str(path))
    if matches or template is None:
        raise StackError(f"{path} is not a readable CloudFormation template: {matches[0].message if matches else 'empty'}")
    return template


@dataclass(frozen=True)
class Container:
    """One container of a task definition, resolved: what a process standing in for it gets."""

    task_definition: str  # logical id in the template
    family: str
    name: str
    image: str
    command: list[str]
    environment: dict[str, str]
    secrets: dict[str, str]  # variable -> ValueFrom (a secret's ARN, resolved)
    ports: list[int]  # container ports
    registration: dict[str, Any] = field(repr=False)  # RegisterTaskDefinition arguments


@dataclass
class Resolver:
    """Resolves a template's intrinsics with local values for parameters and resources."""

    template: dict[str, Any]
    parameters: dict[str, Any]
    region: str
    stack_name: str
    # local stand-ins: a resource's !Ref, and "Logical.Attribute" of !GetAtt
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)

    def resources(self) -> dict[str, Any]:
        return self.template.get("Resources", {})

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT}:stack/{self.stack_name}/1",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }.get(name, f"local-{name}")

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        resource = self.resources().get(name)
        if resource is None:
            raise StackError(f"!Ref {name} names neither a parameter nor a resource of the template")
        props = self.resolve(resource.get("Properties", {}))
        kind = resource["Type"]
        named = {
            "AWS::ECS::Cluster": "ClusterName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::IAM::Role": "RoleName",
            "AWS::S3::Bucket": "BucketName",
            "AWS::ECR::Repository": "RepositoryName",
            "AWS::ECS::Service": "ServiceName",
            "AWS::Lambda::Function": "FunctionName",
        }
        if kind in named and props.get(named[kind]):
            return props[named[kind]]
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{ACCOUNT}:policy/{props.get('ManagedPolicyName', name)}"
        if kind == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:{props.get('Name', name)}"
        if kind == "AWS::ECS::TaskDefinition":
            return f"arn:aws:ecs:{self.region}:{ACCOUNT}:task-definition/{props.get('Family', name)}:1"
        return self.unknown(name)

    def get_att(self, name: str, attribute: str) -> Any:
        key = f"{name}.{attribute}"
        if key in self.attributes:
            return self.attributes[key]
        resource = self.resources().get(name)
        if resource is None:
            raise StackError(f"!GetAtt {key} names no resource of the template")
        props = self.resolve(resource.get("Properties", {}))
        kind = resource["Type"]
        arns = {
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{props.get('RoleName', name)}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{self.ref(name)}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{self.ref(name)}",
            "AWS::ECS::Cluster": f"arn:aws:ecs:{self.region}:{ACCOUNT}:cluster/{self.ref(name)}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{self.ref(name)}:*",
            "AWS::ECR::Repository": f"arn:aws:ecr:{self.region}:{ACCOUNT}:repository/{self.ref(name)}",
        }
        if attribute == "Arn" and kind in arns:
            return arns[kind]
        if kind == "AWS::ECR::Repository" and attribute == "RepositoryUri":
            return f"{ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com/{props.get('RepositoryName', name.lower())}"
        if kind == "AWS::ECS::Service" and attribute == "Name":
            return props.get("ServiceName", name)
        return self.unknown(key)

    def unknown(self, key: str) -> Any:
        """What stands in for a !Ref (``Logical``) or !GetAtt (``Logical.Attribute``) that only AWS
        knows (an id it makes up): a local name, a local ARN, or an error naming it."""
        if "." not in key:
            return f"local-{key}"
        if key.endswith(".Arn"):
            return f"arn:aws:local:{self.region}:{ACCOUNT}:{key.removesuffix('.Arn')}"
        raise StackError(f"!GetAtt {key} has no local stand-in")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                return str(variables[inner])
            if "." in inner and not inner.startswith("AWS::"):
                logical, attribute = inner.split(".", 1)
                return str(self.get_att(logical, attribute))
            return str(self.ref(inner))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), *_ = value.items()
            function = self._functions().get(key)
            if function is not None:
                return function(arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        def ref(arg: str) -> Any:
            return _NO_VALUE if arg == "AWS::NoValue" else self.ref(arg)

        def get_att(arg: Any) -> Any:
            logical, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return self.get_att(logical, self.resolve(attribute))

        def sub(arg: Any) -> str:
            if isinstance(arg, str):
                return self.sub(arg, {})
            return self.sub(arg[0], self.resolve(arg[1]))

        def find_in_map(arg: list[Any]) -> Any:
            name, first, second = self.resolve(arg)
            return self.template["Mappings"][name][first][second]

        def if_(arg: list[Any]) -> Any:
            return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])

        def equals(arg: list[Any]) -> bool:
            left, right = self.resolve(arg)
            return str(left) == str(right)

        return {
            "Ref": ref,
            "Fn::GetAtt": get_att,
            "Fn::Sub": sub,
            "Fn::FindInMap": find_in_map,
            "Fn::If": if_,
            "Fn::Equals": equals,
            "Fn::Not": lambda arg: not self.resolve(arg[0]),
            "Fn::And": lambda arg: all(self.resolve(arg)),
            "Fn::Or": lambda arg: any(self.resolve(arg)),
            "Condition": self.condition,
            "Fn::Join": lambda arg: str(self.resolve(arg[0])).join(str(v) for v in self.resolve(arg[1])),
            "Fn::Select": lambda arg: self.resolve(arg[1])[int(self.resolve(arg[0]))],
            "Fn::Split": lambda arg: str(self.resolve(arg[1])).split(self.resolve(arg[0])),
            "Fn::GetAZs": lambda arg: [f"{self.region}a", f"{self.region}b"],
            "Fn::ImportValue": self._import_value,
        }

    def _import_value(self, arg: Any) -> Any:
        name = self.resolve(arg)
        if name in self.refs:
            return self.refs[name]
        raise StackError(f"!ImportValue {name} has no local stand-in")


_NO_VALUE = object()


def _camel(value: Any) -> Any:
    """CloudFormation's property names (ContainerDefinitions) as the ECS API spells them."""
    if isinstance(value, list):
        return [_camel(v) for v in value]
    if isinstance(value, dict):
        keep = {"Options", "DockerLabels"}  # maps of user keys, not properties
        return {k[0].lower() + k[1:]: (v if k in keep else _camel(v)) for k, v in value.items()}
    return value


def task_definitions(resolver: Resolver) -> dict[str, Container]:
    """Every container of every AWS::ECS::TaskDefinition, by container name."""
    containers: dict[str, Container] = {}
    for logical, resource in resolver.resources().items():
        if resource.get("Type") != "AWS::ECS::TaskDefinition":
            continue
        props = resolver.resolve(resource.get("Properties", {}))
        registration = _camel({k: v for k, v in props.items() if k != "Tags"})
        registration["family"] = props.get("Family", logical)
        for definition in registration["containerDefinitions"]:
            # moto's RunTask adds up container-level memory (it fails without one); Fargate allows it
            definition.setdefault("memory", int(props.get("Memory", 512)))
            definition["environment"] = [{"name": e["name"], "value": str(e["value"])} for e in definition.get("environment", [])]
        for definition, raw in zip(registration["containerDefinitions"], props.get("ContainerDefinitions", []), strict=True):
            containers[definition["name"]] = Container(
                task_definition=logical,
                family=registration["family"],
                name=definition["name"],
                image=str(definition.get("image", "")),
                command=[str(c) for c in raw.get("Command", [])],
                environment={e["name"]: e["value"] for e in definition["environment"]},
                secrets={s["name"]: str(s["valueFrom"]) for s in definition.get("secrets", [])},
                ports=[int(p["containerPort"]) for p in definition.get("portMappings", [])],
                registration=registration,
            )
    return containers


def services(resolver: Resolver) -> dict[str, dict[str, Any]]:
    """Each AWS::ECS::Service's properties, resolved, by the logical id of its task definition."""
    found: dict[str, dict[str, Any]] = {}
    for resource in resolver.resources().values():
        if resource.get("Type") == "AWS::ECS::Service":
            task_definition = resource["Properties"]["TaskDefinition"]
            if isinstance(task_definition, dict) and "Ref" in task_definition:
                found[task_definition["Ref"]] = resolver.resolve(resource["Properties"])
    return found


def discovery_names(resolver: Resolver) -> set[str]:
    """The DNS names service discovery gives (<service>.<namespace>): 127.0.0.1 here."""
    resources = resolver.resources()
    names = set()
    for resource in resources.values():
        if resource.get("Type") == "AWS::ServiceDiscovery::Service":
            props = resource["Properties"]
            namespace_ref = props.get("NamespaceId", {}).get("Ref") if isinstance(props.get("NamespaceId"), dict) else None
            namespace = resources.get(namespace_ref or "", {}).get("Properties", {})
            if namespace.get("Name"):
                names.add(f"{resolver.resolve(props['Name'])}.{resolver.resolve(namespace['Name'])}")
    return names


def dockerfile_copies(dockerfile: Path) -> dict[str, str]:
    """Image path -> repository path of each COPY of a folder (``COPY deployment/dagster /opt/...``)."""
    copies = {}
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if words and words[0].upper() == "COPY":
            sources = [w for w in words[1:] if not w.startswith("--")]
            if len(sources) == 2 and not sources[1].endswith("/") and not sources[1].startswith("."):
                copies[sources[1]] = sources[0]
    return copies


def dockerfile_env(dockerfile: Path) -> dict[str, str]:
    """The image's ``ENV NAME=value`` settings (continuation lines joined)."""
    import shlex

    text = dockerfile.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0].upper() == "ENV":
            env.update(tuple(word.split("=", 1)) for word in words[1:] if "=" in word)  # type: ignore[misc]
    return env


def env_references(config: Any) -> list[str]:
    """Every ``{env: NAME}`` in a Dagster YAML file (instance or workspace), in order."""
    found: list[str] = []
    if isinstance(config, dict):
        if set(config) == {"env"} and isinstance(config["env"], str):
            return [config["env"]]
        for value in config.values():
            found += [n for n in env_references(value) if n not in found]
    elif isinstance(config, list):
        for value in config:
            found += [n for n in env_references(value) if n not in found]
    return found
