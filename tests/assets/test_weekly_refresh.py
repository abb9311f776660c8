"""The whole weekly_refresh job: locally on the bundled sample, and as the `test` deployment
against the fake cdr.fyi API, a localhost copy of cdr.fyi's front page and moto's S3 server."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from cdr_dagster.assets.publication.assets import INPUT_ASSETS
from cdr_dagster.cdr_fyi.sample import sample_tables
from cdr_dagster.definitions import build_definitions
from cdr_dagster.domain.datasets import DATASET_NAMES as DATASETS
from cdr_dagster.domain.datasets import DATASETS as SPECS
from cdr_dagster.domain.layout import utc_date_stamp
from cdr_dagster.sample_data import CARBON_PRICING_FILE, CCN_COMPANIES_FILE, sample_bytes
from devtools.fake_cdr_fyi import FakeCdrFyi
from devtools.static_site import serving

ROOT = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "cdr_fyi_pages"
TOKEN = "tok-live-9d2f7c1e"
BUCKET = "cdr-dashboard-test"
RAW_TABLES = ("marketplaces", "orders", "purchasers", "suppliers")


def expected_keys(stamp: str, run_id: str, publication: str) -> set[str]:
    """What one run writes: its own raw and staged files under its run id, the published ones,
    the manifest's archive and the gates' baseline under the publication's stamp."""
    return (
        {f"raw/{run_id}/cdr_fyi_{t}_{stamp}.csv" for t in RAW_TABLES}
        | {f"raw/{run_id}/ccn_companies_{stamp}.csv"}
        | {f"staging/{run_id}/{d}_{stamp}.csv" for d in DATASETS}
        | {f"processed/{d}_{stamp}.csv" for d in DATASETS}
        | {"processed/manifest.json", f"processed/manifests/{publication}.json"}
        | {f"raw/published/{publication}/inputs.json"}
        | {f"raw/published/{publication}/{asset}.csv" for asset in INPUT_ASSETS}
    )


def publication_of(keys: set[str]) -> str:
    """The stamp of the one publication among the keys (its manifest's generation time)."""
    [archived] = [k for k in keys if k.startswith("processed/manifests/")]
    return archived.removeprefix("processed/manifests/").removesuffix(".json")


def test_the_code_location_loads_as_dagster_dev_loads_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    defs = build_definitions("local")
    job = defs.resolve_job_def("weekly_refresh")
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} >= {
        "cdr_fyi_orders",
        "cdr_fyi_purchasers",
        "cdr_fyi_suppliers",
        "cdr_fyi_marketplaces",
        "ccn_companies_file",
        "ccn_companies",
        *DATASETS,
        "dashboard_publication",
    }


def test_local_sample_refresh_writes_every_csv_and_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
    job = build_definitions("local").resolve_job_def("weekly_refresh")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    stamp = utc_date_stamp()
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert written == expected_keys(stamp, result.run_id, publication_of(written))

    orders = pd.read_csv(tmp_path / f"raw/{result.run_id}/cdr_fyi_orders_{stamp}.csv", dtype=str)
    snapshot_ids = [o["order_id"] for o in sample_tables()["orders"]]
    assert len(orders) == len(set(snapshot_ids)) == len(snapshot_ids) - 1  # one duplicate dropped
    assert orders.columns[:3].tolist() == ["order_id", "purchaser_id", "supplier_id"]

    manifest = json.loads((tmp_path / "processed/manifest.json").read_text())
    assert manifest["deployment"] == "local"
    assert set(manifest["datasets"]) == set(DATASETS)
    for dataset, columns in ((s.name, s.columns) for s in SPECS.values()):
        entry = manifest["datasets"][dataset]
        frame = pd.read_csv(tmp_path / entry["key"])
        assert tuple(frame.columns) == columns, dataset
        assert entry["rows"] == len(frame) and entry["source"] == "sample"
        staged = (tmp_path / f"staging/{result.run_id}/{dataset}_{stamp}.csv").read_bytes()
        assert (tmp_path / entry["key"]).read_bytes() == staged

    materialization = result.asset_materializations_for_node("cdr_fyi_orders")[0]
    assert materialization.metadata["source"].value == "sample"
    assert materialization.metadata["duplicate_records_dropped"].value == 1


def _error_chain(error) -> str:
    """Every message of an error and its causes (a resource failure is wrapped by Dagster)."""
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return " | ".join(parts)


@pytest.mark.parametrize(
    ("settings", "sentence"),
    [
        ({"CDR_FYI_API_TOKEN": TOKEN}, "CDR_DASHBOARD_BUCKET is not set: name this deployment's S3 bucket."),
        ({"CDR_DASHBOARD_BUCKET": BUCKET}, "CDR_FYI_API_TOKEN is not set: the live cdr.fyi pull needs a partner API token"),
    ],
)
def test_cloud_deployment_without_bucket_or_token_stops_with_one_clear_sentence(
    monkeypatch: pytest.MonkeyPatch, settings: dict[str, str], sentence: str
) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    job = build_definitions("test").resolve_job_def("weekly_refresh")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    # the run stops while initialising its resources, before any step touches a source
    assert [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"] == []
    [failure] = [e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    assert sentence in _error_chain(failure.event_specific_data.error)
    assert TOKEN not in _error_chain(failure.event_specific_data.error)


def test_test_deployment_refresh_writes_the_same_keys_to_s3(s3, tmp_path: Path) -> None:
    s3.create_bucket(BUCKET)
    client = s3.client()
    client.put_object(Bucket=BUCKET, Key="raw/ccn_companies.csv", Body=sample_bytes(CCN_COMPANIES_FILE))
    client.put_object(Bucket=BUCKET, Key="raw/world_bank_carbon_pricing.csv", Body=sample_bytes(CARBON_PRICING_FILE))
    front_page = {"/": (200, (PAGES / "current.html").read_bytes())}
    with FakeCdrFyi(sample_tables(), TOKEN) as api, serving(front_page) as site:
        env = {
            **os.environ,
            **s3.env(),
            "DAGSTER_DEPLOYMENT": "test",
            "DAGSTER_HOME": str(tmp_path),
            "CDR_DASHBOARD_BUCKET": BUCKET,
            "CDR_FYI_API_TOKEN": TOKEN,
            "CDR_FYI_API_URL": api.base_url,
            "CDR_FYI_SITE_URL": site.url("/"),
        }
        (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "dagster"),
                "job",
                "execute",
                "-m",
                "cdr_dagster.definitions",
                "-j",
                "weekly_refresh",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        requests_made = api.requests
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]

    stamp = utc_date_stamp()
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]}
    [run_id] = {k.split("/")[1] for k in keys if k.startswith("staging/")}
    assert keys == expected_keys(stamp, run_id, publication_of(keys)) | {
        "raw/ccn_companies.csv",
        "raw/world_bank_carbon_pricing.csv",
    }
    manifest = json.loads(client.get_object(Bucket=BUCKET, Key="processed/manifest.json")["Body"].read())
    assert manifest["deployment"] == "test"
    assert {d: e["source"] for d, e in manifest["datasets"].items()} == {
        "orders_for_viz": "live",
        "purchasers_for_viz": "live",
        "latest_deals": "live",
        "suppliers_for_viz": "live",
        "dollars_spent": "live",
        "ccn_data": "dropped",
        "carbon_pricing": "dropped",
    }
    dollars = gzip.decompress(client.get_object(Bucket=BUCKET, Key=f"processed/dollars_spent_{stamp}.csv")["Body"].read())
    assert dollars == b"metric,value\ndollars_spent,1234567890.0\n"
    # every request carried the token and was paged by headers at the documented maximum
    assert {r.status for r in requests_made} == {200} and {r.limit for r in requests_made} == {100}

    # the token appears nowhere: not in the output, the run history, nor the bucket
    assert TOKEN not in output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    for key in keys:
        assert TOKEN.encode() not in client.get_object(Bucket=BUCKET, Key=key)["Body"].read(), key
