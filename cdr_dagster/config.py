"""Every environment variable the platform reads: its name, its default and the sentence that says
it is missing or wrong. Every reader imports the name from here; the README's Settings table
describes them.

``setting_problems`` returns one sentence per missing or wrong variable of the deployment
``DAGSTER_DEPLOYMENT`` names (an empty list: all is well). ``dev.py refresh`` and ``rerun`` print
them and launch nothing; the resources raise the same sentences, once, as a failure that is never
retried.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DEPLOYMENT_ENV_VAR = "DAGSTER_DEPLOYMENT"
DEPLOYMENTS = ("local", "test", "prod")
DEFAULT_DEPLOYMENT = "local"
TOKEN_ENV_VAR = "CDR_FYI_API_TOKEN"  # secret
API_URL_ENV_VAR = "CDR_FYI_API_URL"
SITE_URL_ENV_VAR = "CDR_FYI_SITE_URL"
DATA_DIR_ENV_VAR = "CDR_DATA_DIR"
DEFAULT_DATA_DIR = "data"
BUCKET_ENV_VAR = "CDR_DASHBOARD_BUCKET"
REGION_ENV_VAR = "AWS_REGION"
DEFAULT_REGION = "ca-central-1"
WEBHOOK_ENV_VAR = "SLACK_WEBHOOK_URL"  # secret
CRON_ENV_VAR = "CDR_WEEKLY_CRON"
DEFAULT_WEEKLY_CRON = "0 6 * * 1"  # Mondays 06:00 UTC, before Europe and the Americas read the page

TOKEN_MISSING = f"{TOKEN_ENV_VAR} is not set: the live cdr.fyi pull needs a partner API token (cdr.fyi, Settings > API Access)."
BUCKET_MISSING = f"{BUCKET_ENV_VAR} is not set: name this deployment's S3 bucket."
WEBHOOK_MISSING = f"{WEBHOOK_ENV_VAR} not set; message not sent to Slack"

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CRON_FIELD = re.compile(r"^[0-9*,/\-A-Za-z?]+$")


def deployment_problem(deployment: str) -> str | None:
    if deployment in DEPLOYMENTS:
        return None
    return f"{DEPLOYMENT_ENV_VAR}={deployment!r} is not a deployment: use one of {', '.join(DEPLOYMENTS)}."


def deployment_name(env: Mapping[str, str]) -> str:
    """The deployment ``env`` names (blank: the default), valid or not."""
    return env.get(DEPLOYMENT_ENV_VAR, DEFAULT_DEPLOYMENT).strip() or DEFAULT_DEPLOYMENT


def token_problem(token: str) -> str | None:
    """Why a token cannot be sent as a header, without ever quoting it. Surrounding whitespace is
    fine (a secret stored from a file often ends with a newline; the client strips it)."""
    stripped = token.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in stripped):
        return f"{TOKEN_ENV_VAR} contains a control character inside it: store the token alone, on one line."
    if any(c.isspace() for c in stripped):
        return f"{TOKEN_ENV_VAR} contains a space inside it: store the token alone, on one line."
    return None


def weekly_cron(env: Mapping[str, str]) -> str:
    return env.get(CRON_ENV_VAR, DEFAULT_WEEKLY_CRON).strip() or DEFAULT_WEEKLY_CRON


def setting_problems(env: Mapping[str, str]) -> list[str]:
    """One sentence per missing or wrong setting of the deployment ``env`` describes."""
    deployment = deployment_name(env)
    if problem := deployment_problem(deployment):
        return [problem]
    problems = []
    token = env.get(TOKEN_ENV_VAR, "")
    if deployment != "local":
        if not token.strip():
            problems.append(TOKEN_MISSING)
        bucket = env.get(BUCKET_ENV_VAR, "").strip()
        if not bucket:
            problems.append(BUCKET_MISSING)
        elif not _BUCKET.match(bucket):
            problems.append(f"{BUCKET_ENV_VAR}={bucket!r} is not a valid S3 bucket name.")
    if token.strip() and (problem := token_problem(token)):
        problems.append(problem)
    cron = env.get(CRON_ENV_VAR, "").strip()
    if cron and (len(cron.split()) != 5 or not all(_CRON_FIELD.match(f) for f in cron.split())):
        problems.append(f"{CRON_ENV_VAR}={cron!r} is not a cron schedule of five fields (for example '{DEFAULT_WEEKLY_CRON}').")
    return problems
