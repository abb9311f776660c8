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

from cdr_dagster.config import (
    API_URL_ENV_VAR,
    BUCKET_ENV_VAR,
    DATA_DIR_ENV_VAR,
    DEFAULT_DATA_DIR,
    DEFAULT_REGION,
    REGION_ENV_VAR,
    SITE_URL_ENV_VAR,
    TOKEN_ENV_VAR,
    WEBHOOK_ENV_VAR,
    deployment_name,
    deployment_problem,
)
from cdr_dagster.resources.cdr_fyi_api import DEFAULT_BASE_URL, CdrFyiApi
from cdr_dagster.resources.cdr_fyi_site import DEFAULT_SITE_URL, CdrFyiSite
from cdr_dagster.resources.csv_io_manager import CsvIOManager, StagedFileLoader
from cdr_dagster.resources.input_files import CarbonPricingFile, CcnCompaniesFile
from cdr_dagster.resources.quality_thresholds import QualityThresholds
from cdr_dagster.resources.slack import SlackWebhook
from cdr_dagster.resources.storage import LocalStorage


def current_deployment() -> str:
    """The deployment this process runs as, read once at load time. Assets and sensors read it
    from the ``deployment`` resource instead (a plain string: ``dg.ResourceParam[str]``)."""
    deployment = deployment_name(os.environ)
    if problem := deployment_problem(deployment):
        raise ValueError(problem)
    return deployment


def _shared(deployment: str, storage: Any, api: CdrFyiApi, site: CdrFyiSite, samples: bool) -> dict[str, Any]:
    return {
        "deployment": deployment,
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
    storage = LocalStorage(base_dir=os.getenv(DATA_DIR_ENV_VAR, DEFAULT_DATA_DIR))
    api = CdrFyiApi(
        base_url=os.getenv(API_URL_ENV_VAR, DEFAULT_BASE_URL),
        token=dg.EnvVar(TOKEN_ENV_VAR) if has_token else "",
        use_sample=not has_token,
    )
    site = CdrFyiSite(url=os.getenv(SITE_URL_ENV_VAR, DEFAULT_SITE_URL), use_sample=not has_token)
    return _shared("local", storage, api, site, samples=True)


def cloud_resources(deployment: str) -> dict[str, Any]:
    """test and prod: the deployment's bucket and live sources, configured by environment."""
    # imported here: dagster-aws (and boto3) load only for a deployment that uses S3
    from dagster_aws.s3 import S3Resource

    from cdr_dagster.resources.s3_storage import S3Storage

    storage = S3Storage(
        s3=S3Resource(region_name=os.getenv(REGION_ENV_VAR, DEFAULT_REGION)),
        bucket=os.getenv(BUCKET_ENV_VAR, ""),
    )
    api = CdrFyiApi(
        base_url=os.getenv(API_URL_ENV_VAR, DEFAULT_BASE_URL),
        token=dg.EnvVar(TOKEN_ENV_VAR) if os.getenv(TOKEN_ENV_VAR) else "",
    )
    site = CdrFyiSite(url=os.getenv(SITE_URL_ENV_VAR, DEFAULT_SITE_URL))
    return _shared(deployment, storage, api, site, samples=False)


def resources_for(deployment: str) -> dict[str, Any]:
    return local_resources() if deployment == "local" else cloud_resources(deployment)
