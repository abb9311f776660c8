"""Rolling the page's data back to the previous publication, on a local folder and on moto S3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdr_dagster.domain.rollback import RollbackRefused, plan_rollback
from deployment import rollback_data


def manifest(**keys: str) -> bytes:
    return json.dumps({"version": 1, "datasets": {d: {"key": k} for d, k in keys.items()}}).encode()


WEEK1 = manifest(orders_for_viz="processed/orders_for_viz_20261116.csv", ccn_data="processed/ccn_data_20261116.csv")
WEEK2 = manifest(orders_for_viz="processed/orders_for_viz_20261123.csv", ccn_data="processed/ccn_data_20261116.csv")
WEEK2_REPUBLISHED = manifest(orders_for_viz="processed/orders_for_viz_20261123_2.csv", ccn_data="processed/ccn_data_20261116.csv")


def published(base: Path, live: bytes, archives: dict[str, bytes]) -> None:
    for key in (
        "orders_for_viz_20261116.csv",
        "orders_for_viz_20261123.csv",
        "orders_for_viz_20261123_2.csv",
        "ccn_data_20261116.csv",
    ):
        (base / "processed").mkdir(parents=True, exist_ok=True)
        (base / "processed" / key).write_text("x\n1\n")
    (base / "processed/manifests").mkdir(exist_ok=True)
    for name, data in archives.items():
        (base / f"processed/manifests/{name}").write_bytes(data)
    (base / "processed/manifest.json").write_bytes(live)


ARCHIVES = {"20261116T060000Z.json": WEEK1, "20261123T060000Z.json": WEEK2, "20261123T090000Z.json": WEEK2_REPUBLISHED}


def test_rollback_puts_the_previous_manifest_back_and_can_go_further(tmp_path: Path, monkeypatch, capsys) -> None:
    published(tmp_path, WEEK2_REPUBLISHED, ARCHIVES)
    monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
    assert rollback_data.main(["local"]) == 0
    assert (tmp_path / "processed/manifest.json").read_bytes() == WEEK2
    out = capsys.readouterr().out
    assert "Live now: processed/manifests/20261123T090000Z.json" in out
    assert "Put back: processed/manifests/20261123T060000Z.json" in out
    assert "orders_for_viz: processed/orders_for_viz_20261123_2.csv -> processed/orders_for_viz_20261123.csv" in out
    assert "ccn_data" not in out  # unchanged datasets are not listed
    assert rollback_data.main(["local"]) == 0  # once more: a week further back
    assert (tmp_path / "processed/manifest.json").read_bytes() == WEEK1


def test_dry_run_writes_nothing_and_the_oldest_cannot_go_back(tmp_path: Path, monkeypatch, capsys) -> None:
    published(tmp_path, WEEK1, ARCHIVES)
    monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
    assert rollback_data.main(["local"]) == 2
    assert "Refused: nothing to roll back to: processed/manifests/20261116T060000Z.json is the oldest" in capsys.readouterr().err
    published(tmp_path, WEEK2, ARCHIVES)
    assert rollback_data.main(["local", "--dry-run"]) == 0
    assert (tmp_path / "processed/manifest.json").read_bytes() == WEEK2


def test_a_target_naming_deleted_files_is_refused() -> None:
    files = {"processed/manifests/a.json": WEEK1, "processed/manifests/b.json": WEEK2}
    with pytest.raises(RollbackRefused, match=r"names files that are gone \(processed/ccn_data_20261116\.csv"):
        plan_rollback(list(files), WEEK2, files.__getitem__, lambda key: "ccn_data" not in key)


def test_rollback_on_the_deployments_bucket(s3, monkeypatch, capsys) -> None:
    from deployment.deploy import CONFIG_FILE, load_config

    bucket = load_config(rollback_data.ROOT / CONFIG_FILE).deployments["test"].bucket
    s3.create_bucket(bucket)
    client = s3.client()
    for key in (
        "processed/orders_for_viz_20261116.csv",
        "processed/orders_for_viz_20261123.csv",
        "processed/ccn_data_20261116.csv",
    ):
        client.put_object(Bucket=bucket, Key=key, Body=b"x\n1\n")
    client.put_object(Bucket=bucket, Key="processed/manifests/20261116T060000Z.json", Body=WEEK1)
    client.put_object(Bucket=bucket, Key="processed/manifests/20261123T060000Z.json", Body=WEEK2)
    client.put_object(Bucket=bucket, Key="processed/manifest.json", Body=WEEK2)
    assert rollback_data.main(["test"]) == 0
    assert client.get_object(Bucket=bucket, Key="processed/manifest.json")["Body"].read() == WEEK1
