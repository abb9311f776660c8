"""The publication lock on a real data folder (the same calls S3 answers; see
tests/resources/test_storage_and_io_manager.py for create_if_absent on moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cdr_dagster.domain.layout import PUBLICATION_LOCK_KEY
from cdr_dagster.domain.publication_lock import PublicationLocked, acquire, release
from cdr_dagster.resources.storage import LocalStorage

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture()
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(base_dir=str(tmp_path))


def test_one_publication_at_a_time(storage: LocalStorage) -> None:
    first = acquire(storage, "run-a", ["run-a"], NOW)
    body = json.loads(storage.read_bytes(PUBLICATION_LOCK_KEY))
    assert (body["run_id"], body["expires_at"]) == ("run-a", "2026-11-23T06:30:00Z")
    with pytest.raises(
        PublicationLocked, match=r"run run-a holds the publication lock \(staging/publication.lock\) until 2026-11-23T06:30:00Z"
    ):
        acquire(storage, "run-b", ["run-b"], NOW + timedelta(minutes=29))
    assert release(storage, first)
    assert not storage.exists(PUBLICATION_LOCK_KEY)
    acquire(storage, "run-b", ["run-b"], NOW + timedelta(minutes=1))


def test_an_expired_lock_is_taken_over_once(storage: LocalStorage) -> None:
    stale = acquire(storage, "run-a", ["run-a"], NOW)
    later = NOW + timedelta(minutes=31)
    taken = acquire(storage, "run-b", ["run-b"], later)
    assert json.loads(storage.read_bytes(PUBLICATION_LOCK_KEY))["run_id"] == "run-b"
    # run-a, finishing late, does not remove run-b's lock
    assert not release(storage, stale)
    assert storage.exists(PUBLICATION_LOCK_KEY)
    with pytest.raises(PublicationLocked, match="run run-b"):
        acquire(storage, "run-c", ["run-c"], later)
    assert release(storage, taken)


def test_two_runs_taking_over_the_same_expired_lock_cannot_both_win(storage: LocalStorage) -> None:
    acquire(storage, "run-a", ["run-a"], NOW)
    stale = storage.read_bytes(PUBLICATION_LOCK_KEY)
    later = NOW + timedelta(hours=1)
    acquire(storage, "run-b", ["run-b"], later)
    # run-c read the same stale lock before run-b replaced it: its takeover marker exists already
    storage.delete(PUBLICATION_LOCK_KEY)
    storage.write_bytes(PUBLICATION_LOCK_KEY, stale)
    with pytest.raises(PublicationLocked):
        acquire(storage, "run-c", ["run-c"], later)


def test_a_re_execution_of_the_holder_takes_its_lock_back(storage: LocalStorage) -> None:
    acquire(storage, "run-a", ["run-a"], NOW)  # the publication died holding it
    lock = acquire(storage, "run-a2", ["run-a2", "run-a"], NOW + timedelta(minutes=1))
    assert lock.run_id == "run-a2"


def test_an_unreadable_lock_counts_as_expired(storage: LocalStorage) -> None:
    storage.write_bytes(PUBLICATION_LOCK_KEY, b"{not json", content_type="application/json")
    assert acquire(storage, "run-b", ["run-b"], NOW).run_id == "run-b"
