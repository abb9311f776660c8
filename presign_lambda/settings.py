"""Configuration of the presign service: fixed rules of the contract plus the environment settings."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

# The seven datasets of the dashboard contract (kept equal to the pipeline's list by
# tests/presign/test_pipeline_agreement.py). Nothing else under processed/ can ever be presigned,
# whatever the manifest says.
DATASETS: frozenset[str] = frozenset(
    {
        "orders_for_viz",
        "purchasers_for_viz",
        "latest_deals",
        "suppliers_for_viz",
        "dollars_spent",
        "ccn_data",
        "carbon_pricing",
    }
)

# Where the live page is served from (production and the Webflow staging hosts). Local development
# (http://localhost:8000) is deliberately absent: it is allowed only when configured.
DEFAULT_ALLOWED_ORIGINS: tuple[str, ...] = (
    "https://www.deepskyclimate.com",
    "https://fr.deepskyclimate.com",
    "https://deepskyclimate.com",
    "https://deepsky.webflow.io",
    "https://deepsky.design.webflow.com",
)

MANIFEST_KEY = "processed/manifest.json"
DEFAULT_URL_EXPIRES_SECONDS = 300
DEFAULT_MANIFEST_CACHE_SECONDS = 60.0
# SigV4 presigned URLs cannot live longer than seven days.
MAX_URL_EXPIRES_SECONDS = 7 * 24 * 3600
# A successful answer may be reused by a browser or CDN for a fifth of the URL's lifetime (60 s at
# the default 300 s), never more than a minute, nor longer than the service trusts its own copy of
# the manifest: the reused URL then still has 4/5 of its life left for the download, and a new
# publication reaches the page at most one more cache period later (none when the cache is 0 s,
# as in the local preview).
ANSWER_CACHE_FRACTION = 5
MAX_ANSWER_CACHE_SECONDS = 60

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class ConfigError(ValueError):
    """An environment setting is missing or invalid (the message names the variable)."""


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, validated once."""

    bucket: str
    allowed_origins: frozenset[str] = frozenset(DEFAULT_ALLOWED_ORIGINS)
    url_expires_seconds: int = DEFAULT_URL_EXPIRES_SECONDS
    manifest_cache_seconds: float = DEFAULT_MANIFEST_CACHE_SECONDS

    @property
    def answer_max_age_seconds(self) -> int:
        """``max-age`` of a successful answer: expiry / 5, at most 60 s and at most the manifest
        cache period (0: not cacheable)."""
        return min(self.url_expires_seconds // ANSWER_CACHE_FRACTION, MAX_ANSWER_CACHE_SECONDS, int(self.manifest_cache_seconds))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``CDR_DASHBOARD_BUCKET`` and the ``PRESIGN_*`` variables; raise ConfigError."""
        env = os.environ if env is None else env
        bucket = env.get("CDR_DASHBOARD_BUCKET", "").strip()
        if not _BUCKET.match(bucket):
            raise ConfigError("CDR_DASHBOARD_BUCKET must be set to an S3 bucket name")
        return cls(
            bucket=bucket,
            allowed_origins=_origins(env.get("PRESIGN_ALLOWED_ORIGINS", "")),
            url_expires_seconds=int(
                _number(
                    env,
                    "PRESIGN_URL_EXPIRES_SECONDS",
                    DEFAULT_URL_EXPIRES_SECONDS,
                    low=1,
                    high=MAX_URL_EXPIRES_SECONDS,
                    integer=True,
                )
            ),
            manifest_cache_seconds=_number(
                env,
                "PRESIGN_MANIFEST_CACHE_SECONDS",
                DEFAULT_MANIFEST_CACHE_SECONDS,
                low=0,
                high=24 * 3600,
                integer=False,
            ),
        )


def _origins(raw: str) -> frozenset[str]:
    """Comma-separated origins; blank means the defaults. A wildcard is never accepted."""
    origins = [o.strip() for o in raw.split(",") if o.strip()]
    if not origins:
        return frozenset(DEFAULT_ALLOWED_ORIGINS)
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ConfigError("PRESIGN_ALLOWED_ORIGINS must list origins like https://host[:port], comma-separated")
    return frozenset(origins)


def _number(env: Mapping[str, str], name: str, default: float, *, low: float, high: float, integer: bool) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number") from None
    if not low <= value <= high:  # also refuses NaN
        raise ConfigError(f"{name} must be between {low:g} and {high:g}")
    return value
