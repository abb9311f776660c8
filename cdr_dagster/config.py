"""The platform's settings, checked once before anything touches a source.

``setting_problems`` returns one sentence per missing or wrong environment variable of the
deployment ``DAGSTER_DEPLOYMENT`` names (an empty list: all is well). ``dev.py refresh`` and
``rerun`` print them and launch nothing; the resources raise the same sentence, once, as a
failure that is never retried.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cdr_dagster.cdr_fyi.client import TOKEN_ENV_VAR, CdrFyiTokenError, clean_token

DEPLOYMENT_ENV_VAR = "DAGSTER_DEPLOYMENT"
DEPLOYMENTS = ("local", "test", "prod")
BUCKET_ENV_VAR = "CDR_DASHBOARD_BUCKET"
CRON_ENV_VAR = "CDR_WEEKLY_CRON"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CRON_FIELD = re.compile(r"^[0-9*,/\-A-Za-z?]+$")


def token_problem(token: str) -> str | None:
    """Why a token cannot be sent as a header, without ever quoting it (the client's own rule)."""
    try:
        clean_token(token)
    except CdrFyiTokenError as error:
        return str(error)
    return None


def setting_problems(env: Mapping[str, str]) -> list[str]:
    """One sentence per missing or wrong setting of the deployment ``env`` describes."""
    deployment = env.get(DEPLOYMENT_ENV_VAR, "local").strip() or "local"
    if deployment not in DEPLOYMENTS:
        return [f"{DEPLOYMENT_ENV_VAR}={deployment!r} is not a deployment: use one of {', '.join(DEPLOYMENTS)}."]
    problems = []
    token = env.get(TOKEN_ENV_VAR, "")
    if deployment != "local":
        if not token.strip():
            problems.append(
                f"{TOKEN_ENV_VAR} is not set: the {deployment} deployment pulls live data and needs the partner API token."
            )
        bucket = env.get(BUCKET_ENV_VAR, "").strip()
        if not bucket:
            problems.append(f"{BUCKET_ENV_VAR} is not set: name the {deployment} deployment's S3 bucket.")
        elif not _BUCKET.match(bucket):
            problems.append(f"{BUCKET_ENV_VAR}={bucket!r} is not a valid S3 bucket name.")
    if token.strip() and (problem := token_problem(token)):
        problems.append(problem)
    cron = env.get(CRON_ENV_VAR, "").strip()
    if cron and (len(cron.split()) != 5 or not all(_CRON_FIELD.match(f) for f in cron.split())):
        problems.append(f"{CRON_ENV_VAR}={cron!r} is not a cron schedule of five fields (for example '0 6 * * 1').")
    return problems
