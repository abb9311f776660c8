"""Constants and small helpers shared by the page tests and their fixtures."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "page"
ARTIFACTS = REPO / "artifacts"
EN_HOST = "www.localtest.me"
FR_HOST = "fr.localtest.me"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP *.localtest.me 127.0.0.1",
]


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/ (gitignored), for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
