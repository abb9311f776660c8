"""Shared fixtures: real local stand-ins for the outside world."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devtools.s3_server import FAKE_AWS_ENV, S3Server, running_s3_server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server over HTTP on a free localhost port, for the whole session."""
    with running_s3_server() as server:
        yield server


@pytest.fixture()
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    """The S3 server, emptied, with this process's boto3 pointed at it."""
    s3_server.reset()
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    yield s3_server


@pytest.fixture(autouse=True)
def _no_real_aws_or_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a developer's real credentials, token or deployment settings."""
    for name in ("CDR_FYI_API_TOKEN", "CDR_DASHBOARD_BUCKET", "DAGSTER_DEPLOYMENT", "SLACK_WEBHOOK_URL",
                 "CDR_FYI_API_URL", "CDR_FYI_SITE_URL", "CDR_DATA_DIR", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    assert "CDR_FYI_API_TOKEN" not in os.environ
