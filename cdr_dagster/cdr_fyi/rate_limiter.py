"""A sliding-window rate limiter shared by every process of a run (and of concurrent runs).

cdr.fyi allows 100 requests a minute and 1000 an hour per token. Dagster's default executor runs
each asset in its own process, so an in-memory counter would let four parallel pulls send four
times the allowance. The limiter keeps one timestamp per request in a small SQLite file that all
processes on the machine share, and takes a write lock (``BEGIN IMMEDIATE``) to decide.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


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
                conn.execute("DELETE FROM sent WHERE ts <= ?", (now - longest,))
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
        # a small epsilon so the boundary request is strictly outside the window when we retry
        return oldest_that_counts + window.seconds - now + 1e-3
