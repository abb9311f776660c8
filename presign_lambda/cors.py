"""CORS: which browser origins may read the answers, and the preflight reply."""

from __future__ import annotations

from collections.abc import Set

ALLOWED_METHODS = "GET, OPTIONS"
ALLOWED_HEADERS = "Content-Type"
PREFLIGHT_MAX_AGE_SECONDS = 600


def origin_allowed(origin: str | None, allowed: Set[str]) -> bool:
    """Exact match only: no wildcards, no suffix matching (evil-deepskyclimate.com stays out)."""
    return origin is not None and origin in allowed


def cors_headers(origin: str | None, allowed: Set[str]) -> dict[str, str]:
    """Headers for every response. ``Vary: Origin`` always, since the answer depends on it."""
    headers = {"Vary": "Origin"}
    if origin is not None and origin_allowed(origin, allowed):
        headers["Access-Control-Allow-Origin"] = origin
    return headers


def preflight_headers() -> dict[str, str]:
    """Extra headers of the 204 answer to an ``OPTIONS`` preflight."""
    return {
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
    }
