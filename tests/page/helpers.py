"""Constants and small helpers shared by the page tests and their fixtures."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "page"
ARTIFACTS = REPO / "artifacts"
EN_HOST = "www.localtest.me"
FR_HOST = "fr.localtest.me"
SETTLE_TIMEOUT_MS = 20_000
NBSP = "\u00a0"

CHARTS = ("cdr-chart-orders", "cdr-chart-purchasers", "cdr-chart-companies", "carbon-pricing-chart")
# Every stat card by its selector: ids for the market stats, classes for the carbon-pricing ones.
STATS = (
    "#cdr-stat-spent",
    "#cdr-stat-delivered",
    "#cdr-stat-purchasers",
    "#cdr-stat-companies",
    ".carbon-pricing-countries",
    ".carbon-pricing-emissions-covered",
)


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/ (gitignored), for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def state(page: Page, selector: str) -> str | None:
    return page.get_attribute(selector, "data-state")


def settled_scope(page: Page, scope: str) -> None:
    """Click the toggle's button for ``scope`` ("all" or "dac") and check it took."""
    page.click(f"#cdr-scope-toggle [data-scope='{scope}']")
    assert page.get_attribute("#cdr-scope-toggle", "data-scope") == scope
