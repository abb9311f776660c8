"""Publication: the step that makes a week's datasets visible to the public page.

Write, audit, publish: the datasets are written to ``staging/`` and checked there. Only when all
of them exist and every blocking check upstream has passed does this step run. It copies each
staged file to its ``processed/<dataset>_YYYYMMDD.csv`` key, then rewrites
``processed/manifest.json`` (last, so the page never points at a file that is not there), and
reports what changed since the previous publication.
"""

from datetime import UTC, datetime

import dagster as dg

from cdr_dagster.assets.dashboard import DATASETS, GROUP
from cdr_dagster.cdr_fyi_schema import TABLES
from cdr_dagster.deployments import current_deployment
from cdr_dagster.manifest import MANIFEST_KEY, build_manifest, input_entry, manifest_bytes, manifest_entry
from cdr_dagster.published import Published, read_published
from cdr_dagster.resources.slack import SlackWebhook
from cdr_dagster.resources.storage import Storage
from cdr_dagster.weekly_changes import Week, changes_text, weekly_changes

STAGING_PREFIX = "staging"
PUBLISHED_PREFIX = "processed"
RAW_PREFIX = "raw"
# A copy of each raw input the published datasets were built from, replaced only by a successful
# publication: next week's gates and "what changed" compare with it. (The dated raw files are not
# enough: a second run on the same day overwrites them before anything is checked.)
PUBLISHED_INPUTS_PREFIX = "raw/published"
INPUT_ASSETS: tuple[str, ...] = (*(f"cdr_fyi_{t}" for t in TABLES), "ccn_companies")


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
    group_name=GROUP,
    deps=list(DATASETS),
    kinds={"python", "csv", "json"},
    owners=["team:data-platform"],
    code_version="2",
)
def dashboard_publication(
    context: dg.AssetExecutionContext, storage: Storage, slack: SlackWebhook
) -> dg.MaterializeResult:
    """What the public page serves this week: the six datasets copied from staging to their
    published ``processed/`` keys, and the manifest naming each one's key, rows, checksum,
    update time and source. Runs only when every dataset and blocking check upstream has
    passed; its metadata says what changed since the previous publication."""
    now = datetime.now(UTC)
    before = _week_from_published(read_published(storage))

    entries, inputs, written = {}, {}, {}
    for dataset in DATASETS:
        staged = _newest(storage, STAGING_PREFIX, dataset)
        published = f"{PUBLISHED_PREFIX}/{staged.split('/', 1)[1]}"
        data = storage.read_bytes(staged)
        storage.write_bytes(published, data)
        written[published] = data
        entries[dataset] = manifest_entry(published, data, now, _latest_source(context, dataset))
    for asset in INPUT_ASSETS:
        data = storage.read_bytes(_newest(storage, RAW_PREFIX, asset))
        key = f"{PUBLISHED_INPUTS_PREFIX}/{asset}.csv"
        storage.write_bytes(key, data)
        written[key] = data
        inputs[asset] = input_entry(key, data)
    manifest = build_manifest(entries, inputs, current_deployment(), now)
    storage.write_bytes(MANIFEST_KEY, manifest_bytes(manifest), content_type="application/json")
    context.log.info(f"published {len(entries)} datasets to {storage.location(PUBLISHED_PREFIX + '/')}")

    after = _week_from_published(Published(storage, manifest, known=written))
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
