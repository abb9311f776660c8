"""The CSV IO manager and storage, on a local folder and on moto's S3 server over HTTP."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from dagster_aws.s3 import S3Resource

from cdr_dagster.domain.csv_format import csv_bytes_to_frame, frame_to_csv_bytes
from cdr_dagster.resources.csv_io_manager import PREFIX_METADATA_KEY, CsvIOManager, utc_date_stamp
from cdr_dagster.resources.s3_storage import S3Storage
from cdr_dagster.resources.storage import LocalStorage

BUCKET = "cdr-dashboard-unit"

TRICKY = pd.DataFrame(
    {
        "order_id": ["00123", "8af105d5-fb61-5882-b2ea-98332d5ae20b"],
        "supplier_name": ['Climeworks, AG "Zürich"', "Société\nGénérale"],
        "tons_purchased": [1.5, None],
        "announcement_date": ["2024-01-05", None],
        "is_verified": ["True", "False"],
    }
)


def _storages(tmp_path: Path, s3) -> list:
    s3.create_bucket(BUCKET)
    return [
        LocalStorage(base_dir=str(tmp_path / "data")),
        S3Storage(s3=S3Resource(region_name="ca-central-1"), bucket=BUCKET),
    ]


def test_csv_round_trip_keeps_types_and_awkward_text() -> None:
    frame = csv_bytes_to_frame(frame_to_csv_bytes(TRICKY))
    assert frame["order_id"].tolist() == ["00123", "8af105d5-fb61-5882-b2ea-98332d5ae20b"]
    assert frame["supplier_name"].tolist() == ['Climeworks, AG "Zürich"', "Société\nGénérale"]
    assert frame["tons_purchased"].iloc[0] == 1.5 and pd.isna(frame["tons_purchased"].iloc[1])
    assert frame["announcement_date"].iloc[0] == pd.Timestamp("2024-01-05")
    assert pd.isna(frame["announcement_date"].iloc[1])
    assert frame["is_verified"].tolist() == [True, False]


def test_storage_writes_lists_and_reads(tmp_path: Path, s3) -> None:
    for storage in _storages(tmp_path, s3):
        storage.write_bytes("raw/cdr_fyi_orders_20260105.csv", b"a\n1\n")
        storage.write_bytes("raw/cdr_fyi_orders_20260112.csv", b"a\n2\n")
        storage.write_bytes("raw/cdr_fyi_orders_extra_20260119.csv", b"a\n3\n")
        storage.write_bytes("raw/other.csv", b"a\n4\n")
        assert storage.list_keys("raw/cdr_fyi_orders_2026") == [
            "raw/cdr_fyi_orders_20260105.csv",
            "raw/cdr_fyi_orders_20260112.csv",
        ]
        assert storage.read_bytes("raw/cdr_fyi_orders_20260112.csv") == b"a\n2\n"
        assert storage.exists("raw/other.csv")
        assert not storage.exists("raw/nothing.csv")


def test_replace_if_writes_only_over_the_version_read(tmp_path: Path, s3) -> None:
    """The manifest's compare-and-swap: S3 IfMatch / IfNoneMatch (honoured by moto's server too),
    a locked compare-and-rename locally."""
    for storage in _storages(tmp_path, s3):
        key = "processed/manifest.json"
        assert storage.read_versioned(key) is None
        assert storage.replace_if(key, b"one", None)  # only if absent
        assert not storage.replace_if(key, b"two", None)
        first = storage.read_versioned(key)
        assert first is not None and first[0] == b"one"
        assert storage.replace_if(key, b"two", first[1])
        assert not storage.replace_if(key, b"three", first[1])  # someone switched it since: the loser learns
        second = storage.read_versioned(key)
        assert second is not None and second[0] == b"two" and second[1] != first[1]
        storage.delete(key)
        assert not storage.replace_if(key, b"four", second[1])  # deleted meanwhile
        assert storage.read_versioned(key) is None
        assert storage.list_keys("processed/") == []  # nothing left beside it (no lock file)


def test_local_write_is_atomic_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    storage = LocalStorage(base_dir=str(tmp_path))
    storage.write_bytes("processed/a_20260101.csv", b"old\n")

    # not bytes: the write fails after the temporary file was opened, as a crash would
    with pytest.raises(TypeError):
        storage.write_bytes("processed/a_20260101.csv", object())  # type: ignore[arg-type]
    assert (tmp_path / "processed/a_20260101.csv").read_bytes() == b"old\n"
    assert [p.name for p in (tmp_path / "processed").iterdir()] == ["a_20260101.csv"]


def test_io_manager_round_trips_assets_on_local_and_s3(tmp_path: Path, s3) -> None:
    for storage in _storages(tmp_path, s3):

        @dg.asset(metadata={PREFIX_METADATA_KEY: "raw"})
        def cdr_fyi_orders() -> pd.DataFrame:
            return TRICKY

        @dg.asset(metadata={PREFIX_METADATA_KEY: "staging"})
        def copy_of_orders(cdr_fyi_orders: pd.DataFrame) -> pd.DataFrame:
            assert cdr_fyi_orders["order_id"].dtype != float
            return cdr_fyi_orders.assign(value=len(cdr_fyi_orders))  # a declared number column

        result = dg.materialize([cdr_fyi_orders, copy_of_orders], resources={"io_manager": CsvIOManager(storage=storage)})
        assert result.success
        stamp = utc_date_stamp()
        # each run writes under its own keys: another run can never replace what this one checked
        raw = csv_bytes_to_frame(storage.read_bytes(f"raw/{result.run_id}/cdr_fyi_orders_{stamp}.csv"))
        staged = csv_bytes_to_frame(storage.read_bytes(f"staging/{result.run_id}/copy_of_orders_{stamp}.csv"))
        [materialization] = result.asset_materializations_for_node("copy_of_orders")
        assert materialization.metadata["key"].value == f"staging/{result.run_id}/copy_of_orders_{stamp}.csv"
        assert raw["supplier_name"].tolist() == TRICKY["supplier_name"].tolist()
        assert staged["value"].tolist() == [2, 2]
        assert staged["order_id"].tolist() == ["00123", "8af105d5-fb61-5882-b2ea-98332d5ae20b"]


def test_a_downstream_step_reads_its_own_runs_input_not_a_newer_run_s(tmp_path: Path) -> None:
    """Another run writing the same asset between two steps of this run (two runs at once) must
    not change what this run's next step reads: it loads the key its upstream step recorded."""
    storage = LocalStorage(base_dir=str(tmp_path / "data"))
    io_manager = CsvIOManager(storage=storage)

    @dg.asset(name="cdr_fyi_orders", metadata={PREFIX_METADATA_KEY: "raw"})
    def theirs() -> pd.DataFrame:
        return pd.DataFrame({"order_id": ["theirs"]})

    @dg.asset(metadata={PREFIX_METADATA_KEY: "raw"})
    def cdr_fyi_orders() -> pd.DataFrame:
        return pd.DataFrame({"order_id": ["mine"]})

    @dg.asset(deps=[cdr_fyi_orders])
    def another_run_meanwhile(context) -> None:
        other = dg.materialize([theirs], instance=context.instance, resources={"io_manager": io_manager})
        assert other.success

    @dg.asset(deps=[another_run_meanwhile], metadata={PREFIX_METADATA_KEY: "staging"})
    def copy_of_orders(cdr_fyi_orders: pd.DataFrame) -> pd.DataFrame:
        return cdr_fyi_orders

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [cdr_fyi_orders, another_run_meanwhile, copy_of_orders], instance=instance, resources={"io_manager": io_manager}
        )
        assert result.success
        assert result.output_for_node("copy_of_orders")["order_id"].tolist() == ["mine"]

        # materialized alone (its upstream not in this run), an asset reads the newest recorded
        # materialization of its input: the other run's, by the key that run recorded
        alone = dg.materialize(
            [cdr_fyi_orders, another_run_meanwhile, copy_of_orders],
            instance=instance,
            resources={"io_manager": io_manager},
            selection=[copy_of_orders],
        )
        assert alone.output_for_node("copy_of_orders")["order_id"].tolist() == ["theirs"]


def test_a_staged_file_changed_after_its_run_wrote_it_is_refused(tmp_path: Path) -> None:
    storage = LocalStorage(base_dir=str(tmp_path / "data"))

    @dg.asset(metadata={PREFIX_METADATA_KEY: "raw"})
    def cdr_fyi_orders() -> pd.DataFrame:
        return pd.DataFrame({"order_id": ["mine"]})

    @dg.asset(deps=[cdr_fyi_orders])
    def someone_edits_the_file(context) -> None:
        [key] = storage.list_keys(f"raw/{context.run.run_id}/")
        storage.write_bytes(key, b"order_id\nedited\n")

    @dg.asset(deps=[someone_edits_the_file])
    def reader(cdr_fyi_orders: pd.DataFrame) -> None:
        raise AssertionError("never reached")

    result = dg.materialize(
        [cdr_fyi_orders, someone_edits_the_file, reader],
        resources={"io_manager": CsvIOManager(storage=storage)},
        raise_on_error=False,
    )
    [failure] = result.get_step_failure_events()
    error, message = failure.step_failure_data.error, ""
    while error is not None:  # the IO manager's error is the cause of Dagster's "while loading input"
        message, error = message + error.message, error.cause
    assert f"raw/{result.run_id}/cdr_fyi_orders_{utc_date_stamp()}.csv" in message
    assert "changed since run" in message and "wrote it" in message


def test_create_if_absent_writes_once_and_delete_removes(tmp_path: Path, s3) -> None:
    key = "processed/ccn_data_20261127.csv"
    for storage in _storages(tmp_path, s3):
        assert storage.create_if_absent(key, b"first")
        assert not storage.create_if_absent(key, b"second")
        assert storage.read_bytes(key) == b"first"
        storage.delete(key)
        assert not storage.exists(key)
        storage.delete(key)  # deleting what is not there is not an error
        assert storage.create_if_absent(key, b"third")
        assert storage.read_bytes(key) == b"third"


def test_raw_files_are_safe_to_open_in_a_spreadsheet_and_read_back_exactly(tmp_path: Path) -> None:
    storage = LocalStorage(base_dir=str(tmp_path / "data"))
    names = ['=HYPERLINK("http://evil","Win")', "@SUM(1)", "Plain"]

    @dg.asset(metadata={PREFIX_METADATA_KEY: "raw"})
    def cdr_fyi_suppliers() -> pd.DataFrame:
        return pd.DataFrame({"supplier_id": ["s1", "s2", "s3"], "name": names})

    @dg.asset(metadata={PREFIX_METADATA_KEY: "staging"})
    def suppliers_for_viz(cdr_fyi_suppliers: pd.DataFrame) -> pd.DataFrame:
        assert cdr_fyi_suppliers["name"].tolist() == names  # the pipeline sees the names as they are
        return cdr_fyi_suppliers[["name"]]

    result = dg.materialize([cdr_fyi_suppliers, suppliers_for_viz], resources={"io_manager": CsvIOManager(storage=storage)})
    assert result.success
    stamp = utc_date_stamp()
    raw = storage.read_bytes(f"raw/{result.run_id}/cdr_fyi_suppliers_{stamp}.csv")
    assert raw == b'supplier_id,name\ns1,"\'=HYPERLINK(""http://evil"",""Win"")"\ns2,\'@SUM(1)\ns3,Plain\n'
    # the page's dataset keeps the text as it is (the page shows text; a ' would show on it)
    staged = storage.read_bytes(f"staging/{result.run_id}/suppliers_for_viz_{stamp}.csv")
    assert staged == b'name\n"=HYPERLINK(""http://evil"",""Win"")"\n@SUM(1)\nPlain\n'
