"""Put the previous published manifest back: ``deployment/deploy.py rollback-data test|prod``.

The page and the presign function read only ``processed/manifest.json``; it names the one
published key of each dataset. Each publication first writes an identical archive copy at
``processed/manifests/<YYYYMMDDTHHMMSSZ>.json`` (UTC time of generation), then switches the
manifest. So rolling the data back is putting an archive's bytes back at the manifest's key, and
"the previous one" is the newest archive older than the archive byte-identical to the live
manifest. Nothing else is written: no new archive, no CSV; a second roll-back goes one further
back, and ``--to <archive key>`` goes anywhere (forward again too).

It refuses, with one sentence and before writing, when there is nothing to roll back to, when
the target is not an archive of the manifest's shape, or when a dataset key it names is no longer
in the bucket (the page would get 404s). The write is conditional on the manifest still being the
one read (``If-Match``), so a publication that lands meanwhile is not silently undone.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from deployment.errors import Refused

# The pipeline's names (cdr_dagster/domain/layout.py; tests/deployment checks they agree). The
# deploy script does not import the pipeline: it runs with boto3 alone.
MANIFEST_KEY = "processed/manifest.json"
ARCHIVE_PREFIX = "processed/manifests/"
ARCHIVE_KEY = re.compile(r"^processed/manifests/(?P<stamp>\d{8}T\d{6}Z)\.json$")
DATASET_KEY = re.compile(r"^processed/[a-z0-9_]+\.csv$")
MANIFEST_VERSION = 1
MAX_MANIFEST_BYTES = 256 * 1024  # what the presign function accepts


@dataclass(frozen=True)
class Archive:
    key: str
    stamp: str


@dataclass(frozen=True)
class Rollback:
    """What a roll-back does, worked out before writing."""

    bucket: str
    live_body: bytes
    live_etag: str
    live_archive: Archive | None  # the archive identical to the live manifest, if any
    target: Archive
    target_body: bytes
    changes: list[str]  # one line per dataset whose key changes


def _archives(s3: Any, bucket: str) -> list[Archive]:
    """Every archived manifest, oldest first (other keys under the prefix are ignored)."""
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=ARCHIVE_PREFIX):
        for item in page.get("Contents", []):
            match = ARCHIVE_KEY.match(item["Key"])
            if match:
                found.append(Archive(item["Key"], match["stamp"]))
    return sorted(found, key=lambda a: a.stamp)


def _read(s3: Any, bucket: str, key: str) -> tuple[bytes, str] | None:
    """The object's bytes and ETag, or None when it does not exist."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    body = response["Body"].read()
    # boto3 does not undo Content-Encoding (the pipeline stores what the page downloads gzipped)
    return (gzip.decompress(body) if response.get("ContentEncoding") == "gzip" else body), response["ETag"]


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def dataset_keys(body: bytes, where: str) -> dict[str, str]:
    """``{dataset: key}`` of a manifest; Refused naming ``where`` when it is not one."""
    try:
        document = json.loads(body) if len(body) <= MAX_MANIFEST_BYTES else None
    except ValueError:
        document = None
    datasets = document.get("datasets") if isinstance(document, dict) else None
    if not isinstance(document, dict) or document.get("version") != MANIFEST_VERSION or not isinstance(datasets, dict):
        raise Refused(f"cannot roll back to {where}: it is not a version {MANIFEST_VERSION} manifest with datasets")
    keys = {}
    for name, entry in datasets.items():
        key = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(key, str) or not DATASET_KEY.match(key):
            raise Refused(f"cannot roll back to {where}: dataset {name!r} names no processed/<file>.csv key")
        keys[str(name)] = key
    if not keys:
        raise Refused(f"cannot roll back to {where}: it lists no dataset")
    return keys


def _live_keys(body: bytes) -> dict[str, str]:
    """The live manifest's dataset keys, as far as they can be read (only for the summary)."""
    try:
        return dataset_keys(body, MANIFEST_KEY)
    except Refused:
        return {}


def _changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            lines.append(f"{name}: {old or '(not listed)'} -> {new or '(not listed: the page gets 404 for it)'}")
    return lines


def plan_rollback(s3: Any, bucket: str, to: str | None) -> Rollback:
    """Find what to put back and check it can be served; Refused when it cannot."""
    live = _read(s3, bucket, MANIFEST_KEY)
    if live is None:
        raise Refused(f"nothing to roll back: s3://{bucket}/{MANIFEST_KEY} does not exist (nothing is published)")
    live_body, live_etag = live
    archives = _archives(s3, bucket)
    live_archive = None
    bodies: dict[str, bytes] = {}
    for archive in reversed(archives):  # newest first: the live one is usually the newest
        found = _read(s3, bucket, archive.key)
        if found is not None:
            bodies[archive.key] = found[0]
            if found[0] == live_body:
                live_archive = archive
                break

    if to is not None:
        match = ARCHIVE_KEY.match(to)
        if not match:
            raise Refused(f"--to {to} is not an archived manifest key: expected {ARCHIVE_PREFIX}<YYYYMMDDTHHMMSSZ>.json")
        target = Archive(to, match["stamp"])
        if target.key not in bodies:
            found = _read(s3, bucket, target.key)
            if found is None:
                raise Refused(f"cannot roll back to {to}: there is no such archive in s3://{bucket}/")
            bodies[target.key] = found[0]
        if bodies[target.key] == live_body:
            raise Refused(f"nothing to roll back: {to} is already the live manifest")
    else:
        if live_archive is None:
            raise Refused(
                f"nothing to roll back to: the live manifest matches no archive under {ARCHIVE_PREFIX}, so which "
                "one came before it is unknown; choose one with --to <archive key>"
            )
        older = [a for a in archives if a.stamp < live_archive.stamp]
        if not older:
            raise Refused(f"nothing to roll back to: the live manifest is the oldest archive ({live_archive.key})")
        target = older[-1]
        found = _read(s3, bucket, target.key)
        if found is None:  # deleted between the listing and now
            raise Refused(f"cannot roll back to {target.key}: it was deleted while looking")
        bodies[target.key] = found[0]

    target_body = bodies[target.key]
    keys = dataset_keys(target_body, target.key)
    missing = [f"{key} ({name})" for name, key in sorted(keys.items()) if not _exists(s3, bucket, key)]
    if missing:
        raise Refused(
            f"cannot roll back to {target.key}: its dataset keys no longer exist in s3://{bucket}/: {', '.join(missing)}"
        )
    return Rollback(
        bucket=bucket,
        live_body=live_body,
        live_etag=live_etag,
        live_archive=live_archive,
        target=target,
        target_body=target_body,
        changes=_changes(_live_keys(live_body), keys),
    )


def _generated(body: bytes) -> str:
    try:
        value = json.loads(body).get("generated_at")
    except (ValueError, AttributeError):
        return "?"
    return str(value) if value else "?"


def describe(rollback: Rollback, deployment: str, dry_run: bool) -> list[str]:
    """The summary: which manifest was live, which is (or would be) live now, what changes."""
    live = rollback.live_archive.key if rollback.live_archive else f"{MANIFEST_KEY} (matches no archive)"
    before, after = ("live:", "would be live:") if dry_run else ("was live:", "live now:")
    lines = [
        f"rollback-data {deployment}: bucket {rollback.bucket}",
        f"  {before:<15} {live}, generated {_generated(rollback.live_body)}",
        f"  {after:<15} {rollback.target.key}, generated {_generated(rollback.target_body)}",
        f"  datasets whose key changes: {len(rollback.changes)}",
    ]
    lines += [f"    {line}" for line in rollback.changes]
    return lines


def apply(s3: Any, rollback: Rollback) -> None:
    """Write the archive's bytes at the manifest's key, only if the manifest is still the one read."""
    try:
        s3.put_object(
            Bucket=rollback.bucket,
            Key=MANIFEST_KEY,
            Body=rollback.target_body,
            ContentType="application/json",
            IfMatch=rollback.live_etag,
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
            raise Refused(
                f"not rolled back: s3://{rollback.bucket}/{MANIFEST_KEY} changed while looking (a publication?); "
                "run the command again to see the new state"
            ) from None
        raise


def next_steps(rollback: Rollback, deployment: str, dry_run: bool) -> list[str]:
    """What to tell the operator after the summary."""
    if dry_run:
        return ["dry run: nothing was changed"]
    lines = [
        f"rolled back: s3://{rollback.bucket}/{MANIFEST_KEY} now holds the bytes of {rollback.target.key}",
        "next:",
        "  - the presign function serves it within PRESIGN_MANIFEST_CACHE_SECONDS (60 s by default), and from then "
        'on only the versions it lists: reload the page, check "Last updated" and the charts',
        "  - pause weekly_refresh_schedule in the Dagster UI until the cause is fixed, or the next run publishes again",
        "  - the restored manifest is the baseline of the next run's quality gates",
    ]
    if rollback.live_archive:
        lines.append(f"  - undo: python3 deployment/deploy.py rollback-data {deployment} --to {rollback.live_archive.key}")
    return lines


def run(s3: Any, bucket: str, deployment: str, to: str | None, dry_run: bool, say: Callable[[str], None]) -> None:
    """The whole command: plan, (unless dry_run) write, then print the summary and what next."""
    rollback = plan_rollback(s3, bucket, to)
    if not dry_run:
        apply(s3, rollback)
    for line in describe(rollback, deployment, dry_run) + next_steps(rollback, deployment, dry_run):
        say(line)
