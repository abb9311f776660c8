"""'Download the data (CSV)' under each chart: it asks the presign API at click time (the page's
URLs expire after five minutes, so none is kept from the page load), and saves the published file
under its published name, byte for byte."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from tests.page.helpers import EN_HOST, FIXTURES, FR_HOST

pytestmark = pytest.mark.browser

PUBLISHED = FIXTURES / "processed"
DOWNLOADS = [  # (chart, key asked at click time, file saved)
    ("cdr-chart-orders", "processed/orders_for_viz*", "orders_for_viz_20261127.csv"),
    ("cdr-chart-purchasers", "processed/purchasers_for_viz*", "purchasers_for_viz_20261127.csv"),
    ("cdr-chart-companies", "processed/ccn_data*", "ccn_data_20261127.csv"),
    ("carbon-pricing-chart", "processed/carbon_pricing*", "carbon_pricing_20261127.csv"),
]


def presign_calls(opened, stack) -> list[str]:
    return [unquote(url[len(stack.api_base) :]) for _, url in opened.responses if url.startswith(stack.api_base)]


def test_each_chart_downloads_its_published_csv_asked_at_click_time(open_page, stack, tmp_path):
    opened = open_page(EN_HOST)
    page = opened.page
    at_load = len(presign_calls(opened, stack))
    for chart_id, key, filename in DOWNLOADS:
        link = page.locator(f"#{chart_id} .cdr-chart-download")
        assert link.text_content() == "Download the data (CSV)"
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename == filename
        saved = tmp_path / filename
        download.save_as(saved)
        assert saved.read_bytes() == (PUBLISHED / filename).read_bytes()
        # one more call to the single route for that key, made by the click
        assert presign_calls(opened, stack)[-1] == f"/presigned-url?key={key}"
    assert len(presign_calls(opened, stack)) == at_load + len(DOWNLOADS)
    assert opened.console_errors == []


def test_a_failed_download_says_so_next_to_the_link(open_page, stack, restore_fixtures):
    opened = open_page(FR_HOST)
    page = opened.page
    assert page.text_content("#carbon-pricing-chart .cdr-chart-download") == "Télécharger les données (CSV)"
    # Unpublished after the page loaded: the API now answers 404 for carbon_pricing.
    manifest = json.loads((PUBLISHED / "manifest.json").read_text())
    del manifest["datasets"]["carbon_pricing"]
    stack.client().put_object(Bucket=stack.bucket, Key="processed/manifest.json", Body=json.dumps(manifest).encode())
    page.click("#carbon-pricing-chart .cdr-chart-download")
    status = page.locator("#carbon-pricing-chart .cdr-chart-download-status")
    status.filter(has_text="Téléchargement").wait_for()
    assert status.text_content() == "Téléchargement indisponible pour le moment."
    assert status.get_attribute("role") == "status"
    assert page.get_attribute("#carbon-pricing-chart", "data-state") == "ready"  # the chart stays
    assert [e for e in opened.console_errors if e.startswith("pageerror")] == []
