"""The local preview says when its figures are a sample, and the real page never can: the notice is
added by the preview's page server (dashboard/page_server.py) when the manifest the page reads
lists a dataset with ``source: sample``; the code that ships (dashboard/src, the embed) has none."""

from __future__ import annotations

import json

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
