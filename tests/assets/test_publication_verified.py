"""verified_files: what a run's lineage recorded decides what may be published (no Dagster run
needed: the records are built by hand, the files are real files in a data folder)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg
import pytest

from cdr_dagster.assets.publication.verified import PublicationRefused, verified_files
from cdr_dagster.resources.storage import LocalStorage
from cdr_dagster.runs import Evaluated, LineageRecord, Materialized

CHILD, PARENT = "run-child", "run-parent"
DATA = b"metric,value\ndollars_spent,1.0\n"
KEY = f"staging/{PARENT}/dollars_spent_20261123.csv"
CHECK = dg.AssetCheckKey(dg.AssetKey("dollars_spent"), "dollars_spent_plausible")
BLOCKING = {"dollars_spent": [CHECK]}


@pytest.fixture()
def storage(tmp_path: Path) -> LocalStorage:
    storage = LocalStorage(base_dir=str(tmp_path))
    storage.write_bytes(KEY, DATA)
    return storage


def materialized(run: str = PARENT, storage_id: int = 10, sha: str | None = None) -> Materialized:
    metadata = {"key": KEY, "sha256": sha or hashlib.sha256(DATA).hexdigest(), "source": "live"}
    return Materialized(dg.AssetKey("dollars_spent"), run, storage_id, metadata)


def record(m: Materialized | None, e: Evaluated | None) -> LineageRecord:
    return LineageRecord(
        (CHILD, PARENT),
        {m.asset: m} if m else {},
        {e.check: e} if e else {},
    )


def evaluated(run: str, storage_id: int, passed: bool = True) -> Evaluated:
    return Evaluated(CHECK, run, storage_id, passed, "")


def refusal(rec: LineageRecord, storage: LocalStorage, gated: tuple[str, ...] = ()) -> str:
    with pytest.raises(PublicationRefused) as refused:
        verified_files(rec, ["dollars_spent"], BLOCKING, storage, gated=gated)
    return str(refused.value)


def test_the_files_a_lineage_built_and_checked_are_returned_with_their_bytes(storage: LocalStorage) -> None:
    # checked in the same run after it was built, or re-checked in a re-execution of that run
    for check in (evaluated(PARENT, 11), evaluated(CHILD, 3)):
        [file] = verified_files(record(materialized(), check), ["dollars_spent"], BLOCKING, storage).values()
        assert (file.key, file.data, file.source) == (KEY, DATA, "live")


def test_nothing_built_in_the_run_refuses(storage: LocalStorage) -> None:
    assert refusal(record(None, None), storage).startswith(
        "dashboard_publication publishes only files built and checked in its own run, and this run built none"
    )


def test_a_failed_check_refuses(storage: LocalStorage) -> None:
    assert refusal(record(materialized(), evaluated(PARENT, 11, passed=False)), storage) == (
        "dashboard_publication refused: blocking checks did not pass on this run's files: "
        "dollars_spent:dollars_spent_plausible (failed); nothing was published."
    )


@pytest.mark.parametrize(
    ("built", "check"),
    [
        (materialized(), None),  # never evaluated
        (materialized(storage_id=10), evaluated(PARENT, 9)),  # evaluated before this file was built
        (materialized(run=CHILD, storage_id=2), evaluated(PARENT, 11)),  # rebuilt after the check
    ],
)
def test_a_check_that_did_not_look_at_this_file_refuses(storage: LocalStorage, built: Materialized, check: Evaluated) -> None:
    assert refusal(record(built, check), storage).endswith(
        "dollars_spent:dollars_spent_plausible (not evaluated on this run's file); nothing was published."
    )


def test_a_file_changed_or_gone_since_it_was_recorded_refuses(storage: LocalStorage) -> None:
    storage.write_bytes(KEY, b"metric,value\ndollars_spent,8.0\n")
    message = refusal(record(materialized(), evaluated(PARENT, 11)), storage)
    assert message.startswith(f"dashboard_publication refused: {storage.location(KEY)} changed since run {PARENT} wrote it")
    storage.delete(KEY)
    assert refusal(record(materialized(), evaluated(PARENT, 11)), storage).endswith("nothing was published.")


def test_a_dataset_with_no_blocking_check_defined_refuses(storage: LocalStorage) -> None:
    with pytest.raises(PublicationRefused, match="no blocking check is defined here for dollars_spent"):
        verified_files(record(materialized(), None), ["dollars_spent"], {}, storage, gated=("dollars_spent",))
