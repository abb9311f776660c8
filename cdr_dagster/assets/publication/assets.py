"""Publication: the step that makes a week's datasets visible to the public page.

Write, audit, publish: each run writes its datasets to ``staging/<run_id>/`` and checks them
there. This step publishes exactly those files (verified.py): the ones its own run built, each
with every blocking check passed on it; anything else refuses with one sentence and writes
nothing. A week only moves forward: it refuses data whose pulls started before those of the live
week, and a week whose checks were judged against another publication than the live one.

It writes only new keys (the datasets at new ``processed/`` keys, the gates' baseline under the
publication's stamp), then switches ``processed/manifest.json`` with one conditional write (only
if it is still the manifest read: S3 ``IfMatch``), then archives that manifest. Dagster's
``dashboard_publication`` pool runs one publication at a time per instance; the conditional
write makes the loser of a race between instances or laptops learn it lost. A publication that
fails removes what it wrote; one killed leaves only keys its baseline record lists and no
manifest names (and, on a local folder, temp files of its unfinished writes), which the next
publication removes (after 15 minutes: it may be another instance's, still running).
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from cdr_dagster.assets.options import OWNERS, WEEKLY_FRESHNESS
from cdr_dagster.assets.publication.live import publication_metadata
from cdr_dagster.assets.publication.verified import PublicationRefused, Vouched, blocking_checks, vouched_files
from cdr_dagster.cdr_fyi.schema import TABLES
from cdr_dagster.domain.datasets import DATASET_NAMES
from cdr_dagster.domain.layout import (
    MANIFEST_KEY,
    PUBLISHED_INPUTS_PREFIX,
    PUBLISHED_PREFIX,
    baseline_input_key,
    baseline_record_key,
    baseline_record_stamp,
    manifest_archive_key,
    next_published_key,
    published_day_prefix,
    stamp,
    utc_date_stamp,
)
from cdr_dagster.domain.manifest import (
    Pulled,
    build_manifest,
    input_entry,
    inputs_record,
    manifest_bytes,
    manifest_entry,
)
from cdr_dagster.domain.published import NOTHING_PUBLISHED, Published, read_published
from cdr_dagster.domain.weekly_changes import Week, changes_text, weekly_changes
from cdr_dagster.resources.csv_io_manager import StoredFile
from cdr_dagster.resources.slack import SlackWebhook
from cdr_dagster.resources.storage import Storage

PULL_ASSETS: tuple[str, ...] = tuple(f"cdr_fyi_{t}" for t in TABLES)
INPUT_ASSETS: tuple[str, ...] = (*PULL_ASSETS, "ccn_companies")
#: The Dagster concurrency pool of the publication (the instance limits every pool to 1).
PUBLICATION_POOL = "dashboard_publication"
NOTHING = "nothing was published"
JSON = "application/json"
#: A baseline record this old that never went live was left by a killed publication (one takes
#: seconds); rollback-data waits for a younger one.
ABANDONED_SECONDS = 15 * 60


def refuse(sentence: str) -> dg.Failure:
    return dg.Failure(description=f"dashboard_publication refused: {sentence}", allow_retries=False)


def pull_of(instance: dg.DagsterInstance, files: Mapping[str, StoredFile]) -> Pulled:
    """When this week's pulls started: the start of the earliest run that pulled one of them."""
    pulls = []
    for asset in PULL_ASSETS:
        record = instance.get_run_record_by_id(files[asset].run_id)
        assert record is not None, "a run that materialized an input is recorded"
        started = record.start_time
        at = datetime.fromtimestamp(started, UTC) if started else record.create_timestamp.astimezone(UTC)
        pulls.append(Pulled(at, files[asset].run_id))
    return min(pulls, key=lambda p: p.at)


def live_week(live: Published) -> str:
    """The live week in a refusal: whose pulls it holds and which publication made it live."""
    if live.manifest is None:
        return "nothing: the manifest was removed"
    return f"{live.pulled.describe()}, published {live.stamp}" if live.pulled else f"published {live.stamp}"


def judged_against_live(vouched: Vouched, pulled: Pulled, live: Published) -> None:
    """Refuse a week older than the live one, or one whose gates compared it with another week."""
    if live.pulled is not None and pulled.at < live.pulled.at:
        raise refuse(
            f"this run's data ({pulled.describe()}) is older than the live week's ({live_week(live)}); {NOTHING}: "
            "the page keeps the newer week (start a fresh refresh rather than re-executing this run)."
        )
    moved = sorted(vouched.baselines - {live.stamp})
    if moved:
        raise refuse(
            f"this run's checks compared it with publication {', '.join(moved)}, but {live.stamp} is live now; "
            f"{NOTHING} (start a fresh refresh: its checks compare with what is live)."
        )


def _week_from_published(published: Published) -> Week:
    return Week(
        orders=published.input_frame("cdr_fyi_orders"),
        purchasers=published.input_frame("cdr_fyi_purchasers"),
        suppliers=published.input_frame("cdr_fyi_suppliers"),
        orders_for_viz=published.dataset_frame("orders_for_viz"),
        dollars_spent=published.dollars_spent(),
    )


class _Writer:
    """Writes only keys nobody has written, remembering them, so a failed publication removes
    exactly what it wrote."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.written: dict[str, bytes] = {}

    def create(self, key: str, data: bytes, content_type: str = "text/csv") -> bool:
        if not self.storage.create_if_absent(key, data, content_type=content_type):
            return False
        self.written[key] = data
        return True

    def undo(self) -> None:
        for key in reversed(list(self.written)):  # the baseline record last: it lists the rest
            self.storage.delete(key)


def _free_keys(storage: Storage, today: str) -> dict[str, str]:
    """The next unused ``processed/<dataset>_<today>[_n].csv`` of each dataset."""
    return {d: next_published_key(d, today, storage.list_keys(published_day_prefix(d, today))) for d in DATASET_NAMES}


def _listed(storage: Storage, record_key: str) -> list[str]:
    """Every key a baseline record says its publication writes (datasets and input copies)."""
    record = json.loads(storage.read_bytes(record_key))
    return [*record.get("datasets", {}).values(), *(e["key"] for e in record.get("inputs", {}).values())]


def sweep(storage: Storage, live: Published, now: datetime) -> list[str]:
    """Remove what killed runs left, once older than a publication can take: the temp files of
    writes killed midway (local storage), and each baseline record that never went live (not the
    live one, not archived) with the keys it lists that no other publication claims (a dataset
    key a killed one listed but never wrote is free, and a later publication may have taken it)."""
    removed = storage.remove_temp_files(older_than=now.timestamp() - ABANDONED_SECONDS)
    records = [k for k in storage.list_keys(f"{PUBLISHED_INPUTS_PREFIX}/") if baseline_record_stamp(k) is not None]
    abandoned = []
    for key in records:
        publication = baseline_record_stamp(key)
        if publication == live.stamp or storage.exists(manifest_archive_key(str(publication))):
            continue
        if now.timestamp() - storage.last_modified(key) < ABANDONED_SECONDS:
            continue  # perhaps another instance's publication, still running
        abandoned.append(key)
    if not abandoned:
        return removed
    claimed = {k for record in records if record not in abandoned for k in _listed(storage, record)}
    claimed |= {entry["key"] for entry in ((live.manifest or {}).get("datasets") or {}).values()}
    for record in abandoned:
        listed = [k for k in _listed(storage, record) if k not in claimed]
        for key in listed:
            storage.delete(key)
        storage.delete(record)
        removed += [*listed, record]
    return removed


def publish(
    storage: Storage, deployment: str, files: Mapping[str, StoredFile], pulled: Pulled, live: Published, now: datetime
) -> tuple[dict[str, Any], dict[str, Any], dict[str, bytes]]:
    """Write the week's new keys, then switch the manifest if it is still ``live``'s, then archive
    it. Returns the manifest, the baseline record and every key written; refuses (having removed
    what it wrote) when another writer switched the manifest first."""
    writer = _Writer(storage)
    try:
        # the stamp names this publication's baseline and archive. It is claimed by creating the
        # baseline record, which lists every key the publication will write before it writes one
        # (so what a killed publication leaves can be removed); two in one second never share one
        inputs = {}
        while True:
            publication = stamp(now)
            inputs = {a: input_entry(baseline_input_key(publication, a), files[a].data) for a in INPUT_ASSETS}
            keys = _free_keys(storage, utc_date_stamp(now))
            record_key = baseline_record_key(publication)
            if writer.create(record_key, manifest_bytes(inputs_record(inputs, now, pulled, keys)), JSON):
                break
            now += timedelta(seconds=1)
        for asset in INPUT_ASSETS:
            writer.create(baseline_input_key(publication, asset), files[asset].data)
        for dataset in DATASET_NAMES:
            while not writer.create(keys[dataset], files[dataset].data):  # another instance took it meanwhile
                keys = _free_keys(storage, utc_date_stamp(now))
                storage.write_bytes(record_key, manifest_bytes(inputs_record(inputs, now, pulled, keys)), JSON)
        record = inputs_record(inputs, now, pulled, keys)
        entries = {d: manifest_entry(keys[d], files[d].data, now, files[d].source) for d in DATASET_NAMES}
        manifest = build_manifest(entries, deployment, now)
        body = manifest_bytes(manifest)
        if not storage.replace_if(MANIFEST_KEY, body, live.version, content_type=JSON):
            # the loser of a race between instances: the winner's manifest says which week won
            raise refuse(
                f"{storage.location(MANIFEST_KEY)} changed while this run was publishing its data "
                f"({pulled.describe()}): another publication or a roll-back switched it (live now: "
                f"{live_week(read_published(storage))}); {NOTHING} (start a fresh refresh: its checks compare "
                "with what is live)."
            )
    except BaseException:
        writer.undo()
        raise
    # after the switch: the archive holds exactly the manifests that went live
    storage.create_if_absent(manifest_archive_key(publication), body, content_type=JSON)
    return manifest, record, {**writer.written, MANIFEST_KEY: body}


def archive_live(storage: Storage, live: Published) -> None:
    """Archive the live manifest if its publication was killed between its switch and its archive."""
    if live.manifest is not None and live.stamp != NOTHING_PUBLISHED:
        storage.create_if_absent(manifest_archive_key(live.stamp), manifest_bytes(live.manifest), content_type=JSON)


@dg.asset(
    group_name="dashboard",
    ins={name: dg.AssetIn(name, input_manager_key="staged_files") for name in (*DATASET_NAMES, *INPUT_ASSETS)},
    pool=PUBLICATION_POOL,
    kinds={"python", "csv", "json"},
    owners=OWNERS,
    code_version="5",
    freshness_policy=WEEKLY_FRESHNESS,
)
def dashboard_publication(
    context: dg.AssetExecutionContext,
    storage: Storage,
    slack: SlackWebhook,
    deployment: dg.ResourceParam[str],
    **loaded: StoredFile | None,
) -> dg.MaterializeResult:
    """What the public page serves this week: every dataset this run staged and checked, copied
    to a new published ``processed/`` key, and the manifest naming each one's key, rows,
    checksum, update time and source. Publishes only this run's own files, each with every
    blocking check passed on it, never a week older than the live one, one publication at a
    time; switching the manifest is the single moment the page changes. Its metadata says what
    changed since the previous publication."""
    assets = (*DATASET_NAMES, *INPUT_ASSETS)
    try:
        vouched = vouched_files(
            context.instance, context.run.run_id, loaded, blocking_checks(context, assets), gated=DATASET_NAMES
        )
    except PublicationRefused as refused:
        raise dg.Failure(description=str(refused), allow_retries=False) from None
    live = read_published(storage)
    pulled = pull_of(context.instance, vouched.files)
    judged_against_live(vouched, pulled, live)
    before = _week_from_published(live)
    now = datetime.now(UTC)
    archive_live(storage, live)
    for key in sweep(storage, live, now):
        context.log.info(f"removed {storage.location(key)}: left by a run that was killed before its write went live")
    manifest, record, written = publish(storage, deployment, vouched.files, pulled, live, now)
    entries = manifest["datasets"]
    context.log.info(
        f"published {len(entries)} datasets of run {context.run.run_id} to {storage.location(PUBLISHED_PREFIX + '/')}"
    )

    published = Published(storage, manifest, record, known=written)
    after = _week_from_published(published)
    changes = weekly_changes(before, after)
    archived = storage.location(manifest_archive_key(published.stamp))
    summary = changes_text(changes, deployment, archived)
    slack.post(summary, log=context.log.info)
    return dg.MaterializeResult(
        metadata=publication_metadata(manifest, written, archived, storage.location(MANIFEST_KEY), summary, changes)
    )
