"""Run a checkout's deployment/deploy.py as the team does, but with CloudFormation answered by
botocore's Stubber, as dagster-aws's own tests answer ECS: moto's CloudFormation cannot create the
real templates. The Stubber checks each request against CloudFormation's service model and
answers from a JSON list of ``[method, response]``; every CloudFormation request is appended, as
deploy.py made it, to a JSON-lines log (which a test's own commands may append to as well, so the
log shows the order of both). Every other service is moto's server, as in the other tests.

    python stubbed_deploy.py <checkout> <answers.json> <log.jsonl> <deploy.py arguments...>
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber


def main() -> int:
    checkout, answers, log = sys.argv[1:4]
    sys.path.insert(0, checkout)  # the checkout's deploy.py, not the repository's
    from deployment import deploy

    cloudformation = boto3.session.Session(region_name="ca-central-1").client("cloudformation")
    stubber = Stubber(cloudformation)
    for method, response in json.loads(Path(answers).read_text()):
        stubber.add_response(method, response)

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        with Path(log).open("a") as out:
            out.write(json.dumps({"operation": model.name, "params": params}) + "\n")

    cloudformation.meta.events.register("before-parameter-build.cloudformation", record)
    stubber.activate()

    def client(service: str, region: str) -> Any:
        return cloudformation if service == "cloudformation" else deploy.aws_client(service, region)

    return deploy.main(sys.argv[4:], Path(checkout), client)


if __name__ == "__main__":
    sys.exit(main())
