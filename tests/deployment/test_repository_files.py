"""Files of the repository itself that keep secrets out of it (#13.17)."""

from __future__ import annotations

import subprocess

import pytest

from tests.deployment.conftest import ROOT


@pytest.mark.parametrize("path", [".env", ".env.local", "deployment/.env", "cdr_dagster/.env.prod"])
def test_env_files_are_ignored_by_git_wherever_they_are(path: str) -> None:
    result = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "--no-index", "--verbose", path], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{path} is not ignored"
    assert result.stdout.startswith(".gitignore:")  # by the repository's own rules, not a local exclude


def test_the_env_rule_ignores_nothing_else() -> None:
    result = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "--no-index", "README.md"], capture_output=True, check=False)
    assert result.returncode == 1  # the rule is about .env files only
