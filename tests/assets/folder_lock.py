"""A LocalStorage folder's lock, held by a test: a writer in another process that switches a key
in that folder (``LocalStorage.replace_if``: compare and rename under ``flock`` on the folder)
then waits, and the kernel lists it as waiting in ``/proc/locks``.

Holding the lock is what a second instance does while it switches the manifest; seeing the
waiter in ``/proc/locks`` tells the test that the other run has reached its switch, with no sleep.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def holding(folder: Path) -> Iterator[None]:
    """The folder's lock, taken as ``replace_if`` takes it, released on exit."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def waits_for(folder: Path, pid: int) -> bool:
    """Whether process ``pid`` is blocked waiting for the lock on ``folder``.

    A waiter's line in /proc/locks reads ``1: -> FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF``.
    """
    inode = os.stat(folder).st_ino
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" not in fields or "FLOCK" not in fields:
            continue
        at = fields.index("FLOCK")
        if int(fields[at + 3]) == pid and int(fields[at + 4].rsplit(":", 1)[1]) == inode:
            return True
    return False


def wait_until_it_waits(process: subprocess.Popen[bytes], folder: Path, log: Path) -> None:
    """Return once ``process`` waits for ``folder``'s lock; fail if it ends first."""
    while not waits_for(folder, process.pid):
        try:
            process.wait(timeout=0.2)  # the run pulls, builds, checks, then publishes
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"the run ended before waiting for {folder}:\n{log.read_text()[-3000:]}")
