"""Shared fixtures: real local stand-ins for the outside world."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devtools.s3_server import FAKE_AWS_ENV, S3Server, running_s3_server

# Slow tests: a whole Dagster job, a browser, a database or a subprocess code location.
# `pytest -m "not e2e"` is the fast loop (about half a minute); CI runs everything.
E2E_MODULES = frozenset(
    {
        "tests/assets/test_weekly_refresh.py",
        "tests/assets/test_quality_gates.py",
        "tests/deployment/test_dagster_instance.py",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.relative_to(config.rootpath).as_posix()
        if path in E2E_MODULES or item.get_closest_marker("browser") or item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.e2e)


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
    for name in (
        "CDR_FYI_API_TOKEN",
        "CDR_DASHBOARD_BUCKET",
        "DAGSTER_DEPLOYMENT",
        "SLACK_WEBHOOK_URL",
        "CDR_FYI_API_URL",
        "CDR_FYI_SITE_URL",
        "CDR_DATA_DIR",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    assert "CDR_FYI_API_TOKEN" not in os.environ
