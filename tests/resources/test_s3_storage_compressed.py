"""S3Storage stores what the page downloads gzip-compressed and reads it back as plain bytes, on
moto's S3 server over HTTP; the local folder keeps plain text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from dagster_aws.s3 import S3Resource

from cdr_dagster.domain.layout import IMMUTABLE, MANIFEST_KEY
from cdr_dagster.domain.published import read_published
from cdr_dagster.resources.s3_storage import S3Storage
from cdr_dagster.resources.storage import LocalStorage

BUCKET = "cdr-dashboard-compressed"
CSV = b'date,tons_purchased_cum\n2026-11-26,1.5\n2026-11-27,"2,5"\n' * 50
PUBLISHED = "processed/orders_for_viz_20261127.csv"


def _s3_storage(s3) -> S3Storage:
    s3.create_bucket(BUCKET)
    return S3Storage(s3=S3Resource(region_name="ca-central-1"), bucket=BUCKET)


def test_a_published_csv_is_stored_gzipped_with_a_long_cache_and_read_back_plain(s3) -> None:
    storage = _s3_storage(s3)
    storage.write_bytes(PUBLISHED, CSV)

    stored = s3.client().get_object(Bucket=BUCKET, Key=PUBLISHED)
    body = stored["Body"].read()
    assert stored["ContentEncoding"] == "gzip"
    assert stored["ContentType"] == "text/csv"
    assert stored["CacheControl"] == IMMUTABLE
    assert gzip.decompress(body) == CSV and len(body) < len(CSV) / 5
    assert storage.read_bytes(PUBLISHED) == CSV


def test_the_manifest_and_private_files_stay_plain(s3) -> None:
    storage = _s3_storage(s3)
    manifest = b'{"version": 1, "datasets": {}}\n'
    storage.write_bytes(MANIFEST_KEY, manifest, content_type="application/json")
    storage.write_bytes("raw/published/cdr_fyi_orders.csv", CSV)

    stored = s3.client().get_object(Bucket=BUCKET, Key=MANIFEST_KEY)
    assert stored["Body"].read() == manifest
    assert "ContentEncoding" not in stored and stored["CacheControl"] == "no-cache"
    raw = s3.client().get_object(Bucket=BUCKET, Key="raw/published/cdr_fyi_orders.csv")
    assert raw["Body"].read() == CSV and "ContentEncoding" not in raw and "CacheControl" not in raw


def test_a_conditional_write_and_a_rewrite_compress_too(s3) -> None:
    storage = _s3_storage(s3)
    assert storage.create_if_absent("processed/ccn_data_20261127.csv", CSV)
    assert not storage.create_if_absent("processed/ccn_data_20261127.csv", b"other\n")
    storage.write_bytes("staging/run-1/latest_deals_20261127.csv", CSV)
    storage.write_bytes("processed/latest_deals_20261127.csv", storage.read_bytes("staging/run-1/latest_deals_20261127.csv"))

    for key in ("processed/ccn_data_20261127.csv", "processed/latest_deals_20261127.csv"):
        stored = s3.client().get_object(Bucket=BUCKET, Key=key)
        assert stored["ContentEncoding"] == "gzip" and gzip.decompress(stored["Body"].read()) == CSV, key
        assert storage.read_bytes(key) == CSV
    staged = s3.client().get_object(Bucket=BUCKET, Key="staging/run-1/latest_deals_20261127.csv")
    assert staged["Body"].read() == CSV and "ContentEncoding" not in staged


def test_a_file_published_plain_before_compression_still_reads(s3) -> None:
    storage = _s3_storage(s3)
    s3.client().put_object(Bucket=BUCKET, Key=PUBLISHED, Body=CSV, ContentType="text/csv")
    assert storage.read_bytes(PUBLISHED) == CSV


def test_the_gates_baseline_reads_compressed_published_files_as_text(s3) -> None:
    storage = _s3_storage(s3)
    storage.write_bytes("processed/dollars_spent_20261127.csv", b"metric,value\ndollars_spent,2747547459.0\n")
    manifest = {"version": 1, "datasets": {"dollars_spent": {"key": "processed/dollars_spent_20261127.csv", "rows": 1}}}
    storage.write_bytes(MANIFEST_KEY, json.dumps(manifest).encode(), content_type="application/json")

    assert read_published(storage).dollars_spent() == 2747547459.0


def test_local_storage_keeps_plain_text_for_a_person_opening_the_file(tmp_path: Path) -> None:
    storage = LocalStorage(base_dir=str(tmp_path))
    storage.write_bytes(PUBLISHED, CSV)
    assert (tmp_path / PUBLISHED).read_bytes() == CSV
