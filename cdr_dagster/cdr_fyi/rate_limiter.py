"""A sliding-window rate limiter shared by every process of a run (and of concurrent runs).

cdr.fyi allows 100 requests a minute and 1000 an hour per token. Dagster's default executor runs
each asset in its own process, so an in-memory counter would let four parallel pulls send four
times the allowance. The limiter keeps one timestamp per request in a small SQLite file that all
processes on the machine share, and takes a write lock (``BEGIN IMMEDIATE``) to decide.

The file is the user's own: it lives in a private folder (0700, the file 0600), named by a salted
hash of the API and token (the salt, random, kept in that folder), so other users can neither read
it, plant one, nor tell whose token it counts for. What the file says is not trusted either: a
timestamp in the future is dropped and no wait is ever longer than the window it waits for.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

SALT_BYTES = 32


class RateLimiterStateError(Exception):
    """The limiter's folder is not this user's private folder."""


def _private_folder(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = directory.lstat()
    if directory.is_symlink() or info.st_uid != os.getuid():
        raise RateLimiterStateError(
            f"the rate limiter's folder {directory} is not this user's own folder: remove it, or set rate_limit_dir"
        )
    if info.st_mode & 0o077:
        os.chmod(directory, 0o700)


def _create_private(path: Path, data: bytes) -> bool:
    """Create ``path`` (0600) with ``data`` if it does not exist, atomically; False if it did."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.link(tmp, path)  # fails if another process created it first
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def _salt(folder: Path) -> bytes:
    path = folder / "salt"
    _create_private(path, secrets.token_bytes(SALT_BYTES))
    salt = path.read_bytes()
    if len(salt) != SALT_BYTES:
        raise RateLimiterStateError(f"{path} is not a salt this code wrote: remove it")
    return salt


def default_state_dir() -> Path:
    """This user's folder for limiter state in the temp folder (shared by the user's processes)."""
    return Path(tempfile.gettempdir()) / f"cdr_dagster-{os.getuid()}"


def private_state_path(directory: Path, base_url: str, token: str) -> Path:
    """The state file for one API and token, in ``directory`` made private (0700): its name is a
    salted hash, so neither the token nor whose it is can be read from it."""
    _private_folder(directory)
    digest = hashlib.sha256(_salt(directory) + f"{base_url}\n{token}".encode()).hexdigest()[:16]
    return directory / f"cdr_fyi_rate_limit_{digest}.sqlite3"


@dataclass(frozen=True)
class Window:
    """At most ``max_requests`` in any ``seconds``-long sliding window."""

    max_requests: int
    seconds: float


class SlidingWindowLimiter:
    def __init__(
        self,
        path: Path,
        windows: Sequence[Window],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not windows:
            raise ValueError("a rate limiter needs at least one window")
        self.path = path
        self.windows = tuple(windows)
        self._clock = clock
        self._sleep = sleep
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        with self._connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS sent (ts REAL NOT NULL)")
            conn.execute("CREATE INDEX IF NOT EXISTS sent_ts ON sent (ts)")

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves to hold the write lock while
        # deciding; timeout: how long another process may hold it.
        return sqlite3.connect(self.path, timeout=60, isolation_level=None)

    def acquire(self) -> float:
        """Block until one more request fits in every window, record it, return seconds waited."""
        waited = 0.0
        longest = max(w.seconds for w in self.windows)
        while True:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                now = self._clock()
                # a request sent in the future cannot be: a poisoned or skewed row, dropped
                conn.execute("DELETE FROM sent WHERE ts <= ? OR ts > ?", (now - longest, now))
                delay = max(self._delay_for(conn, w, now) for w in self.windows)
                if delay <= 0:
                    conn.execute("INSERT INTO sent (ts) VALUES (?)", (now,))
                    conn.execute("COMMIT")
                    return waited
                conn.execute("ROLLBACK")
            finally:
                conn.close()
            self._sleep(delay)
            waited += delay

    @staticmethod
    def _delay_for(conn: sqlite3.Connection, window: Window, now: float) -> float:
        """Seconds until the window has room: when the request that fills it leaves the window."""
        rows = conn.execute(
            "SELECT ts FROM sent WHERE ts > ? ORDER BY ts DESC LIMIT ?",
            (now - window.seconds, window.max_requests),
        ).fetchall()
        if len(rows) < window.max_requests:
            return 0.0
        oldest_that_counts = rows[-1][0]
        # a small epsilon so the boundary request is strictly outside the window when we retry;
        # never longer than the window itself, whatever the file holds
        return min(oldest_that_counts + window.seconds - now + 1e-3, window.seconds)
