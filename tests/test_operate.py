"""operate.py's decisions, without Dagster running: whether a retry follows a run (read from the
tags the instance writes, never guessed), the failure summary in plain text, about a screenful, and
what it says the page serves (read from the deployment's storage, in the failure alert's words).
The whole loop through Dagster is tests/assets/test_operator_loop.py (it also checks that `rerun`
tags its run trigger=rerun)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import operate
from cdr_dagster.domain.layout import MANIFEST_KEY

UNCHANGED = "Nothing was published: the page keeps serving the week published on 2026-11-30."


@pytest.mark.parametrize(
    ("status", "tags", "retries_enabled", "follows"),
    [
        ("QUEUED", {}, True, "wait"),
        ("STARTED", {}, True, "wait"),
        ("SUCCESS", {}, True, None),
        ("CANCELED", {}, True, None),
        ("FAILURE", {"dagster/will_retry": "false"}, True, None),  # a bad file: final
        ("FAILURE", {"dagster/will_retry": "true"}, True, "wait"),  # the daemon has yet to launch the retry
        ("FAILURE", {"dagster/will_retry": "true", "dagster/auto_retry_run_id": "r2"}, True, "r2"),
        ("FAILURE", {}, True, "wait"),  # the instance is writing the tag
        ("FAILURE", {}, False, None),  # run retries off: no tag will come, no retry either
    ],
)
def test_what_follows_a_run_is_read_from_its_tags(
    status: str, tags: dict[str, str], retries_enabled: bool, follows: str | None
) -> None:
    assert operate.retry_state(status, tags, retries_enabled) == follows


def test_the_failure_summary_is_plain_and_bounded() -> None:
    found = {f"check_{n:02d}": f"value {n} > 3 & < 9" for n in range(40)}  # 40 one-line problems
    lines = operate.failure_summary("abcdef0123456789", found, UNCHANGED)
    assert lines[0] == f"Run abcdef01 failed. {UNCHANGED}"
    assert lines[1] == "  check_00: value 0 > 3 & < 9"  # as written, not "&gt;"
    assert lines[29] == "  check_28: value 28 > 3 & < 9"  # 29 problems shown ...
    assert lines[30] == "  +11 more lines: the run in the UI (python3 dev.py ui) shows them all"  # ... and 40 - 29 counted
    assert lines[31] == "Next: fix the cause (the UI shows the full error), then: python3 dev.py rerun"
    assert len(lines) == 32


def test_a_short_failure_summary_is_shown_whole() -> None:
    lines = operate.failure_summary("abcdef0123456789", {"ccn_companies": "The file is rejected:\nline 3: blank"}, UNCHANGED)
    assert lines == [
        f"Run abcdef01 failed. {UNCHANGED}",
        "  ccn_companies: The file is rejected:",
        "      line 3: blank",
        "Next: fix the cause (the UI shows the full error), then: python3 dev.py rerun",
    ]


def test_the_summary_says_nothing_was_published_only_when_true(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_DEPLOYMENT", "local")
    monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
    started = datetime(2026, 12, 7, 6, tzinfo=UTC).timestamp()
    assert operate.page_now(started) == "Nothing was published: the page has no data yet (nothing was ever published)."
    manifest = tmp_path / MANIFEST_KEY
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"generated_at": "2026-11-30T06:10:00Z", "datasets": {}}))
    assert operate.page_now(started) == UNCHANGED  # last week's manifest: the page is unchanged
    manifest.write_text(json.dumps({"generated_at": "2026-12-07T06:20:00Z", "datasets": {}}))
    switched = operate.page_now(started)  # switched 20 minutes into the run: this run's week is live
    assert "Nothing was published" not in switched
    assert switched.startswith("The manifest was switched during this run (2026-12-07 06:20 UTC)")
    assert operate.failure_summary("abcdef0123456789", {}, switched)[0] == f"Run abcdef01 failed. {switched}"
