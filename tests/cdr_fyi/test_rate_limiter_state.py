"""The rate limiter's shared state: a private folder, a salted name, and waits it can never
stretch beyond a window, whatever is in the file."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from cdr_dagster.cdr_fyi.rate_limiter import SlidingWindowLimiter, Window, private_state_path
from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi

URL, TOKEN = "https://api.cdr.fyi/v1", "secret-token-4b1d"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_lives_in_a_private_folder_under_a_salted_name(tmp_path: Path) -> None:
    folder = tmp_path / "limits"
    path = private_state_path(folder, URL, TOKEN)
    assert path.parent == folder and mode(folder) == 0o700
    [salt] = [p for p in folder.iterdir() if p.name == "salt"]
    assert mode(salt) == 0o600 and len(salt.read_bytes()) == 32
    # not the unsalted fingerprint of the token: nobody can tell from the name whose token it is
    assert hashlib.sha256(f"{URL}\n{TOKEN}".encode()).hexdigest()[:16] not in path.name
    assert TOKEN not in path.name
    # stable within the folder (every process shares one file), different elsewhere (new salt)
    assert private_state_path(folder, URL, TOKEN) == path
    assert private_state_path(tmp_path / "other", URL, TOKEN).name != path.name

    SlidingWindowLimiter(path, [Window(10, 60.0)]).acquire()
    assert mode(path) == 0o600


def test_an_existing_folder_open_to_others_is_closed(tmp_path: Path) -> None:
    folder = tmp_path / "limits"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    private_state_path(folder, URL, TOKEN)
    assert mode(folder) == 0o700


def test_the_resource_keeps_its_state_in_the_private_folder(tmp_path: Path) -> None:
    api = CdrFyiApi(base_url=URL, token=TOKEN, rate_limit_dir=str(tmp_path / "limits"))
    limiter = api._limiter(TOKEN)
    assert limiter.path.parent == tmp_path / "limits" and mode(limiter.path.parent) == 0o700
    assert mode(limiter.path) == 0o600


def test_a_poisoned_state_file_cannot_make_it_sleep_beyond_a_window(tmp_path: Path) -> None:
    clock = {"now": 1_000_000.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    path = tmp_path / "limit.sqlite3"
    limiter = SlidingWindowLimiter(path, [Window(2, 10.0), Window(5, 100.0)], clock=lambda: clock["now"], sleep=sleep)
    ten_years = 3650 * 86400.0
    with sqlite3.connect(path) as conn:  # requests "sent" ten years from now, and at odd times
        conn.executemany("INSERT INTO sent (ts) VALUES (?)", [(clock["now"] + ten_years,)] * 10 + [(float("inf"),)])
    # timestamps in the future cannot be requests already sent: ignored, no wait at all
    assert limiter.acquire() == 0.0
    assert sleeps == []

    # a window full of real requests waits at most that window, never more
    clock["now"] += 1.0
    limiter.acquire()
    assert limiter.acquire() <= 10.0
    assert all(s <= 100.0 for s in sleeps)
    assert sum(sleeps) == pytest.approx(9.001)  # the third waits for the first to leave the 10 s window
