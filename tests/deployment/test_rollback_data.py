"""``deployment/deploy.py rollback-data`` (#13.11, D4, #18.3) on moto's S3 server, run as the team
runs it: publications are built here as the pipeline leaves them (dated CSVs, the gates' baseline
under the publication's stamp, the manifest, then its archive under processed/manifests/), and
the command puts the previous week back, data and baseline together, or refuses with one
sentence and writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cdr_dagster.domain import layout
from cdr_dagster.domain.manifest import (
    Pulled,
    build_manifest,
    input_entry,
    inputs_record,
    manifest_bytes,
    manifest_entry,
)
from deployment import rollback_data
from deployment.errors import Refused
from tests.deployment.conftest import Aws, Checkout

BUCKET = "cdr-dashboard-test"
W1, W2, W3 = "20261113T060000Z", "20261120T060000Z", "20261127T060000Z"
CSV = b"year,countries_count\n2025,1\n"


def archive(stamp: str) -> str:
    return f"processed/manifests/{stamp}.json"


def orders_input(stamp: str) -> bytes:
    return f"order_id,week\no-1,{stamp}\n".encode()


def publish(
    aws: Aws, stamp: str, datasets: dict[str, str], *, archive_it: bool = True, deployment: str = "test", switch: bool = True
) -> bytes:
    """One publication as the pipeline writes it: the CSVs and the gates' baseline under its
    stamp, the manifest, then its archive."""
    s3 = aws.client("s3")
    moment = layout.parse_stamp(stamp)
    for key in datasets.values():
        s3.put_object(Bucket=BUCKET, Key=key, Body=CSV)
    baseline_key = layout.baseline_input_key(stamp, "cdr_fyi_orders")
    s3.put_object(Bucket=BUCKET, Key=baseline_key, Body=orders_input(stamp))
    record = inputs_record({"cdr_fyi_orders": input_entry(baseline_key, orders_input(stamp))}, moment, Pulled(moment, "r"))
    s3.put_object(Bucket=BUCKET, Key=layout.baseline_record_key(stamp), Body=manifest_bytes(record))
    entries = {name: manifest_entry(key, CSV, moment, "sample") for name, key in datasets.items()}
    body = manifest_bytes(build_manifest(entries, deployment, moment))
    if switch:
        s3.put_object(Bucket=BUCKET, Key=layout.MANIFEST_KEY, Body=body)
    if archive_it:
        s3.put_object(Bucket=BUCKET, Key=layout.manifest_archive_key(stamp), Body=body)
    return body


def week(day: str, *, carbon_pricing: bool = False) -> dict[str, str]:
    datasets = {
        "ccn_data": "processed/ccn_data_20261113.csv",  # unchanged since the first week
        "orders_for_viz": f"processed/orders_for_viz_{day}.csv",
    }
    if carbon_pricing:
        datasets["carbon_pricing"] = f"processed/carbon_pricing_{day}.csv"
    return datasets


@pytest.fixture()
def three_weeks(aws: Aws) -> dict[str, bytes]:
    return {
        W1: publish(aws, W1, week("20261113")),
        W2: publish(aws, W2, week("20261120")),
        W3: publish(aws, W3, week("20261127", carbon_pricing=True)),
    }


def live(aws: Aws) -> bytes:
    return aws.client("s3").get_object(Bucket=BUCKET, Key="processed/manifest.json")["Body"].read()


def rollback(checkout: Checkout, aws: Aws, *args: str):
    return checkout.deploy("rollback-data", "test", *args, env=aws.env())


def next_lines(undo: str) -> list[str]:
    return [
        "next:",
        "  - the presign function serves it within PRESIGN_MANIFEST_CACHE_SECONDS (60 s by default), and from then "
        'on only the versions it lists: reload the page, check "Last updated" and the charts',
        "  - pause weekly_refresh_schedule in the Dagster UI until the cause is fixed, or the next run publishes again",
        "  - the restored week (its data and its gates' baseline) is what the next run is judged against and must be "
        "newer than: start a fresh refresh once the cause is fixed",
        f"  - undo: python3 deployment/deploy.py rollback-data test --to {undo}",
    ]


def test_rollback_puts_the_previous_manifest_back_then_the_one_before(
    aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes]
) -> None:
    run = rollback(checkout, aws)

    assert (run.returncode, run.stderr) == (0, "")
    assert live(aws) == three_weeks[W2]
    assert run.stdout.splitlines() == [
        f"AWS endpoint override: AWS_ENDPOINT_URL={aws.endpoint_url}",
        "rollback-data test: bucket cdr-dashboard-test",
        f"  was live:       {archive(W3)}, generated 2026-11-27T06:00:00Z",
        f"  live now:       {archive(W2)}, generated 2026-11-20T06:00:00Z",
        "  datasets whose key changes: 2",
        "    carbon_pricing: processed/carbon_pricing_20261127.csv -> (not listed: the page gets 404 for it)",
        "    orders_for_viz: processed/orders_for_viz_20261127.csv -> processed/orders_for_viz_20261120.csv",
        f"rolled back: s3://cdr-dashboard-test/processed/manifest.json now holds the bytes of {archive(W2)}",
        *next_lines(archive(W3)),
    ]
    # nothing else was written: no new archive, the CSVs as they were
    s3 = aws.client("s3")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="processed/manifests/")["Contents"]) == [
        archive(W1),
        archive(W2),
        archive(W3),
    ]

    again = rollback(checkout, aws)
    assert (again.returncode, again.stderr) == (0, "")
    assert live(aws) == three_weeks[W1]
    assert again.stdout.splitlines()[2:5] == [
        f"  was live:       {archive(W2)}, generated 2026-11-20T06:00:00Z",
        f"  live now:       {archive(W1)}, generated 2026-11-13T06:00:00Z",
        "  datasets whose key changes: 1",
    ]

    # the oldest: nothing before it
    last = rollback(checkout, aws)
    assert (last.returncode, last.stdout.splitlines()[1:], last.stderr) == (
        3,
        [],
        f"deploy: nothing to roll back to: no archive under processed/manifests/ is older than the live manifest ({W1})\n",
    )
    assert live(aws) == three_weeks[W1]


def test_to_puts_any_archive_back_forward_again_too(aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes]) -> None:
    assert rollback(checkout, aws, "--to", archive(W1)).returncode == 0
    assert live(aws) == three_weeks[W1]

    forward = rollback(checkout, aws, "--to", archive(W3))

    assert (forward.returncode, forward.stderr) == (0, "")
    assert live(aws) == three_weeks[W3]
    assert forward.stdout.splitlines()[2:6] == [
        f"  was live:       {archive(W1)}, generated 2026-11-13T06:00:00Z",
        f"  live now:       {archive(W3)}, generated 2026-11-27T06:00:00Z",
        "  datasets whose key changes: 2",
        "    carbon_pricing: (not listed) -> processed/carbon_pricing_20261127.csv",
    ]


@pytest.mark.parametrize(
    ("to", "message"),
    [
        (
            "processed/manifest.json",
            "--to processed/manifest.json is not an archived manifest key: expected processed/manifests/<YYYYMMDDTHHMMSSZ>.json",
        ),
        (
            "processed/manifests/20261101T000000Z.json",
            "cannot roll back to processed/manifests/20261101T000000Z.json: there is no such archive in s3://cdr-dashboard-test/",
        ),
        (archive(W3), f"nothing to roll back: {archive(W3)} is already the live manifest"),
    ],
)
def test_to_refuses_what_is_not_another_archive(
    aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes], to: str, message: str
) -> None:
    run = rollback(checkout, aws, "--to", to)

    assert (run.returncode, run.stderr) == (3, f"deploy: {message}\n")
    assert live(aws) == three_weeks[W3]


def test_refuses_when_the_archives_dataset_keys_are_gone(aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes]) -> None:
    aws.client("s3").delete_object(Bucket=BUCKET, Key="processed/orders_for_viz_20261120.csv")

    run = rollback(checkout, aws)

    assert (run.returncode, run.stderr) == (
        3,
        f"deploy: cannot roll back to {archive(W2)}: files it names no longer exist in s3://cdr-dashboard-test/: "
        "processed/orders_for_viz_20261120.csv\n",
    )
    assert live(aws) == three_weeks[W3]


def test_refuses_an_archive_that_names_keys_outside_processed(
    aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes]
) -> None:
    document = json.loads(three_weeks[W2])
    document["datasets"]["ccn_data"]["key"] = "raw/ccn_companies.csv"
    aws.client("s3").put_object(Bucket=BUCKET, Key=archive(W2), Body=json.dumps(document).encode())

    run = rollback(checkout, aws)

    assert (run.returncode, run.stderr) == (
        3,
        f"deploy: cannot roll back to {archive(W2)}: dataset 'ccn_data' names no processed/<file>.csv key\n",
    )
    assert live(aws) == three_weeks[W3]


def test_nothing_published_is_refused(aws: Aws, checkout: Checkout) -> None:
    run = rollback(checkout, aws)

    assert (run.returncode, run.stderr) == (
        3,
        "deploy: nothing to roll back: s3://cdr-dashboard-test/processed/manifest.json does not exist (nothing is published)\n",
    )


def test_a_live_manifest_not_archived_yet_still_rolls_back(aws: Aws, checkout: Checkout) -> None:
    first = publish(aws, W1, week("20261113"))
    publish(aws, W2, week("20261120"), archive_it=False)  # its run was killed between switch and archive

    run = rollback(checkout, aws)

    assert (run.returncode, run.stderr) == (0, "")
    assert live(aws) == first
    lines = run.stdout.splitlines()
    assert lines[2] == "  was live:       processed/manifest.json (not archived), generated 2026-11-20T06:00:00Z"
    assert not any(line.startswith("  - undo:") for line in lines)  # no archive to go back to


def test_dry_run_reads_and_prints_and_writes_nothing(aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes]) -> None:
    versions_before = aws.client("s3").list_object_versions(Bucket=BUCKET, Prefix="processed/manifest.json")["Versions"]

    run = rollback(checkout, aws, "--dry-run")

    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout.splitlines()[1:] == [
        "rollback-data test: bucket cdr-dashboard-test",
        f"  live:           {archive(W3)}, generated 2026-11-27T06:00:00Z",
        f"  would be live:  {archive(W2)}, generated 2026-11-20T06:00:00Z",
        "  datasets whose key changes: 2",
        "    carbon_pricing: processed/carbon_pricing_20261127.csv -> (not listed: the page gets 404 for it)",
        "    orders_for_viz: processed/orders_for_viz_20261127.csv -> processed/orders_for_viz_20261120.csv",
        "dry run: nothing was changed",
    ]
    versions_after = aws.client("s3").list_object_versions(Bucket=BUCKET, Prefix="processed/manifest.json")["Versions"]
    assert [v["VersionId"] for v in versions_after] == [v["VersionId"] for v in versions_before]


def test_a_publication_landing_while_looking_is_not_undone(aws: Aws, three_weeks: dict[str, bytes]) -> None:
    s3 = aws.client("s3")
    plan = rollback_data.plan_rollback(s3, BUCKET, None, "test")
    fourth = publish(aws, "20261204T060000Z", week("20261204"))  # the weekly run publishes meanwhile

    with pytest.raises(
        Refused, match=r"^not rolled back: s3://cdr-dashboard-test/processed/manifest\.json changed while looking"
    ):
        rollback_data.apply(s3, plan)

    assert live(aws) == fourth


def test_usage_errors_exit_2(aws: Aws, checkout: Checkout) -> None:
    run = rollback(checkout, aws, "--to")
    assert run.returncode == 2 and "--to: expected one argument" in run.stderr
    unknown = checkout.deploy("rollback-data", "staging", env=aws.env())
    assert unknown.returncode == 2 and "invalid choice: 'staging'" in unknown.stderr


def test_the_rollback_waits_as_long_as_the_publication_and_reads_its_stamp() -> None:
    """rollback_data.py reads the bucket's keys through layout.py; what it keeps of its own agrees."""
    from cdr_dagster.assets.publication.assets import ABANDONED_SECONDS

    assert rollback_data.PUBLICATION_SECONDS == ABANDONED_SECONDS
    assert rollback_data.stamp_of(manifest_bytes(build_manifest({}, "test", datetime(2026, 11, 27, 6, 0, 5, tzinfo=UTC)))) == (
        "20261127T060005Z"
    )


def test_the_baseline_goes_back_with_the_data(aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes]) -> None:
    """The next run's gates compare with the restored week's inputs, not the rolled-back one's."""
    from dagster_aws.s3 import S3Resource

    from cdr_dagster.domain.published import read_published
    from cdr_dagster.resources.s3_storage import S3Storage

    storage = S3Storage(s3=S3Resource(region_name="ca-central-1", endpoint_url=aws.endpoint_url), bucket=BUCKET)
    assert read_published(storage).input_frame("cdr_fyi_orders")["week"].tolist() == [W3]

    assert rollback(checkout, aws).returncode == 0

    published = read_published(storage)
    assert published.stamp == W2
    assert published.input_frame("cdr_fyi_orders")["week"].tolist() == [W2]
    assert published.pulled == Pulled(layout.parse_stamp(W2), "r")


@pytest.mark.parametrize(
    ("key", "what"),
    [("processed/orders_for_viz_20261120.csv", "a dataset"), (f"raw/published/{W2}/cdr_fyi_orders.csv", "a baseline input")],
)
def test_a_tampered_archive_is_refused_naming_the_file(
    aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes], key: str, what: str
) -> None:
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"replaced,by\nsomeone,else\n")

    run = rollback(checkout, aws)

    assert (run.returncode, run.stderr) == (
        3,
        f"deploy: cannot roll back to {archive(W2)}: files it names no longer have their recorded SHA-256: {key}\n",
    ), what
    assert live(aws) == three_weeks[W3]


def test_an_archive_without_its_baseline_is_refused(aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes]) -> None:
    aws.client("s3").delete_object(Bucket=BUCKET, Key=f"raw/published/{W2}/inputs.json")

    run = rollback(checkout, aws)

    assert (run.returncode, run.stderr) == (
        3,
        f"deploy: cannot roll back to {archive(W2)}: its gates' baseline raw/published/{W2}/inputs.json does not exist\n",
    )
    assert live(aws) == three_weeks[W3]


def test_a_foreign_or_future_archive_is_refused(aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes]) -> None:
    future = "20991231T000000Z"
    publish(aws, future, week("20991231"), switch=False)
    publish(aws, "20261126T060000Z", week("20261126"), deployment="prod", switch=False)

    foreign = rollback(checkout, aws)  # the newest archive before the live one is prod's
    assert (foreign.returncode, foreign.stderr) == (
        3,
        "deploy: cannot roll back to processed/manifests/20261126T060000Z.json: it was published by deployment "
        "'prod', not 'test'\n",
    )
    ahead = rollback(checkout, aws, "--to", archive(future))
    assert (ahead.returncode, ahead.stderr) == (
        3,
        f"deploy: cannot roll back to {archive(future)}: it is dated {future}, later than now or not its name\n",
    )
    assert live(aws) == three_weeks[W3]


def test_a_publication_in_progress_is_waited_for(aws: Aws, checkout: Checkout, three_weeks: dict[str, bytes]) -> None:
    # a publication has written its baseline (stamped now) and not switched yet
    now = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aws.client("s3").put_object(Bucket=BUCKET, Key=f"raw/published/{now}/inputs.json", Body=b"{}")

    run = rollback(checkout, aws)

    assert (run.returncode, run.stderr) == (
        3,
        f"deploy: not rolled back: a publication is in progress (raw/published/{now}/inputs.json was written less than "
        "15 minutes ago and is not live yet); wait for its run to finish, then run the command again\n",
    )
    assert live(aws) == three_weeks[W3]
