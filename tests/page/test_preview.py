"""The local preview says when its figures are a sample, and the real page never can: the notice is
added by the preview's page server (dashboard/page_server.py) when the manifest the page reads
lists a dataset with ``source: sample``; the code that ships (dashboard/src, the embed) has none."""

from __future__ import annotations

import json
import re

import pytest

from dashboard.page_server import SAMPLE_NOTICE
from dashboard.viz_files import REPO_ROOT, viz_files
from tests.page.helpers import EN_HOST, FIXTURES, FR_HOST, NBSP

NOTICE = ".preview-sample-notice"


def publish_manifest_with_sample(stack) -> None:
    manifest = json.loads((FIXTURES / "processed" / "manifest.json").read_text())
    manifest["datasets"]["orders_for_viz"]["source"] = "sample"
    stack.client().put_object(Bucket=stack.bucket, Key="processed/manifest.json", Body=json.dumps(manifest).encode())


@pytest.mark.browser
def test_preview_marks_sample_data_in_the_page_language(open_page, stack, restore_fixtures):
    publish_manifest_with_sample(stack)
    page = open_page(EN_HOST).page
    assert page.text_content(NOTICE) == "Sample data: not real market figures"
    assert page.get_attribute(NOTICE, "role") == "note"
    page = open_page(FR_HOST).page
    assert page.text_content(NOTICE) == f"Données d'exemple{NBSP}: ce ne sont pas de vrais chiffres du marché"
    assert page.get_attribute("#cdr-chart-orders", "data-state") == "ready"


@pytest.mark.browser
def test_no_notice_when_the_data_is_live(open_page):
    # The fixtures' manifest says live (and dropped for carbon pricing): no notice.
    assert "sample" not in (FIXTURES / "processed" / "manifest.json").read_text()
    page = open_page(EN_HOST).page
    assert page.locator(NOTICE).count() == 0


def test_the_code_that_ships_has_no_sample_notice():
    shipped = [*viz_files().values(), REPO_ROOT / "dashboard" / "webflow_embed.html"]
    for text in (*SAMPLE_NOTICE.values(), "preview-sample-notice", "sample-notice"):
        assert [p.name for p in shipped if text in p.read_text()] == [], text


@pytest.mark.browser
def test_a_page_with_only_the_embed_shows_no_notice_even_with_sample_data(open_page, stack, restore_fixtures):
    # The real page is Webflow's markup plus the embed: the dashboard draws, and says nothing of
    # samples, whatever the manifest says.
    publish_manifest_with_sample(stack)
    embed = (REPO_ROOT / "dashboard" / "webflow_embed.html").read_text()
    embed = re.sub(r'data-api-base="[^"]*"', 'data-api-base="__API_BASE__"', embed)
    stack.page.extra_pages["/embed-only.html"] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>'
        '<div id="cdr-stat-spent" class="cdr-stat"><div class="cdr-stat-value"></div></div>'
        f'<div id="cdr-chart-orders" class="cdr-chart"></div>{embed}</body></html>'
    )
    page = open_page(EN_HOST, query="embed-only.html").page
    assert page.get_attribute("#cdr-chart-orders", "data-state") == "ready"
    assert page.text_content("#cdr-stat-spent .cdr-stat-value") == "$1.23B"
    assert page.locator(NOTICE).count() == 0
    assert "Sample data" not in page.text_content("body")
