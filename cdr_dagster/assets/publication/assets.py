"""Publication: the step that makes a week's datasets visible to the public page.

Write, audit, publish: each run writes its datasets to ``staging/<run_id>/`` and checks them
there. This step publishes exactly those files (verified.py): the ones its own run built, by the
key and SHA-256 their materialization recorded, each with every blocking check passed on it;
anything else (run alone, a failed or skipped check, a file changed since) refuses with one
sentence and writes nothing. Holding the publication lock (one publication at a time), it copies
each staged file to a new ``processed/`` key, then rewrites ``processed/manifest.json`` (last, so
the page never points at a file that is not there), and reports what changed since the previous
publication.
"""

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from cdr_dagster.assets.common import OWNERS, WEEKLY_FRESHNESS
from cdr_dagster.assets.publication.live import publication_metadata
from cdr_dagster.assets.publication.verified import PublicationRefused, VerifiedFile, verified_files
from cdr_dagster.cdr_fyi.schema import TABLES
from cdr_dagster.deployments import current_deployment
from cdr_dagster.domain import publication_lock
from cdr_dagster.domain.datasets import DATASET_NAMES
from cdr_dagster.domain.layout import (
    MANIFEST_KEY,
    PUBLISHED_INPUTS_KEY,
    PUBLISHED_INPUTS_PREFIX,
    PUBLISHED_PREFIX,
    dated_key,
    manifest_archive_key,
    parse_dated_key,
    utc_date_stamp,
)
from cdr_dagster.domain.manifest import build_manifest, input_entry, inputs_record, manifest_bytes, manifest_entry
from cdr_dagster.domain.published import Published, read_published
from cdr_dagster.domain.weekly_changes import Week, changes_text, weekly_changes
from cdr_dagster.resources.slack import SlackWebhook
from cdr_dagster.resources.storage import Storage
from cdr_dagster.runs import read_lineage

INPUT_ASSETS: tuple[str, ...] = (*(f"cdr_fyi_{t}" for t in TABLES), "ccn_companies")


def next_published_key(storage: Storage, dataset: str, today: str) -> str:
    """``processed/<dataset>_<today>.csv``, or ``..._<today>_<n>.csv`` when that day already has
    versions: a published key is never overwritten, so the page never sees bytes that do not
    match the manifest it holds."""
    same_day = [
        d.seq
        for d in map(parse_dated_key, storage.list_keys(f"{PUBLISHED_PREFIX}/{dataset}_{today}"))
        if d and d.stem == dataset and d.date == today
    ]
    return dated_key(PUBLISHED_PREFIX, dataset, today, max(same_day, default=0) + 1)


def _blocking_checks(context: dg.AssetExecutionContext, assets: tuple[str, ...]) -> dict[str, list[dg.AssetCheckKey]]:
    """The blocking checks defined on each asset, whether this run ran them or not: those of the
    job and, when the run has one, of its code location (a job run without some checks still
    owes them)."""
    graphs = [context.job_def.asset_layer.asset_graph]
    try:
        graphs.append(context.repository_def.asset_graph)
    except Exception:  # a job executed in process has no code location: the job's graph only
        pass
    found: dict[str, set[dg.AssetCheckKey]] = {asset: set() for asset in assets}
    for graph in graphs:
        for asset in assets:
            keys = graph.get_check_keys_for_assets({dg.AssetKey(asset)})
            found[asset] |= {k for k in keys if graph.get_check_spec(k).blocking}
    return {asset: sorted(keys, key=lambda k: k.name) for asset, keys in found.items()}


def this_runs_files(context: dg.AssetExecutionContext, storage: Storage) -> tuple[dict[str, VerifiedFile], tuple[str, ...]]:
    """The datasets and inputs this run built and checked (and the run's lineage), or a dg.Failure
    that says in one sentence why nothing is published."""
    record = read_lineage(context.instance, context.run.run_id)
    assets = (*DATASET_NAMES, *INPUT_ASSETS)
    try:
        files = verified_files(record, assets, _blocking_checks(context, assets), storage, gated=DATASET_NAMES)
    except PublicationRefused as refused:
        raise dg.Failure(description=str(refused), allow_retries=False) from None
    return files, record.runs


def _week_from_published(published: Published) -> Week:
    return Week(
        orders=published.input_frame("cdr_fyi_orders"),
        purchasers=published.input_frame("cdr_fyi_purchasers"),
        suppliers=published.input_frame("cdr_fyi_suppliers"),
        orders_for_viz=published.dataset_frame("orders_for_viz"),
        dollars_spent=published.dollars_spent(),
    )


def _publish(
    storage: Storage, files: dict[str, VerifiedFile], now: datetime
) -> tuple[dict[str, Any], dict[str, Any], dict[str, bytes]]:
    """Copy the verified files to new published keys, record the inputs' baseline, archive and
    switch the manifest. Returns the manifest, the inputs record and every key written."""
    today = utc_date_stamp(now)
    entries, inputs, written = {}, {}, {}
    for dataset in DATASET_NAMES:
        file = files[dataset]
        published = next_published_key(storage, dataset, today)
        storage.write_bytes(published, file.data)
        written[published] = file.data
        entries[dataset] = manifest_entry(published, file.data, now, file.source)
    for asset in INPUT_ASSETS:
        data = files[asset].data
        key = f"{PUBLISHED_INPUTS_PREFIX}/{asset}.csv"
        storage.write_bytes(key, data)
        written[key] = data
        inputs[asset] = input_entry(key, data)
    record = inputs_record(inputs, now)
    storage.write_bytes(PUBLISHED_INPUTS_KEY, manifest_bytes(record), content_type="application/json")
    manifest = build_manifest(entries, current_deployment(), now)
    body = manifest_bytes(manifest)
    # the archive copy first: a roll-back can always find the manifest the page last served
    storage.write_bytes(manifest_archive_key(now), body, content_type="application/json")
    storage.write_bytes(MANIFEST_KEY, body, content_type="application/json")
    return manifest, record, written


@dg.asset(
    group_name="dashboard",
    deps=list(DATASET_NAMES),
    kinds={"python", "csv", "json"},
    owners=OWNERS,
    code_version="4",
    freshness_policy=WEEKLY_FRESHNESS,
)
def dashboard_publication(context: dg.AssetExecutionContext, storage: Storage, slack: SlackWebhook) -> dg.MaterializeResult:
    """What the public page serves this week: every dataset this run staged and checked, copied
    to a new published ``processed/`` key, and the manifest naming each one's key, rows,
    checksum, update time and source. Publishes only this run's own files, each with every
    blocking check passed on it, one publication at a time; switching the manifest is the single
    moment the page changes. Its metadata says what changed since the previous publication."""
    files, lineage = this_runs_files(context, storage)
    now = datetime.now(UTC)
    try:
        lock = publication_lock.acquire(storage, context.run.run_id, lineage, now)
    except publication_lock.PublicationLocked as locked:
        raise dg.Failure(
            description=f"dashboard_publication refused: {locked}; nothing was published (re-execute this "
            "run's publication once that run has finished).",
            allow_retries=False,
        ) from None
    try:
        before = _week_from_published(read_published(storage))  # read now: the inputs' copies are replaced
        manifest, record, written = _publish(storage, files, now)
    finally:
        publication_lock.release(storage, lock)
    entries = manifest["datasets"]
    context.log.info(
        f"published {len(entries)} datasets of run {context.run.run_id} to {storage.location(PUBLISHED_PREFIX + '/')}"
    )

    after = _week_from_published(Published(storage, manifest, record, known=written))
    changes = weekly_changes(before, after)
    archived = storage.location(manifest_archive_key(now))
    summary = changes_text(changes, current_deployment(), archived)
    slack.post(summary, log=context.log.info)
    return dg.MaterializeResult(
        metadata=publication_metadata(manifest, written, archived, storage.location(MANIFEST_KEY), summary, changes)
    )
