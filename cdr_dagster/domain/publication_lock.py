"""One publication at a time: a lock object in the deployment's storage.

A publication writes new ``processed/`` keys, the private inputs baseline and the manifest; two at
once could interleave those writes (one's manifest naming the other's baseline). The lock is an
object created only if absent (an atomic create: S3's conditional write, a hard link locally),
holding the run id and an expiry, and deleted when the publication ends.

Why an object in the bucket and not only Dagster's run queue: test and prod's instance already
runs one run at a time, but that queue does not see ``dagster job execute`` from a laptop pointed
at the same bucket, a second deployment sharing it, or ``dagster dev`` locally; the storage is the
one thing every writer shares. A lock left by a publication that died is taken over once it has
expired, or at once by a re-execution of the same run (its lineage). Of two runs taking over the
same expired lock, one wins: each must first create a marker named after that lock's content.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cdr_dagster.domain.layout import PUBLICATION_LOCK_KEY

#: Far longer than a publication takes (seconds), short enough that a crashed one does not block
#: the next week's run.
LOCK_SECONDS = 30 * 60


class LockStorage(Protocol):
    """What the lock needs of the deployment's storage (a folder or a bucket)."""

    def create_if_absent(self, key: str, data: bytes, content_type: str = ...) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Lock:
    run_id: str
    token: str
    acquired_at: datetime
    expires_at: datetime

    def to_bytes(self) -> bytes:
        body = {
            "run_id": self.run_id,
            "token": self.token,
            "acquired_at": _iso(self.acquired_at),
            "expires_at": _iso(self.expires_at),
        }
        return (json.dumps(body, indent=2) + "\n").encode("utf-8")


class PublicationLocked(Exception):
    """Another run is publishing."""

    def __init__(self, holder: str, until: datetime) -> None:
        self.holder, self.until = holder, until
        super().__init__(f"run {holder} holds the publication lock ({PUBLICATION_LOCK_KEY}) until {_iso(until)}")


def _parse(data: bytes) -> tuple[str, datetime] | None:
    """(holder run id, expiry) of a lock object, or None when it cannot be read (treated as expired)."""
    try:
        body = json.loads(data)
        expires = datetime.strptime(str(body["expires_at"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return str(body["run_id"]), expires
    except (ValueError, KeyError, TypeError):
        return None


def _read(storage: LockStorage) -> bytes | None:
    try:
        return storage.read_bytes(PUBLICATION_LOCK_KEY)
    except FileNotFoundError:
        return None


def acquire(
    storage: LockStorage, run_id: str, lineage: tuple[str, ...] | list[str], now: datetime, seconds: float = LOCK_SECONDS
) -> Lock:
    """Take the publication lock for ``run_id`` or raise :class:`PublicationLocked`.

    A lock held by a run of ``lineage`` (this run re-executing an earlier attempt) or expired
    is taken over."""
    lock = Lock(run_id, secrets.token_hex(8), now, now + timedelta(seconds=seconds))
    for _ in range(3):  # a lock released between our create and our read: try again
        if storage.create_if_absent(PUBLICATION_LOCK_KEY, lock.to_bytes(), content_type="application/json"):
            return lock
        held = _read(storage)
        if held is None:
            continue
        parsed = _parse(held)
        if parsed is not None and parsed[0] not in lineage and parsed[1] > now:
            raise PublicationLocked(*parsed)
        # expired, unreadable, or our own lineage's: exactly one taker per lock content
        marker = f"{PUBLICATION_LOCK_KEY}.taken-{hashlib.sha256(held).hexdigest()[:16]}"
        if not storage.create_if_absent(marker, lock.to_bytes(), content_type="application/json"):
            holder, until = parsed or ("unknown", now)
            raise PublicationLocked(holder, until)
        storage.delete(PUBLICATION_LOCK_KEY)
    held = _read(storage)
    parsed = _parse(held) if held else None
    raise PublicationLocked(*(parsed or ("unknown", now)))


def release(storage: LockStorage, lock: Lock) -> bool:
    """Remove the lock if it is still ``lock`` (not taken over after it expired)."""
    if _read(storage) != lock.to_bytes():
        return False
    storage.delete(PUBLICATION_LOCK_KEY)
    return True
