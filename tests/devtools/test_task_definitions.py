"""Reading a task definition out of CloudFormation with local values for what exists only in AWS."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.task_definitions import (
    Resolver,
    StackError,
    discovery_names,
    dockerfile_copies,
    dockerfile_env,
    env_references,
    load_template,
    services,
    task_definitions,
)

TEMPLATE = """\
Parameters:
  Deployment: {Type: String, AllowedValues: [test, prod]}
  Subnets: {Type: "List<AWS::EC2::Subnet::Id>"}
Conditions:
  IsProd: !Equals [!Ref Deployment, prod]
Mappings:
  Ports:
    Web: {Port: 3000}
Resources:
  Database:
    Type: AWS::RDS::DBInstance
    Properties: {DBName: dagster}
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties: {Name: !Sub "app-${Deployment}/db"}
  Repo:
    Type: AWS::ECR::Repository
    Properties: {RepositoryName: !Sub "app-${Deployment}"}
  Role:
    Type: AWS::IAM::Role
    Properties: {RoleName: app-task}
  Namespace:
    Type: AWS::ServiceDiscovery::PrivateDnsNamespace
    Properties: {Name: !Sub "app-${Deployment}.local"}
  Discovery:
    Type: AWS::ServiceDiscovery::Service
    Properties: {Name: web, NamespaceId: !Ref Namespace}
  WebTask:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: !Join ["-", [app, web, !Ref Deployment]]
      Memory: "1024"
      TaskRoleArn: !GetAtt Role.Arn
      ContainerDefinitions:
        - Name: web
          Image: !Sub "${Repo.RepositoryUri}:abc"
          Command: [serve, -p, "3000"]
          PortMappings: [{ContainerPort: !FindInMap [Ports, Web, Port]}]
          LogConfiguration: {LogDriver: awslogs, Options: {awslogs-group: logs}}
          Environment:
            - {Name: DB_HOST, Value: !GetAtt Database.Endpoint.Address}
            - {Name: DB_PORT, Value: !GetAtt Database.Endpoint.Port}
            - {Name: RETENTION, Value: !If [IsProd, 14, 7]}
            - {Name: REGION, Value: !Ref "AWS::Region"}
          Secrets:
            - {Name: DB_PASSWORD, ValueFrom: !Sub "${Secret}:password::"}
  WebService:
    Type: AWS::ECS::Service
    Properties:
      TaskDefinition: !Ref WebTask
      NetworkConfiguration: {AwsvpcConfiguration: {Subnets: !Ref Subnets}}
"""


@pytest.fixture()
def resolver(tmp_path: Path) -> Resolver:
    path = tmp_path / "stack.yaml"
    path.write_text(TEMPLATE)
    return Resolver(
        load_template(path),
        {"Deployment": "test", "Subnets": ["subnet-1", "subnet-2"]},
        region="ca-central-1",
        stack_name="app-test",
        attributes={"Database.Endpoint.Address": "127.0.0.1", "Database.Endpoint.Port": "5433"},
    )


def test_a_container_is_resolved_to_local_values(resolver: Resolver) -> None:
    [web] = task_definitions(resolver).values()
    assert (web.task_definition, web.family, web.name) == ("WebTask", "app-web-test", "web")
    assert web.image == "123456789012.dkr.ecr.ca-central-1.amazonaws.com/app-test:abc"
    assert web.command == ["serve", "-p", "3000"]
    assert web.ports == [3000]
    assert web.environment == {"DB_HOST": "127.0.0.1", "DB_PORT": "5433", "RETENTION": "7", "REGION": "ca-central-1"}
    assert web.secrets == {"DB_PASSWORD": "arn:aws:secretsmanager:ca-central-1:123456789012:secret:app-test/db:password::"}
    # what RegisterTaskDefinition gets: the API's spelling, container memory for moto, options kept
    [container] = web.registration["containerDefinitions"]
    assert web.registration["taskRoleArn"] == "arn:aws:iam::123456789012:role/app-task"
    assert container["memory"] == 1024
    assert container["logConfiguration"] == {"logDriver": "awslogs", "options": {"awslogs-group": "logs"}}


def test_prod_takes_the_other_branch_of_a_condition(resolver: Resolver) -> None:
    resolver.parameters["Deployment"] = "prod"
    [web] = task_definitions(resolver).values()
    assert (web.family, web.environment["RETENTION"]) == ("app-web-prod", "14")


def test_services_discovery_names_and_the_dockerfiles_folders(resolver: Resolver, tmp_path: Path) -> None:
    assert services(resolver)["WebTask"]["NetworkConfiguration"] == {"AwsvpcConfiguration": {"Subnets": ["subnet-1", "subnet-2"]}}
    assert discovery_names(resolver) == {"web.app-test.local"}
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ENV A=1 \\\n    B=two\nCOPY pyproject.toml ./\nCOPY cdr_dagster ./cdr_dagster\n"
        "COPY --chown=a:a deployment/dagster /opt/i\nENV TMPDIR=/opt/s  # scratch\n"
    )
    assert dockerfile_copies(dockerfile) == {"/opt/i": "deployment/dagster"}
    assert dockerfile_env(dockerfile) == {"A": "1", "B": "two", "TMPDIR": "/opt/s"}


def test_an_attribute_without_a_local_stand_in_is_named(resolver: Resolver) -> None:
    with pytest.raises(StackError, match=r"^!GetAtt Database\.Endpoint\.Nope has no local stand-in$"):
        resolver.get_att("Database", "Endpoint.Nope")


def test_env_references_lists_each_variable_a_dagster_file_reads_once() -> None:
    config = {"storage": {"host": {"env": "H"}, "port": {"env": "P"}}, "load_from": [{"grpc": {"host": {"env": "H"}}}]}
    assert env_references(config) == ["H", "P"]
