"""Rolling the page's data back: putting the previously published manifest back in place.

Every publication archives its manifest at ``processed/manifests/<YYYYMMDDTHHMMSSZ>.json`` before
switching ``processed/manifest.json``, and never overwrites a published key, so the files the
previous manifest names are still there: putting its bytes back is the whole roll-back, one
atomic write, and the page (through the presign API) serves the previous week again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cdr_dagster.domain.layout import MANIFEST_ARCHIVE_PREFIX


class RollbackRefused(ValueError):
    """Nothing to roll back to, or the target is unusable (the message says which and why)."""


@dataclass(frozen=True)
class Rollback:
    live: str  # the archive key identical to the live manifest ("" when none is)
    target: str  # the archive key put back
    data: bytes
    changed: dict[str, tuple[str | None, str | None]]  # dataset -> (key now, key after)


def _datasets(data: bytes) -> dict[str, str]:
    return {name: entry["key"] for name, entry in json.loads(data).get("datasets", {}).items()}


def plan_rollback(
    archives: Sequence[str], live: bytes, read: Callable[[str], bytes], exists: Callable[[str], bool], to: str | None = None
) -> Rollback:
    """Which archived manifest to put back (``to``, or the one before the live one), checked:
    every dataset key it names must still exist."""
    keys = sorted(k for k in archives if k.startswith(f"{MANIFEST_ARCHIVE_PREFIX}/") and k.endswith(".json"))
    live_key = next((k for k in reversed(keys) if read(k) == live), "")
    if to is not None:
        if to not in keys:
            raise RollbackRefused(f"{to} is not an archived manifest; they are under {MANIFEST_ARCHIVE_PREFIX}/")
        target = to
    else:
        if not live_key:
            raise RollbackRefused("the live manifest matches no archived one: name the one to put back with --to")
        older = keys[: keys.index(live_key)]
        if not older:
            raise RollbackRefused(f"nothing to roll back to: {live_key} is the oldest archived manifest")
        target = older[-1]
    data = read(target)
    missing = [key for key in _datasets(data).values() if not exists(key)]
    if missing:
        raise RollbackRefused(
            f"{target} names files that are gone ({', '.join(sorted(missing))}): refusing to point the page at them"
        )
    now, after = _datasets(live), _datasets(data)
    changed = {d: (now.get(d), after.get(d)) for d in sorted(set(now) | set(after)) if now.get(d) != after.get(d)}
    return Rollback(live_key, target, data, changed)
