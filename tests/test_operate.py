"""operate.py's decisions, without Dagster running: whether a retry follows a run (read from the
tags the instance writes, never guessed), and the failure summary in plain text, about a screenful.
The whole loop through Dagster is tests/assets/test_operator_loop.py."""

from __future__ import annotations

import pytest

import operate


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
    lines = operate.failure_summary("abcdef0123456789", found)
    assert lines[0] == "Run abcdef01 failed; nothing was published (the page keeps the previous data)."
    assert lines[1] == "  check_00: value 0 > 3 & < 9"  # as written, not "&gt;"
    assert lines[29] == "  check_28: value 28 > 3 & < 9"  # 29 problems shown ...
    assert lines[30] == "  +11 more lines: the run in the UI (python3 dev.py ui) shows them all"  # ... and 40 - 29 counted
    assert lines[31] == "Next: fix the cause (the UI shows the full error), then: python3 dev.py rerun"
    assert len(lines) == 32


def test_a_short_failure_summary_is_shown_whole() -> None:
    lines = operate.failure_summary("abcdef0123456789", {"ccn_companies": "The file is rejected:\nline 3: blank"})
    assert lines == [
        "Run abcdef01 failed; nothing was published (the page keeps the previous data).",
        "  ccn_companies: The file is rejected:",
        "      line 3: blank",
        "Next: fix the cause (the UI shows the full error), then: python3 dev.py rerun",
    ]
