"""One map of resources per deployment, with the same keys, chosen once at load time.

``DAGSTER_DEPLOYMENT`` picks it: ``local`` (the default: files under ``CDR_DATA_DIR``, and the
bundled sample data when no token is set), ``test`` or ``prod`` (the deployment's own S3 bucket
and the live cdr.fyi API; sample data is never used there). Secrets stay ``dg.EnvVar`` so they are
read at run time and never shown in the UI.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from cdr_dagster.config import BUCKET_ENV_VAR, DEPLOYMENT_ENV_VAR, DEPLOYMENTS
from cdr_dagster.resources.cdr_fyi_api import DEFAULT_BASE_URL, TOKEN_ENV_VAR, CdrFyiApi
from cdr_dagster.resources.cdr_fyi_site import DEFAULT_SITE_URL, CdrFyiSite
from cdr_dagster.resources.csv_io_manager import CsvIOManager, StagedFileLoader
from cdr_dagster.resources.input_files import CarbonPricingFile, CcnCompaniesFile
from cdr_dagster.resources.quality_thresholds import QualityThresholds
from cdr_dagster.resources.slack import WEBHOOK_ENV_VAR, SlackWebhook
from cdr_dagster.resources.storage import LocalStorage

DEFAULT_REGION = "ca-central-1"


def current_deployment() -> str:
    deployment = os.getenv(DEPLOYMENT_ENV_VAR, "local").strip() or "local"
    if deployment not in DEPLOYMENTS:
        raise ValueError(f"{DEPLOYMENT_ENV_VAR}={deployment!r} is not a deployment; use one of {', '.join(DEPLOYMENTS)}")
    return deployment


def _shared(storage: Any, api: CdrFyiApi, site: CdrFyiSite, samples: bool) -> dict[str, Any]:
    return {
        "storage": storage,
        "io_manager": CsvIOManager(storage=storage),
        "staged_files": StagedFileLoader(storage=storage),
        "cdr_fyi_api": api,
        "dollars_spent_source": site,
        "ccn_input": CcnCompaniesFile(storage=storage, sample_fallback=samples),
        "carbon_pricing_input": CarbonPricingFile(storage=storage, sample_fallback=samples),
        "quality_thresholds": QualityThresholds(),
        "slack": SlackWebhook(webhook_url=dg.EnvVar(WEBHOOK_ENV_VAR) if os.getenv(WEBHOOK_ENV_VAR) else ""),
    }


def local_resources() -> dict[str, Any]:
    """A laptop: files under ./data; the sample snapshot unless a token is set."""
    has_token = bool(os.getenv(TOKEN_ENV_VAR))
    storage = LocalStorage(base_dir=os.getenv("CDR_DATA_DIR", "data"))
    api = CdrFyiApi(
        base_url=os.getenv("CDR_FYI_API_URL", DEFAULT_BASE_URL),
        token=dg.EnvVar(TOKEN_ENV_VAR) if has_token else "",
        use_sample=not has_token,
    )
    site = CdrFyiSite(url=os.getenv("CDR_FYI_SITE_URL", DEFAULT_SITE_URL), use_sample=not has_token)
    return _shared(storage, api, site, samples=True)


def cloud_resources() -> dict[str, Any]:
    """test and prod: the deployment's bucket and live sources, configured by environment."""
    # imported here: dagster-aws (and boto3) load only for a deployment that uses S3
    from dagster_aws.s3 import S3Resource

    from cdr_dagster.resources.s3_storage import S3Storage

    storage = S3Storage(
        s3=S3Resource(region_name=os.getenv("AWS_REGION", DEFAULT_REGION)),
        bucket=os.getenv(BUCKET_ENV_VAR, ""),
    )
    api = CdrFyiApi(
        base_url=os.getenv("CDR_FYI_API_URL", DEFAULT_BASE_URL),
        token=dg.EnvVar(TOKEN_ENV_VAR) if os.getenv(TOKEN_ENV_VAR) else "",
    )
    site = CdrFyiSite(url=os.getenv("CDR_FYI_SITE_URL", DEFAULT_SITE_URL))
    return _shared(storage, api, site, samples=False)


def resources_for(deployment: str) -> dict[str, Any]:
    return local_resources() if deployment == "local" else cloud_resources()
