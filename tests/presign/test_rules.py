"""The pure rules: key shapes, settings from the environment, manifest entries, origins."""

from __future__ import annotations

import pytest

from presign_lambda.cors import origin_allowed
from presign_lambda.keys import KeyKind, KeyRefused, KeyRequest, parse_key
from presign_lambda.manifest import parse_manifest
from presign_lambda.settings import DEFAULT_ALLOWED_ORIGINS, ConfigError, Settings


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("processed/orders_for_viz*", KeyRequest(KeyKind.PATTERN, "", "text/csv", "orders_for_viz")),
        ("ccn_data*", KeyRequest(KeyKind.PATTERN, "", "text/csv", "ccn_data")),
        ("processed/latest_deals_*", KeyRequest(KeyKind.PATTERN, "", "text/csv", "latest_deals")),
        ("carbon_pricing_*", KeyRequest(KeyKind.PATTERN, "", "text/csv", "carbon_pricing")),
        (
            "processed/carbon_pricing_20261127_2.csv",
            KeyRequest(KeyKind.VERSION, "processed/carbon_pricing_20261127_2.csv", "text/csv", "carbon_pricing"),
        ),
        (
            "processed/ccn_data_20261127_999.csv",
            KeyRequest(KeyKind.VERSION, "processed/ccn_data_20261127_999.csv", "text/csv", "ccn_data"),
        ),
        ("viz/v2/cdr_page.js", KeyRequest(KeyKind.VIZ, "viz/v2/cdr_page.js", "application/javascript")),
        ("viz/v12/chart_templates.css", KeyRequest(KeyKind.VIZ, "viz/v12/chart_templates.css", "text/css")),
        (
            "processed/latest_deals_20260105.csv",
            KeyRequest(KeyKind.VERSION, "processed/latest_deals_20260105.csv", "text/csv", "latest_deals"),
        ),
        ("processed/manifest.json", KeyRequest(KeyKind.MANIFEST, "processed/manifest.json", "application/json")),
        ("viz/chart_templates.js", KeyRequest(KeyKind.VIZ, "viz/chart_templates.js", "application/javascript")),
        ("viz/dashboard.min.css", KeyRequest(KeyKind.VIZ, "viz/dashboard.min.css", "text/css")),
        # Shape only: whether the dataset exists is the service's 404, not a 400.
        ("processed/unknown_thing*", KeyRequest(KeyKind.PATTERN, "", "text/csv", "unknown_thing")),
    ],
)
def test_accepted_key_shapes(key: str, expected: KeyRequest) -> None:
    assert parse_key(key) == expected


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "missing key parameter"),
        ("x" * 201, "key longer than 200 characters"),
        ("processed/orders\x7f*", "key contains control characters"),
        ("processed/orders\u0085*", "key contains control characters"),
        ("processed/%2e%2e/raw/a.csv", "key must not be URL-encoded twice"),
        ("processed\\orders_for_viz*", "key must not contain backslashes"),
        ("viz/../raw/a.js", "key must not contain '..'"),
        ("http://evil.example/viz/a.js", "key must be a relative key, not a URL or absolute path"),
        ("/viz/a.js", "key must be a relative key, not a URL or absolute path"),
        ("viz//a.js", "key must not contain '//'"),
        ("processed/orders_for_viz_20260230.csv", "the date in the key is not a real YYYYMMDD date"),
        ("processed/orders_for_viz_20260230_2.csv", "the date in the key is not a real YYYYMMDD date"),
    ],
)
def test_refused_keys_say_why(key: str, message: str) -> None:
    with pytest.raises(KeyRefused) as refused:
        parse_key(key)
    assert str(refused.value) == message


def test_a_200_character_key_is_not_too_long() -> None:
    key = "processed/" + "a" * 189 + "*"
    assert len(key) == 200
    assert parse_key(key).dataset == "a" * 189


def test_settings_defaults() -> None:
    assert Settings.from_env({"CDR_DASHBOARD_BUCKET": "cdr-dashboard-prod"}) == Settings(
        bucket="cdr-dashboard-prod",
        allowed_origins=frozenset(
            {
                "https://www.deepskyclimate.com",
                "https://fr.deepskyclimate.com",
                "https://deepskyclimate.com",
                "https://deepsky.webflow.io",
                "https://deepsky.design.webflow.com",
            }
        ),
        url_expires_seconds=300,
        manifest_cache_seconds=60.0,
    )
    assert "http://localhost:8000" not in DEFAULT_ALLOWED_ORIGINS


def test_settings_from_environment() -> None:
    settings = Settings.from_env(
        {
            "CDR_DASHBOARD_BUCKET": "b-test",
            "PRESIGN_ALLOWED_ORIGINS": " http://localhost:8000 , https://deepsky.webflow.io,",
            "PRESIGN_URL_EXPIRES_SECONDS": "120",
            "PRESIGN_MANIFEST_CACHE_SECONDS": "0",
        }
    )
    assert settings == Settings("b-test", frozenset({"http://localhost:8000", "https://deepsky.webflow.io"}), 120, 0.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "CDR_DASHBOARD_BUCKET must be set to an S3 bucket name"),
        ({"CDR_DASHBOARD_BUCKET": "Bad_Bucket"}, "CDR_DASHBOARD_BUCKET must be set to an S3 bucket name"),
        ({"PRESIGN_ALLOWED_ORIGINS": "*"}, "PRESIGN_ALLOWED_ORIGINS must list origins like https://host[:port], comma-separated"),
        (
            {"PRESIGN_ALLOWED_ORIGINS": "https://deepsky.webflow.io/page"},
            "PRESIGN_ALLOWED_ORIGINS must list origins like https://host[:port], comma-separated",
        ),
        ({"PRESIGN_URL_EXPIRES_SECONDS": "5m"}, "PRESIGN_URL_EXPIRES_SECONDS must be a number"),
        ({"PRESIGN_URL_EXPIRES_SECONDS": "0"}, "PRESIGN_URL_EXPIRES_SECONDS must be between 1 and 604800"),
        ({"PRESIGN_URL_EXPIRES_SECONDS": "604801"}, "PRESIGN_URL_EXPIRES_SECONDS must be between 1 and 604800"),
        ({"PRESIGN_MANIFEST_CACHE_SECONDS": "-1"}, "PRESIGN_MANIFEST_CACHE_SECONDS must be between 0 and 86400"),
        ({"PRESIGN_MANIFEST_CACHE_SECONDS": "nan"}, "PRESIGN_MANIFEST_CACHE_SECONDS must be between 0 and 86400"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"CDR_DASHBOARD_BUCKET": "b-test", **env} if env else {})
    assert str(error.value) == message


def test_manifest_keeps_only_allowlisted_datasets_with_their_own_dated_keys() -> None:
    raw = b"""{"version": 1, "datasets": {
        "orders_for_viz": {"key": "processed/orders_for_viz_20261127.csv", "rows": 2200},
        "latest_deals": {"key": "processed/orders_for_viz_20261127.csv"},
        "ccn_data": {"key": "raw/ccn_companies.csv"},
        "dollars_spent": {"key": "processed/dollars_spent_20261127.csv.bak"},
        "suppliers_for_viz": "processed/suppliers_for_viz_20261127.csv",
        "purchasers_for_viz": {"rows": 3},
        "secret_table": {"key": "processed/secret_table_20261127.csv"}}}"""
    assert parse_manifest(raw) == {"orders_for_viz": "processed/orders_for_viz_20261127.csv"}


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"datasets": []}', b"\xff\xfe"])
def test_manifest_that_is_not_a_manifest_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_manifest(raw)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://deepsky.webflow.io", True),
        ("https://deepsky.webflow.io.evil.example", False),
        ("https://evil-deepskyclimate.com", False),
        ("HTTPS://WWW.DEEPSKYCLIMATE.COM", False),
        ("https://www.deepskyclimate.com/", False),
        (None, False),
    ],
)
def test_origin_match_is_exact(origin: str | None, allowed: bool) -> None:
    assert origin_allowed(origin, frozenset(DEFAULT_ALLOWED_ORIGINS)) is allowed
