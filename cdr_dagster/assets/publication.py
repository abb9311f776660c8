"""Publication: the step that makes a week's datasets visible to the public page.

The datasets are written to ``staging/`` and checked there. Only when all of them exist and
every blocking check has passed does this step run: it copies each staged file to its
``processed/<dataset>_YYYYMMDD.csv`` key and then rewrites ``processed/manifest.json``. The
manifest is written last, so the page never points at a file that is not there.
"""

from datetime import UTC, datetime

import dagster as dg

from cdr_dagster.assets.dashboard import DATASETS, GROUP
from cdr_dagster.deployments import current_deployment
from cdr_dagster.manifest import MANIFEST_KEY, build_manifest, manifest_bytes, manifest_entry
from cdr_dagster.resources.storage import Storage

STAGING_PREFIX = "staging"
PUBLISHED_PREFIX = "processed"


def _latest_source(context: dg.AssetExecutionContext, dataset: str) -> str:
    event = context.instance.get_latest_materialization_event(dg.AssetKey(dataset))
    materialization = event.asset_materialization if event else None
    value = materialization.metadata.get("source") if materialization else None
    return str(getattr(value, "value", value) or "unknown")


@dg.asset(
    group_name=GROUP,
    deps=list(DATASETS),
    kinds={"python", "csv", "json"},
    owners=["team:data-platform"],
    code_version="1",
)
def dashboard_publication(context: dg.AssetExecutionContext, storage: Storage) -> dg.MaterializeResult:
    """What the public page serves this week: the six datasets copied from staging to their
    published ``processed/`` keys, and the manifest naming each one's key, rows, checksum,
    update time and source. Runs only when every dataset and check upstream has succeeded."""
    now = datetime.now(UTC)
    entries = {}
    for dataset in DATASETS:
        staged = storage.newest_dated_key(STAGING_PREFIX, dataset)
        if staged is None:
            raise dg.Failure(f"nothing staged for {dataset}: materialize it before publishing")
        published = f"{PUBLISHED_PREFIX}/{staged.split('/', 1)[1]}"
        data = storage.read_bytes(staged)
        storage.write_bytes(published, data)
        entries[dataset] = manifest_entry(published, data, now, _latest_source(context, dataset))
    manifest = build_manifest(entries, current_deployment(), now)
    storage.write_bytes(MANIFEST_KEY, manifest_bytes(manifest), content_type="application/json")
    context.log.info(f"published {len(entries)} datasets to {storage.location(PUBLISHED_PREFIX + '/')}")
    return dg.MaterializeResult(
        metadata={
            "manifest": dg.MetadataValue.path(storage.location(MANIFEST_KEY)),
            "published": dg.MetadataValue.json({d: e["key"] for d, e in entries.items()}),
            "rows": dg.MetadataValue.json({d: e["rows"] for d, e in entries.items()}),
            "sources": dg.MetadataValue.json({d: e["source"] for d, e in entries.items()}),
        }
    )
