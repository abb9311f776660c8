"""Bucket keys: dated versions, same-day republish, and "newest" never won by a future date."""

from __future__ import annotations

from datetime import UTC, datetime

from cdr_dagster.domain.layout import dated_key, manifest_archive_key, newest_dated, parse_dated_key


def test_dated_keys_round_trip_with_a_same_day_sequence() -> None:
    assert dated_key("processed", "ccn_data", "20261127") == "processed/ccn_data_20261127.csv"
    assert dated_key("processed", "ccn_data", "20261127", 2) == "processed/ccn_data_20261127_2.csv"
    parsed = parse_dated_key("processed/latest_deals_20261127_3.csv")
    assert parsed is not None and (parsed.stem, parsed.date, parsed.seq) == ("latest_deals", "20261127", 3)
    assert parse_dated_key("processed/manifest.json") is None


def test_newest_is_the_latest_day_then_the_latest_republish_and_never_a_future_day() -> None:
    keys = [
        "staging/dollars_spent_20261120.csv",
        "staging/dollars_spent_20261127.csv",
        "staging/dollars_spent_20261127_2.csv",
        "staging/dollars_spent_20991231.csv",  # a stray future-dated file
        "staging/dollars_spent_extra_20261128.csv",  # another stem
    ]
    found = newest_dated(keys, "dollars_spent", today="20261128")
    assert found is not None and found.key == "staging/dollars_spent_20261127_2.csv"
    assert newest_dated(["staging/dollars_spent_20991231.csv"], "dollars_spent", today="20261128") is None


def test_manifest_archives_are_named_by_their_generation_time() -> None:
    when = datetime(2026, 11, 27, 23, 59, 1, tzinfo=UTC)
    assert manifest_archive_key(when) == "processed/manifests/20261127T235901Z.json"


def test_a_republish_the_same_day_never_overwrites_a_published_key(tmp_path) -> None:
    from cdr_dagster.assets.publication.assets import next_published_key
    from cdr_dagster.resources.storage import LocalStorage

    storage = LocalStorage(base_dir=str(tmp_path))
    assert next_published_key(storage, "ccn_data", "20261127") == "processed/ccn_data_20261127.csv"
    storage.write_bytes("processed/ccn_data_20261127.csv", b"a\n")
    storage.write_bytes("processed/ccn_data_extra_20261127.csv", b"other stem\n")
    assert next_published_key(storage, "ccn_data", "20261127") == "processed/ccn_data_20261127_2.csv"
    storage.write_bytes("processed/ccn_data_20261127_2.csv", b"b\n")
    assert next_published_key(storage, "ccn_data", "20261127") == "processed/ccn_data_20261127_3.csv"
    assert next_published_key(storage, "ccn_data", "20261128") == "processed/ccn_data_20261128.csv"
