#!/usr/bin/env python3
"""Put the previously published data back on the page: ``deployment/rollback_data.py local|test|prod``.

    .venv/bin/python deployment/rollback_data.py test [--to processed/manifests/<time>.json] [--dry-run]

The page reads ``processed/manifest.json``; each publication archived the one before under
``processed/manifests/`` and never overwrote a published file, so rolling back is writing the
previous manifest's bytes back (one atomic write). ``local`` works on ``./data`` (``CDR_DATA_DIR``);
test and prod on the deployment's bucket from deployments.toml (boto3's credentials and endpoint
variables). Run it again to go one week further back; the next successful publication moves
forward again. Exit codes: 0 done, 2 refused (nothing to roll back to, files gone, bad usage).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cdr_dagster.domain.layout import MANIFEST_ARCHIVE_PREFIX, MANIFEST_KEY  # noqa: E402
from cdr_dagster.domain.rollback import RollbackRefused, plan_rollback  # noqa: E402


class Folder:
    def __init__(self, base: Path) -> None:
        self.base = base

    def list(self, prefix: str) -> list[str]:
        folder = self.base / prefix
        return sorted(f"{prefix}/{p.name}" for p in folder.glob("*.json")) if folder.is_dir() else []

    def read(self, key: str) -> bytes:
        return (self.base / key).read_bytes()

    def exists(self, key: str) -> bool:
        return (self.base / key).is_file()

    def write(self, key: str, data: bytes) -> None:
        path = self.base / key
        tmp = path.with_name(f".{path.name}.rollback")
        tmp.write_bytes(data)
        os.replace(tmp, path)


class Bucket:
    def __init__(self, bucket: str, region: str) -> None:
        import boto3

        self.bucket, self.s3 = bucket, boto3.client("s3", region_name=region)

    def list(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{prefix}/")
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
            return True
        except self.s3.exceptions.ClientError:
            return False

    def write(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/json")


def store_for(deployment: str) -> Any:
    if deployment == "local":
        return Folder(Path(os.environ.get("CDR_DATA_DIR", ROOT / "data")))
    from deployment.deploy import CONFIG_FILE, load_config

    settings = load_config(ROOT / CONFIG_FILE).deployments[deployment]
    return Bucket(settings.bucket, settings.region)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deployment/rollback_data.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("deployment", choices=["local", "test", "prod"])
    parser.add_argument("--to", help="the archived manifest to put back (default: the one before the live one)")
    parser.add_argument("--dry-run", action="store_true", help="say what would change; write nothing")
    args = parser.parse_args(argv)
    store = store_for(args.deployment)
    try:
        if not store.exists(MANIFEST_KEY):
            raise RollbackRefused(f"{MANIFEST_KEY} does not exist: nothing is published yet")
        plan = plan_rollback(store.list(MANIFEST_ARCHIVE_PREFIX), store.read(MANIFEST_KEY), store.read, store.exists, args.to)
    except RollbackRefused as refused:
        print(f"Refused: {refused}.", file=sys.stderr)
        return 2
    print(f"Live now: {plan.live or '(a manifest with no archived copy)'}")
    print(f"{'Would put back' if args.dry_run else 'Put back'}: {plan.target}")
    for dataset, (now, after) in plan.changed.items():
        print(f"  {dataset}: {now} -> {after}")
    if not plan.changed:
        print("  (the same files: nothing changes for the page)")
    if args.dry_run:
        print("Dry run: nothing written. Run again without --dry-run to roll back.")
        return 0
    store.write(MANIFEST_KEY, plan.data)
    print("Done: the page serves these files within a minute (the presign API's manifest cache).")
    print("Next: fix what went wrong, then publish again (python3 dev.py refresh, or the weekly run).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
