"""Stopping the local stand-ins that run as processes of their own."""

from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Ask the process to stop; kill it if it has not within ``timeout`` seconds (a busy machine
    may keep a server from stopping politely in time)."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
