"""A run killed mid-publication blocks nothing, and what it wrote is removed later (#18).

The kill is real: a weekly_refresh run in a process of its own (tests/assets/weekly_run.py) is
caught at one write of its publication and killed there (SIGKILL). On moto's S3 server a proxy
holds the PUT; on a data folder the run stops once the write's temp file is written, before it
takes its key (weekly_run.py's ``HOLD_WRITE``). A fresh run then publishes at once, the manifest
names only files that exist with their SHA-256, and what the dead run left (on a folder, the temp
file of its unfinished write too) is exactly what the next publication's sweep removes once it is
15 minutes old (called here with the clock moved on).

On a data folder the run is also killed while it waits for the folder's lock at its manifest
switch, held by the test (tests/assets/folder_lock.py); its leftovers, aged 16 minutes, are
removed by the next publication, its temp file included.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cdr_dagster.assets.publication.assets import ABANDONED_SECONDS, sweep
from cdr_dagster.domain import layout
from cdr_dagster.domain.manifest import publication_stamp
from cdr_dagster.domain.published import read_published
from cdr_dagster.resources.storage import LocalStorage, Storage
from tests.assets import test_publication_forward as forward
from tests.assets.folder_lock import holding, wait_until_it_waits
from tests.assets.test_publication_forward import Week
from tests.page.fault_proxy import HoldingProxy

pytestmark = pytest.mark.e2e
week = forward.week  # the fixture: storage (a folder or moto's S3), the fake cdr.fyi and front page, an instance
ROOT = Path(__file__).resolve().parents[2]

#: Where the run is killed: the PUT the proxy holds (a publication writes its baseline, the
#: datasets in DATASET_NAMES order, switches the manifest, then archives it) ...
MOMENTS = {
    "a dataset file": r"^processed/latest_deals_\d{8}(_\d+)?\.csv$",  # the third of seven
    "the manifest write": r"^processed/manifest\.json$",
    # not the live week's archive: a publication first re-archives the live manifest (if absent)
    "the manifest archive": r"^processed/manifests/(?!LIVE\.json)",
}
#: ... or, on a data folder, the temp file its write fills beside the key (``.<name>.<random>.tmp``)
FOLDER_MOMENTS = {
    "a dataset file": r"^processed/\.latest_deals_\d{8}(_\d+)?\.csv\.\w+\.tmp$",
    "the manifest write": r"^processed/\.manifest\.json\.\w+\.tmp$",
    "the manifest archive": r"^processed/manifests/\.(?!LIVE\.json)[^/]+\.tmp$",
}


def worker(home: Path, env: dict[str, str], log: Path, pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    """weekly_refresh in a process of its own, on its own instance at ``home``."""
    home.mkdir(exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.assets.weekly_run"],
            cwd=ROOT,
            env={**os.environ, **env, "DAGSTER_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=pass_fds,
        )


def killed_at(moment: str, live: str, s3, tmp_path: Path) -> str:
    """Start a weekly run in its own process, catch it at ``moment``'s write, SIGKILL it there;
    returns what it was writing (a key on S3, a temp file's path on a folder)."""
    log = tmp_path / "worker.log"
    ended = f"the run ended before writing {moment}:\n"  # then the end of its log
    if s3 is not None:
        with HoldingProxy(s3.endpoint_url, hold=MOMENTS[moment].replace("LIVE", live)) as proxy:
            killed = worker(tmp_path / "home", {"AWS_ENDPOINT_URL_S3": proxy.url}, log)
            try:
                while not proxy.held.wait(timeout=0.2):  # the run pulls, builds, checks, then publishes
                    assert killed.poll() is None, ended + log.read_text()[-3000:]
            finally:
                killed.send_signal(signal.SIGKILL)  # mid-PUT: the proxy has it, S3 never will
                killed.wait()
        held = proxy.held_key
    else:
        told, tell = os.pipe()  # the run says on this pipe which write it stopped at
        hold = {"HOLD_WRITE": FOLDER_MOMENTS[moment].replace("LIVE", live), "HOLD_FD": str(tell)}
        try:
            killed = worker(tmp_path / "home", hold, log, pass_fds=(tell,))
        finally:
            os.close(tell)
        with os.fdopen(told) as pipe:
            try:
                while not select.select([pipe], [], [], 0.2)[0]:  # the run pulls, builds, checks, then publishes
                    assert killed.poll() is None, ended + log.read_text()[-3000:]
                held = pipe.readline().strip()
            finally:
                killed.send_signal(signal.SIGKILL)  # mid-write: the temp file exists, the key is untouched
                killed.wait()
        assert held, ended + log.read_text()[-3000:]
    assert killed.returncode == -signal.SIGKILL
    assert held.startswith("processed/")
    return held


def consistent(storage: Storage) -> dict:
    """The live manifest, after checking that every file it and its baseline name is there with
    its recorded SHA-256."""
    manifest = json.loads(storage.read_bytes(layout.MANIFEST_KEY))
    record = json.loads(storage.read_bytes(layout.baseline_record_key(str(publication_stamp(manifest)))))
    for entry in [*manifest["datasets"].values(), *record["inputs"].values()]:
        assert hashlib.sha256(storage.read_bytes(entry["key"])).hexdigest() == entry["sha256"], entry["key"]
    return manifest


def unaccounted(storage: Storage) -> set[str]:
    """Keys under processed/ and raw/published/ that no manifest that went live (the live one or
    an archived one) accounts for. Everything else a run writes is under raw/<run_id>/ or
    staging/<run_id>/, which the bucket's lifecycle rules expire after 30 days."""
    manifests = [json.loads(storage.read_bytes(k)) for k in storage.list_keys(f"{layout.MANIFEST_ARCHIVE_PREFIX}/")]
    manifests.append(json.loads(storage.read_bytes(layout.MANIFEST_KEY)))
    named = {entry["key"] for m in manifests for entry in m["datasets"].values()}
    stamps = {publication_stamp(m) for m in manifests}
    datasets = {
        k
        for k in storage.list_keys(f"{layout.PUBLISHED_PREFIX}/")
        if k != layout.MANIFEST_KEY and not k.startswith(f"{layout.MANIFEST_ARCHIVE_PREFIX}/") and k not in named
    }
    baselines = {k for k in storage.list_keys(f"{layout.PUBLISHED_INPUTS_PREFIX}/") if k.split("/")[2] not in stamps}
    return datasets | baselines


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_run_killed_mid_publication_is_followed_at_once_by_one_that_publishes(
    week: Week, moment: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    on_s3 = not isinstance(week.storage, LocalStorage)
    assert week.run().success  # a first week is live
    first = consistent(week.storage)

    held = killed_at(moment, str(publication_stamp(first)), request.getfixturevalue("s3") if on_s3 else None, tmp_path)
    temps = temps_of(week.storage)
    assert temps == (set() if on_s3 else {held})  # a folder: the one temp file the run was writing

    left = unaccounted(week.storage)
    dead = json.loads(week.storage.read_bytes(layout.MANIFEST_KEY))
    if moment == "the manifest archive":  # it went live; only its archive is missing
        assert dead != first and left == set()
        assert not week.storage.exists(layout.manifest_archive_key(str(publication_stamp(dead))))
    else:  # the page never changed; the dead run's baseline and some datasets are left
        assert dead == first
        assert any(k.startswith(f"{layout.PUBLISHED_INPUTS_PREFIX}/") and k.endswith("/inputs.json") for k in left)
        written = {d.stem for d in map(layout.parse_dated_key, left) if d and d.key.startswith(f"{layout.PUBLISHED_PREFIX}/")}
        # the datasets written before the kill: the first two of seven, or all seven
        assert len(written) == (2 if moment == "a dataset file" else 7), written

    fresh = week.run()  # at once: nothing to wait for, nothing held
    assert fresh.success
    live = consistent(week.storage)
    assert live["generated_at"] > dead["generated_at"]
    [publication] = fresh.asset_materializations_for_node("dashboard_publication")
    assert publication.metadata["published"].value == {d: e["key"] for d, e in live["datasets"].items()}
    # every manifest that went live is archived, the dead run's included
    assert json.loads(week.storage.read_bytes(layout.manifest_archive_key(str(publication_stamp(dead))))) == dead
    # the dead run's leftovers are kept while they may still be a publication in progress ...
    assert unaccounted(week.storage) == left
    assert temps_of(week.storage) == temps
    # ... and removed by the first publication after ABANDONED_SECONDS (its sweep, clock moved on)
    later = datetime.now(UTC) + timedelta(seconds=ABANDONED_SECONDS + 60)
    removed = sweep(week.storage, read_published(week.storage), later)
    assert left | temps <= set(removed)
    assert unaccounted(week.storage) == set()
    assert temps_of(week.storage) == set()
    assert consistent(week.storage) == live  # the sweep touched nothing live


def temp_files(data: Path) -> set[str]:
    """What unfinished local writes left: hidden ``.<name>.<random>.tmp`` files beside their targets."""
    return {p.relative_to(data).as_posix() for p in data.rglob(".*")}


def temps_of(storage: Storage) -> set[str]:
    """A folder's temp files; none in a bucket (a PUT lands whole or not at all)."""
    return temp_files(Path(storage.base_dir)) if isinstance(storage, LocalStorage) else set()


@pytest.mark.parametrize("week", ["local"], indirect=True)
def test_a_run_killed_at_the_manifest_switch_of_a_folder_leaves_nothing_behind(week: Week, tmp_path: Path) -> None:
    assert isinstance(week.storage, LocalStorage)
    assert week.run().success  # a first week is live
    first = consistent(week.storage)
    data = Path(week.storage.base_dir)
    processed = data / layout.PUBLISHED_PREFIX

    log = tmp_path / "worker.log"
    with holding(processed):  # as another instance switching the manifest: the run waits at its switch
        killed = worker(tmp_path / "home", {}, log)
        try:
            wait_until_it_waits(killed, processed, log)
        finally:
            killed.send_signal(signal.SIGKILL)  # the kernel drops its place in the queue; nothing is held
            killed.wait()
    assert killed.returncode == -signal.SIGKILL

    # the page never changed; left: the dead run's baseline, its seven datasets, its new manifest half-done
    assert week.manifest() == first
    left = unaccounted(week.storage)
    assert any(k.startswith(f"{layout.PUBLISHED_INPUTS_PREFIX}/") and k.endswith("/inputs.json") for k in left)
    written = {d.stem for d in map(layout.parse_dated_key, left) if d and d.key.startswith(f"{layout.PUBLISHED_PREFIX}/")}
    assert len(written) == 7, written
    [temp] = temp_files(data)
    assert temp.startswith(f"{layout.PUBLISHED_PREFIX}/.manifest.json.") and temp.endswith(".tmp")

    assert week.run().success  # at once: nothing to wait for, nothing held
    live = consistent(week.storage)
    assert live["generated_at"] > first["generated_at"]
    # kept while they may still be another instance's publication in progress ...
    assert unaccounted(week.storage) == left
    assert temp_files(data) == {temp}
    # ... and removed by the first publication once they are 16 minutes old
    for key in [*left, temp]:
        path = data / key
        os.utime(path, (path.stat().st_mtime - 16 * 60,) * 2)
    assert week.run().success
    assert unaccounted(week.storage) == set()
    assert temp_files(data) == set()
