"""Constants and small helpers shared by the page tests and their fixtures."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from devtools.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (re-exported for the tests)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "page"
ARTIFACTS = REPO / "artifacts"
EN_HOST = "www.localtest.me"
FR_HOST = "fr.localtest.me"


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/ (gitignored), for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
