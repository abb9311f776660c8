"""Fixtures: one moto S3 server over HTTP for the session.

The standard bucket is filled once and only read; a test that writes gets its own new bucket.
"""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Iterator

import pytest

from devtools.s3_server import S3Server, patched_env, running_s3_server
from presign_lambda import handler
from presign_lambda.s3 import build_s3_client
from presign_lambda.service import PresignService
from presign_lambda.settings import Settings
from tests.presign.builders import BUCKET, Clock, Publisher

# What the standard bucket holds; every test compares downloads with these exact bytes.
ORDERS_OLD = b"date,tons_purchased_cum\n2026-11-26,10\n"
CSV = {
    "orders_for_viz": b"date,tons_purchased_cum,tons_delivered_cum\n2026-11-27,12,3\n",
    "purchasers_for_viz": b"date,purchasers_count_cum,dac_purchasers_count_cum\n2026-11-27,5,2\n",
    "latest_deals": b"announcement_date,supplier_name\n2026-11-27,Climeworks\n",
    "suppliers_for_viz": b"year,name,is_dac,tons_sold\n2026,Climeworks,1,7\n",
    "dollars_spent": b"metric,value\ndollars_spent,123456\n",
    "ccn_data": b"year,companies_founded\n2026,4\n",
    "carbon_pricing": b"year,countries_count,global_emissions_pct\n2025,80,28.0\n",
}
# carbon_pricing was republished the same day: the manifest names the second publication (D3).
CARBON_FIRST = b"year,countries_count,global_emissions_pct\n2025,79,27.5\n"
NEWEST_KEYS = {dataset: f"processed/{dataset}_20261127.csv" for dataset in CSV}
NEWEST_KEYS["carbon_pricing"] = "processed/carbon_pricing_20261127_2.csv"
CHART_JS = b"window.chartTemplates = {};\n"
DASHBOARD_CSS = b".chart { width: 100%; }\n"
# The new page code ships under viz/v2/ (D1); the old embed's viz/chart_templates.js stays.
CHART_JS_V2 = b"window.cdrPage = {version: 2};\n"
CHART_CSS_V2 = b".cdr-chart { height: 320px; }\n"
RAW_CCN = b"company_name,year_founded,pathway\nSecret Co,2020,DAC\n"

# Variables the service reads; each test starts with them unset unless it sets them.
PRESIGN_VARS = (
    "PRESIGN_ALLOWED_ORIGINS",
    "PRESIGN_URL_EXPIRES_SECONDS",
    "PRESIGN_MANIFEST_CACHE_SECONDS",
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
)
_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with running_s3_server() as server:
        yield server


@pytest.fixture(scope="session")
def standard_bucket(s3_server: S3Server) -> Publisher:
    """All seven datasets published on 2026-11-27 (orders also on the 26th, carbon_pricing twice
    that day), the page's old and new (viz/v2/) code, and raw/ and staging/ objects that must
    never be presigned. Tests only read it."""
    s3_server.create_bucket(BUCKET)
    publisher = Publisher(s3_server.client(), BUCKET)
    publisher.publish("orders_for_viz", "20261126", ORDERS_OLD, manifest=False)
    publisher.publish("carbon_pricing", "20261127", CARBON_FIRST, manifest=False)
    for dataset, data in CSV.items():
        republish = 2 if dataset == "carbon_pricing" else None
        publisher.publish(dataset, "20261127", data, manifest=False, republish=republish)
    publisher.write_manifest()
    publisher.put("viz/chart_templates.js", CHART_JS)
    publisher.put("viz/dashboard.css", DASHBOARD_CSS)
    publisher.put("viz/v2/chart_templates.js", CHART_JS_V2)
    publisher.put("viz/v2/chart_templates.css", CHART_CSS_V2)
    publisher.put("raw/ccn_companies.csv", RAW_CCN)
    publisher.put("staging/orders_for_viz.csv", CSV["orders_for_viz"])
    return publisher


@contextlib.contextmanager
def service_env(server: S3Server, bucket: str) -> Iterator[None]:
    """The environment a deployed function would have, and a cold handler (a new container)."""
    env: dict[str, str | None] = {**server.env(), "CDR_DASHBOARD_BUCKET": bucket}
    env.update(dict.fromkeys(PRESIGN_VARS))
    with patched_env(env):
        handler.reset()
        try:
            yield
        finally:
            handler.reset()


@pytest.fixture
def published(s3_server: S3Server, standard_bucket: Publisher) -> Iterator[Publisher]:
    """The handler configured for the standard bucket (read-only)."""
    with service_env(s3_server, standard_bucket.bucket):
        yield standard_bucket


@pytest.fixture
def publisher(s3_server: S3Server) -> Iterator[Publisher]:
    """The handler configured for a new, empty bucket this test may write to."""
    name = f"cdr-dashboard-w{next(_bucket_numbers)}"
    s3_server.create_bucket(name)
    with service_env(s3_server, name):
        yield Publisher(s3_server.client(), name)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_service(clock: Clock):
    """Build a service from the current environment with the test clock and a captured log."""

    def make(attempts: int = 2) -> tuple[PresignService, io.StringIO]:
        log = io.StringIO()
        service = PresignService(Settings.from_env(), build_s3_client(attempts), clock=clock, log_stream=log)
        return service, log

    return make
