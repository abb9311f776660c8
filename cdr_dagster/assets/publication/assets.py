"""Publication: the step that makes a week's datasets visible to the public page.

Write, audit, publish: the datasets are written to ``staging/`` and checked there. Only when all
of them exist and every blocking check upstream has passed does this step run. It copies each
staged file to its ``processed/<dataset>_YYYYMMDD.csv`` key, then rewrites
``processed/manifest.json`` (last, so the page never points at a file that is not there), and
reports what changed since the previous publication.
"""

from datetime import UTC, datetime

import dagster as dg

from cdr_dagster.assets.common import OWNERS, WEEKLY_FRESHNESS
from cdr_dagster.cdr_fyi.schema import TABLES
from cdr_dagster.deployments import current_deployment
from cdr_dagster.domain.datasets import DATASET_NAMES
from cdr_dagster.domain.layout import (
    MANIFEST_KEY,
    PUBLISHED_INPUTS_KEY,
    PUBLISHED_INPUTS_PREFIX,
    PUBLISHED_PREFIX,
    RAW_PREFIX,
    STAGING_PREFIX,
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


def _latest_source(context: dg.AssetExecutionContext, dataset: str) -> str:
    event = context.instance.get_latest_materialization_event(dg.AssetKey(dataset))
    materialization = event.asset_materialization if event else None
    value = materialization.metadata.get("source") if materialization else None
    return str(getattr(value, "value", value) or "unknown")


def _newest(storage: Storage, prefix: str, name: str) -> str:
    key = storage.newest_dated_key(prefix, name)
    if key is None:
        raise dg.Failure(f"nothing stored for {name} under {prefix}/: materialize it before publishing")
    return key


def _week_from_published(published: Published) -> Week:
    return Week(
        orders=published.input_frame("cdr_fyi_orders"),
        purchasers=published.input_frame("cdr_fyi_purchasers"),
        suppliers=published.input_frame("cdr_fyi_suppliers"),
        orders_for_viz=published.dataset_frame("orders_for_viz"),
        dollars_spent=published.dollars_spent(),
    )


@dg.asset(
    group_name="dashboard",
    deps=list(DATASET_NAMES),
    kinds={"python", "csv", "json"},
    owners=OWNERS,
    code_version="3",
    freshness_policy=WEEKLY_FRESHNESS,
)
def dashboard_publication(context: dg.AssetExecutionContext, storage: Storage, slack: SlackWebhook) -> dg.MaterializeResult:
    """What the public page serves this week: every dataset copied from staging to a new
    published ``processed/`` key, and the manifest naming each one's key, rows, checksum,
    update time and source. Runs only when every dataset and blocking check upstream has
    passed; switching the manifest is the single moment the page changes. Its metadata says
    what changed since the previous publication."""
    now = datetime.now(UTC)
    today = utc_date_stamp(now)
    before = _week_from_published(read_published(storage))

    entries, inputs, written = {}, {}, {}
    for dataset in DATASET_NAMES:
        data = storage.read_bytes(_newest(storage, STAGING_PREFIX, dataset))
        published = next_published_key(storage, dataset, today)
        storage.write_bytes(published, data)
        written[published] = data
        entries[dataset] = manifest_entry(published, data, now, _latest_source(context, dataset))
    for asset in INPUT_ASSETS:
        data = storage.read_bytes(_newest(storage, RAW_PREFIX, asset))
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
    context.log.info(f"published {len(entries)} datasets to {storage.location(PUBLISHED_PREFIX + '/')}")

    after = _week_from_published(Published(storage, manifest, record, known=written))
    changes = weekly_changes(before, after)
    summary = changes_text(changes, current_deployment())
    slack.post(summary, log=context.log.info)
    return dg.MaterializeResult(
        metadata={
            "manifest": dg.MetadataValue.path(storage.location(MANIFEST_KEY)),
            "published": dg.MetadataValue.json({d: e["key"] for d, e in entries.items()}),
            "rows": dg.MetadataValue.json({d: e["rows"] for d, e in entries.items()}),
            "sources": dg.MetadataValue.json({d: e["source"] for d, e in entries.items()}),
            "what_changed": dg.MetadataValue.md(summary),
            "changes": dg.MetadataValue.json(changes),
            "new_orders": changes["new_orders"],
        }
    )
