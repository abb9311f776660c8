"""Bucket keys: dated versions, same-day republish without a ceiling, publication stamps."""

from __future__ import annotations

from datetime import UTC, datetime

from cdr_dagster.domain.layout import (
    baseline_input_key,
    baseline_record_key,
    dated_key,
    manifest_archive_key,
    next_dated_key,
    parse_dated_key,
    parse_stamp,
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
