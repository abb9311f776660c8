"""Which bucket keys are stored gzip-compressed, and with which Cache-Control (layout.py)."""

from __future__ import annotations

import gzip

import pytest

from cdr_dagster.domain.layout import IMMUTABLE, REVALIDATE, cache_control, stored_gzipped, stored_object


@pytest.mark.parametrize(
    ("key", "gzipped", "cache"),
    [
        ("processed/orders_for_viz_20261127.csv", True, IMMUTABLE),
        ("processed/latest_deals_20261127_2.csv", True, IMMUTABLE),  # a same-day republish
        ("processed/orders_for_viz.csv", True, REVALIDATE),  # undated: could be rewritten
        ("processed/manifest.json", False, REVALIDATE),  # read raw by the Lambda and rollback-data
        ("processed/manifests/20261127T235901Z.json", False, None),  # archives: never served
        ("viz/v2/chart_templates.js", True, REVALIDATE),  # rewritten by every deploy
        ("viz/v2/chart_templates.css", True, REVALIDATE),
        ("viz/v12/cdr_page.js", True, REVALIDATE),
        ("viz/chart_templates.js", False, None),  # today's embed's code: never touched
        ("viz/v2/a/b.js", False, None),
        ("raw/published/cdr_fyi_orders.csv", False, None),
        ("raw/ccn_companies.csv", False, None),
        ("staging/run-1/orders_for_viz_20261127.csv", False, None),
        ("staging/publication.lock", False, None),
    ],
)
def test_only_what_the_page_downloads_is_compressed_and_only_dated_versions_are_immutable(
    key: str, gzipped: bool, cache: str | None
) -> None:
    assert stored_gzipped(key) is gzipped
    assert cache_control(key) == cache


def test_stored_object_compresses_deterministically_and_keeps_the_content_type() -> None:
    data = b"date,tons_purchased_cum\n2026-11-27,1.5\n" * 100
    stored = stored_object("processed/orders_for_viz_20261127.csv", data, "text/csv")
    assert stored["Key"] == "processed/orders_for_viz_20261127.csv"
    assert (stored["ContentType"], stored["ContentEncoding"], stored["CacheControl"]) == ("text/csv", "gzip", IMMUTABLE)
    assert gzip.decompress(stored["Body"]) == data and len(stored["Body"]) < len(data) / 10
    # same data, same bytes (no timestamp in the gzip header): same ETag, reproducible deploys
    assert stored_object("processed/orders_for_viz_20261127.csv", data, "text/csv")["Body"] == stored["Body"]

    plain = stored_object("viz/chart_templates.js", b"old();", "application/javascript")
    assert plain == {"Key": "viz/chart_templates.js", "Body": b"old();", "ContentType": "application/javascript"}
