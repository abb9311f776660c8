"""Put the previous published week back: ``deployment/deploy.py rollback-data test|prod``.

The page and the presign function read only ``processed/manifest.json``; it names the one
published key of each dataset, and its stamp (``generated_at`` as ``YYYYMMDDTHHMMSSZ``) names the
week's gates' baseline, ``raw/published/<stamp>/`` (the next run's checks compare with it). Each
publication writes its baseline under its stamp, switches the manifest, then archives it at
``processed/manifests/<stamp>.json``. So rolling a whole week back is putting an archive's bytes
back at the manifest's key: the page's data and the baseline switch together, in one write.
"The previous one" is the newest archive older than the live manifest's stamp. Nothing else is
written; a second roll-back goes one further back, and ``--to <archive key>`` goes anywhere
(forward again too).

It refuses, with one sentence and before writing, when there is nothing to roll back to, when
the target is not an archive of the manifest's shape, of this deployment, dated no later than
now, when a file it names (a dataset or a baseline input) is missing or no longer has its
recorded SHA-256, or while a publication is in progress. The write is conditional on the
manifest still being the one read (``If-Match``), so a publication that lands meanwhile is not
silently undone.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from cdr_dagster.domain.layout import (
    MANIFEST_ARCHIVE_PREFIX,
    MANIFEST_KEY,
    PUBLISHED_INPUTS_PREFIX,
    PUBLISHED_PREFIX,
    baseline_record_key,
    baseline_record_stamp,
    is_published_dataset_key,
    manifest_archive_stamp,
)
from cdr_dagster.domain.layout import stamp as publication_stamp
from cdr_dagster.domain.manifest import MANIFEST_VERSION
from deployment.errors import Refused

# Every key rule is the pipeline's own (cdr_dagster/domain/layout.py: no Dagster import).
MAX_MANIFEST_BYTES = 256 * 1024  # what the presign function accepts
#: A baseline newer than the live week, younger than this and not yet live is a publication in
#: progress (one takes seconds); older, it is what a killed one left (the next one removes it).
PUBLICATION_SECONDS = 15 * 60


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
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{MANIFEST_ARCHIVE_PREFIX}/"):
        for item in page.get("Contents", []):
            if archived := manifest_archive_stamp(item["Key"]):
                found.append(Archive(item["Key"], archived))
    return sorted(found, key=lambda a: a.stamp)


def _read(s3: Any, bucket: str, key: str) -> tuple[bytes, str] | None:
    """The object's bytes and ETag, or None when it does not exist (every read goes through here)."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    body = response["Body"].read()
    # boto3 does not undo Content-Encoding (the pipeline stores what the page downloads gzipped)
    return (gzip.decompress(body) if response.get("ContentEncoding") == "gzip" else body), response["ETag"]


def stamp_of(body: bytes) -> str | None:
    """The stamp of the publication that wrote a manifest (its ``generated_at``), or None."""
    try:
        generated = datetime.strptime(str(json.loads(body)["generated_at"]), "%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, KeyError, TypeError):
        return None
    return publication_stamp(generated.replace(tzinfo=UTC))


def _baseline_files(s3: Any, bucket: str, stamp: str, where: str) -> dict[str, tuple[str, str]]:
    """``{input: (key, sha256)}`` of the gates' baseline archived under ``stamp``."""
    record_key = baseline_record_key(stamp)
    found = _read(s3, bucket, record_key)
    if found is None:
        raise Refused(f"cannot roll back to {where}: its gates' baseline {record_key} does not exist")
    try:
        inputs = json.loads(found[0])["inputs"]
        return {str(name): (str(entry["key"]), str(entry["sha256"])) for name, entry in inputs.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Refused(f"cannot roll back to {where}: {record_key} is not a baseline record") from None


def _publication_in_progress(s3: Any, bucket: str, live_stamp: str | None, archived: set[str], now: datetime) -> str | None:
    """The baseline record of a publication that started recently and has not gone live yet
    (newer than the live week, not archived)."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{PUBLISHED_INPUTS_PREFIX}/"):
        for item in page.get("Contents", []):
            publication = baseline_record_stamp(item["Key"])
            recent = now - item["LastModified"] < timedelta(seconds=PUBLICATION_SECONDS)
            if publication is None or publication in archived or not recent:
                continue
            if live_stamp is None or publication > live_stamp:
                return str(item["Key"])
    return None


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
        if not isinstance(key, str) or not is_published_dataset_key(key):
            raise Refused(f"cannot roll back to {where}: dataset {name!r} names no {PUBLISHED_PREFIX}/<file>.csv key")
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


def _verified(s3: Any, bucket: str, target: Archive, body: bytes, deployment: str, now: datetime) -> dict[str, str]:
    """The archive's dataset keys, once it is this deployment's, not from the future, and every
    file it names (datasets and baseline) has its recorded SHA-256; Refused otherwise."""
    where = target.key
    keys = dataset_keys(body, where)
    owner = json.loads(body).get("deployment")
    if owner != deployment:
        raise Refused(f"cannot roll back to {where}: it was published by deployment {owner!r}, not {deployment!r}")
    if target.stamp > publication_stamp(now) or stamp_of(body) != target.stamp:
        raise Refused(f"cannot roll back to {where}: it is dated {stamp_of(body) or '?'}, later than now or not its name")
    expected = {key: str(entry.get("sha256")) for key, entry in ((k, json.loads(body)["datasets"][n]) for n, k in keys.items())}
    expected |= dict(_baseline_files(s3, bucket, target.stamp, where).values())
    missing, changed = [], []
    for key, sha256 in sorted(expected.items()):
        found = _read(s3, bucket, key)
        if found is None:
            missing.append(key)
        elif hashlib.sha256(found[0]).hexdigest() != sha256:
            changed.append(key)
    if missing:
        raise Refused(f"cannot roll back to {where}: files it names no longer exist in s3://{bucket}/: {', '.join(missing)}")
    if changed:
        raise Refused(f"cannot roll back to {where}: files it names no longer have their recorded SHA-256: {', '.join(changed)}")
    return keys


def plan_rollback(s3: Any, bucket: str, to: str | None, deployment: str, now: datetime | None = None) -> Rollback:
    """Find what to put back and check it can be served; Refused when it cannot."""
    now = now or datetime.now(UTC)
    live = _read(s3, bucket, MANIFEST_KEY)
    if live is None:
        raise Refused(f"nothing to roll back: s3://{bucket}/{MANIFEST_KEY} does not exist (nothing is published)")
    live_body, live_etag = live
    live_stamp = stamp_of(live_body)
    archives = {a.stamp: a for a in _archives(s3, bucket)}
    in_progress = _publication_in_progress(s3, bucket, live_stamp, set(archives), now)
    if in_progress:
        raise Refused(
            f"not rolled back: a publication is in progress ({in_progress} was written less than "
            f"{PUBLICATION_SECONDS // 60} minutes ago and is not live yet); wait for its run to finish, then run the "
            "command again"
        )
    live_archive = archives.get(live_stamp) if live_stamp else None

    if to is not None:
        chosen = manifest_archive_stamp(to)
        if chosen is None:
            raise Refused(
                f"--to {to} is not an archived manifest key: expected {MANIFEST_ARCHIVE_PREFIX}/<YYYYMMDDTHHMMSSZ>.json"
            )
        target = Archive(to, chosen)
        if target.stamp == live_stamp:
            raise Refused(f"nothing to roll back: {to} is already the live manifest")
    else:
        if live_stamp is None:
            raise Refused(
                "nothing to roll back to: the live manifest has no generation time, so which archive came before it "
                "is unknown; choose one with --to <archive key>"
            )
        older = [a for stamp, a in sorted(archives.items()) if stamp < live_stamp]
        if not older:
            raise Refused(
                f"nothing to roll back to: no archive under {MANIFEST_ARCHIVE_PREFIX}/ is older than the live manifest ({live_stamp})"
            )
        target = older[-1]
    found = _read(s3, bucket, target.key)
    if found is None:
        raise Refused(f"cannot roll back to {target.key}: there is no such archive in s3://{bucket}/")
    target_body = found[0]
    keys = _verified(s3, bucket, target, target_body, deployment, now)
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
    live = rollback.live_archive.key if rollback.live_archive else f"{MANIFEST_KEY} (not archived)"
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
        "  - the restored week (its data and its gates' baseline) is what the next run is judged against and must be "
        "newer than: start a fresh refresh once the cause is fixed",
    ]
    if rollback.live_archive:
        lines.append(f"  - undo: python3 deployment/deploy.py rollback-data {deployment} --to {rollback.live_archive.key}")
    return lines


def run(s3: Any, bucket: str, deployment: str, to: str | None, dry_run: bool, say: Callable[[str], None]) -> None:
    """The whole command: plan, (unless dry_run) write, then print the summary and what next."""
    rollback = plan_rollback(s3, bucket, to, deployment)
    if not dry_run:
        apply(s3, rollback)
    for line in describe(rollback, deployment, dry_run) + next_steps(rollback, deployment, dry_run):
        say(line)
