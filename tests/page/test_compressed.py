"""Published files stored gzip-compressed (issue 23), read through presigned URLs from moto's S3
server: S3 hands back the stored ``Content-Encoding: gzip``, and Chromium gives the page the plain
text, both to this project's page and to today's embed's way of reading a file
(``fetch(url).then((res) => res.text())``, docs/dashboard-contract.md)."""

from __future__ import annotations

import gzip

import pytest
import requests

from cdr_dagster.domain.layout import IMMUTABLE
from devtools.stack import processed_files, viz_files
from tests.page.helpers import CHARTS, EN_HOST, FIXTURES, SETTLE_TIMEOUT_MS

pytestmark = pytest.mark.browser

DATA_KEYS = sorted(key for key in processed_files(FIXTURES) if key.endswith(".csv"))
# today's embed's spellings: processed/<dataset>* for most datasets, processed/latest_deals_* for the ticker
PATTERNS = {key: f"processed/{key.split('/')[1].rsplit('_', 1)[0]}*" for key in DATA_KEYS}
PATTERNS["processed/latest_deals_20261127.csv"] = "processed/latest_deals_*"


def presigned(stack, key: str) -> str:
    origin = stack.origin(EN_HOST)
    res = requests.get(f"{stack.api_base}/presigned-url", params={"key": key}, headers={"Origin": origin}, timeout=10)
    assert res.status_code == 200, res.text
    return res.json()["url"]


def test_the_bucket_holds_the_data_and_new_code_gzipped_and_the_manifest_plain(stack):
    client = stack.client()
    for key, path in {**{k: FIXTURES / "processed" / k.split("/")[1] for k in DATA_KEYS}, **viz_files()}.items():
        stored = client.get_object(Bucket=stack.bucket, Key=key)
        assert stored["ContentEncoding"] == "gzip", key
        assert gzip.decompress(stored["Body"].read()) == path.read_bytes(), key
    manifest = client.get_object(Bucket=stack.bucket, Key="processed/manifest.json")
    assert manifest["Body"].read() == (FIXTURES / "processed" / "manifest.json").read_bytes()
    assert "ContentEncoding" not in manifest and manifest["CacheControl"] == "no-cache"


@pytest.mark.parametrize("key", DATA_KEYS)
def test_a_presigned_get_answers_with_the_stored_encoding_type_and_cache_lifetime(stack, key):
    res = requests.get(presigned(stack, PATTERNS[key]), headers={"Origin": stack.origin(EN_HOST)}, stream=True, timeout=10)
    body = res.raw.read(decode_content=False)  # the bytes on the wire, as S3 sends them
    assert res.status_code == 200
    assert res.headers["Content-Encoding"] == "gzip"
    assert res.headers["Content-Type"] == "text/csv"
    assert res.headers["Cache-Control"] == IMMUTABLE
    assert int(res.headers["Content-Length"]) == len(body)
    assert gzip.decompress(body) == (FIXTURES / "processed" / key.split("/")[1]).read_bytes()


def test_todays_embeds_fetch_and_text_gets_the_plain_csv(stack, open_page):
    """Every dataset the way today's embed reads it, in Chromium on the page's origin: ask the API,
    fetch the presigned URL, read ``text()``; the text is the CSV, byte for byte."""
    opened = open_page(EN_HOST)
    texts = opened.page.evaluate(
        """async ([api, patterns]) => {
            const texts = {};
            for (const pattern of patterns) {
                const answer = await (await fetch(api + "/presigned-url?key=" + encodeURIComponent(pattern))).json();
                const res = await fetch(answer.url);
                texts[pattern] = [res.status, res.headers.get("content-type"), await res.text()];
            }
            return texts;
        }""",
        [stack.api_base, list(PATTERNS.values())],
    )
    for key, pattern in PATTERNS.items():
        expected = (FIXTURES / "processed" / key.split("/")[1]).read_bytes().decode("utf-8")
        assert texts[pattern] == [200, "text/csv", expected], pattern


def test_the_page_downloads_its_data_and_code_compressed_and_draws(stack, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        encodings: dict[str, str | None] = {}
        page.on(
            "response",
            lambda r: (
                encodings.__setitem__(r.url.split("?")[0], r.headers.get("content-encoding"))
                if r.url.startswith(stack.s3.endpoint_url)
                else None
            ),
        )
        page.goto(f"{stack.origin(EN_HOST)}/")
        page.locator("html[data-cdr-dashboard='settled']").wait_for(state="attached", timeout=SETTLE_TIMEOUT_MS)
        for chart in CHARTS:
            assert page.get_attribute(f"#{chart}", "data-state") == "ready", chart
    finally:
        context.close()
    downloaded = {url.split(f"/{stack.bucket}/", 1)[1]: encoding for url, encoding in encodings.items()}
    # the six datasets the page draws, its code under viz/v2/, and the manifest (plain)
    assert sorted(downloaded) == sorted([*DATA_KEYS, *viz_files(), "processed/manifest.json"])
    assert {key: encoding for key, encoding in downloaded.items() if encoding != "gzip"} == {"processed/manifest.json": None}
