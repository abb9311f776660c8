"""Bucket keys: dated versions, same-day republish without a ceiling, publication stamps, and the
parsers the publication's sweep and rollback-data read the bucket with."""

from __future__ import annotations

from datetime import UTC, datetime

from cdr_dagster.domain.layout import (
    baseline_input_key,
    baseline_record_key,
    baseline_record_stamp,
    dated_key,
    is_published_dataset_key,
    is_raw,
    manifest_archive_key,
    manifest_archive_stamp,
    next_dated_key,
    next_published_key,
    parse_dated_key,
    parse_stamp,
    published_day_prefix,
    stamp,
)


def test_dated_keys_round_trip_with_a_same_day_sequence() -> None:
    assert dated_key("processed", "ccn_data", "20261127") == "processed/ccn_data_20261127.csv"
    assert dated_key("processed", "ccn_data", "20261127", 2) == "processed/ccn_data_20261127_2.csv"
    parsed = parse_dated_key("processed/latest_deals_20261127_3.csv")
    assert parsed is not None and (parsed.stem, parsed.date, parsed.seq) == ("latest_deals", "20261127", 3)
    assert parse_dated_key("processed/manifest.json") is None


def test_a_republish_the_same_day_never_reuses_a_key_however_many() -> None:
    assert next_dated_key("processed", "ccn_data", "20261127", []) == "processed/ccn_data_20261127.csv"
    existing = ["processed/ccn_data_20261127.csv", "processed/ccn_data_extra_20261127.csv"]  # another stem
    assert next_dated_key("processed", "ccn_data", "20261127", existing) == "processed/ccn_data_20261127_2.csv"
    # the 1000th of a day (the old ceiling was _999) and beyond
    existing = ["processed/ccn_data_20261127.csv", *(f"processed/ccn_data_20261127_{n}.csv" for n in range(2, 1000))]
    assert next_dated_key("processed", "ccn_data", "20261127", existing) == "processed/ccn_data_20261127_1000.csv"
    existing.append("processed/ccn_data_20261127_1000.csv")
    assert next_dated_key("processed", "ccn_data", "20261127", existing) == "processed/ccn_data_20261127_1001.csv"
    assert next_dated_key("processed", "ccn_data", "20261128", existing) == "processed/ccn_data_20261128.csv"


def test_a_publications_archive_and_baseline_share_its_stamp() -> None:
    when = datetime(2026, 11, 27, 23, 59, 1, tzinfo=UTC)
    assert stamp(when) == "20261127T235901Z" and parse_stamp("20261127T235901Z") == when
    assert manifest_archive_key(stamp(when)) == "processed/manifests/20261127T235901Z.json"
    assert baseline_record_key(stamp(when)) == "raw/published/20261127T235901Z/inputs.json"
    assert baseline_input_key(stamp(when), "cdr_fyi_orders") == "raw/published/20261127T235901Z/cdr_fyi_orders.csv"


def test_a_publication_finds_its_next_key_under_the_days_prefix() -> None:
    assert published_day_prefix("latest_deals", "20261127") == "processed/latest_deals_20261127"
    existing = ["processed/latest_deals_20261127.csv", "processed/latest_deals_20261127_2.csv"]
    assert next_published_key("latest_deals", "20261127", existing) == "processed/latest_deals_20261127_3.csv"
    assert is_published_dataset_key("processed/latest_deals_20261127_1000.csv")
    assert not is_published_dataset_key("processed/manifest.json")
    assert not is_published_dataset_key("processed/manifests/latest_deals.csv")  # not straight under processed/
    assert not is_published_dataset_key("staging/latest_deals_20261127.csv")


def test_archive_and_baseline_keys_give_back_their_stamp_and_nothing_else_does() -> None:
    assert manifest_archive_stamp("processed/manifests/20261127T235901Z.json") == "20261127T235901Z"
    assert manifest_archive_stamp("processed/manifest.json") is None
    assert manifest_archive_stamp("processed/manifests/notes.json") is None
    assert baseline_record_stamp("raw/published/20261127T235901Z/inputs.json") == "20261127T235901Z"
    assert baseline_record_stamp("raw/published/20261127T235901Z/cdr_fyi_orders.csv") is None  # a copied input
    assert baseline_record_stamp("raw/20261127T235901Z/inputs.json") is None
    assert is_raw("raw/run-1/cdr_fyi_orders_20261127.csv") and not is_raw("staging/run-1/ccn_data_20261127.csv")
