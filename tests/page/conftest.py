"""Fixtures of the page tests: the whole stack (moto S3 over HTTP, the real presign server, the page
server) and one real headless Chromium, each started once for the whole session.

The page is opened under real www. and fr. host names (``*.localtest.me``, mapped to 127.0.0.1
inside Chromium), so the French host rule is exercised exactly as on fr.deepskyclimate.com.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from devtools.browser import CHROMIUM, CHROMIUM_ARGS
from devtools.stack import Stack, processed_files, running_stack, upload
from tests.page.axe_core import axe_source
from tests.page.helpers import EN_HOST, FIXTURES, FR_HOST, SETTLE_TIMEOUT_MS


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    """One stack for the page tests, torn down when they end (other tests reset the S3 server)."""
    with running_stack(FIXTURES, page_hosts=(EN_HOST, FR_HOST)) as running:
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe() -> str:
    """The source of axe.min.js (pinned, from the npm registry), to inject into a page."""
    return axe_source()


@pytest.fixture
def restore_fixtures(stack: Stack) -> Iterator[None]:
    """For tests that break the bucket: put every fixture file back afterwards."""
    yield
    upload(stack.client(), stack.bucket, processed_files(FIXTURES))


@dataclass
class OpenedPage:
    page: Page
    console_errors: list[str] = field(default_factory=list)
    responses: list[tuple[int, str]] = field(default_factory=list)  # (status, url)


@pytest.fixture
def open_page(stack: Stack, browser: Browser):
    """open_page(host, query, width=1280, api_base=None, **context_options) -> OpenedPage, settled
    (every component ready or failed). ``api_base``: serve this one page load against another
    presign API (a fault proxy); the stack's own is restored afterwards."""
    contexts = []

    def _open(
        host: str = EN_HOST, query: str = "", width: int = 1280, api_base: str | None = None, **context_options
    ) -> OpenedPage:
        if api_base is not None:
            stack.page.api_base = api_base
            try:
                return _open(host, query, width, **context_options)
            finally:
                stack.page.api_base = stack.api_base
        context = browser.new_context(viewport={"width": width, "height": 900}, **context_options)
        contexts.append(context)
        page = context.new_page()
        opened = OpenedPage(page)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                opened.console_errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: opened.console_errors.append(f"pageerror: {error}"))
        page.on("response", lambda response: opened.responses.append((response.status, response.url)))
        page.goto(f"{stack.origin(host)}/{query}")
        page.locator("html[data-cdr-dashboard='settled']").wait_for(state="attached", timeout=SETTLE_TIMEOUT_MS)
        return opened

    yield _open
    for context in contexts:
        context.close()
