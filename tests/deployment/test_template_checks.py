"""Every CloudFormation template of deployment/ passes cfn-lint (informational rules included)
and cfn-guard 3.1.1 with AWS's Control Tower rules; each rule suppressed on a resource is listed
with its reason in docs/deployment.md, and is still needed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.task_definitions import load_template
from tests.deployment import guard
from tests.deployment.conftest import ROOT

TEMPLATES = sorted((ROOT / "deployment").glob("*.yaml"))
DOCS = ROOT / "docs" / "deployment.md"


def test_the_templates_are_the_two_stacks() -> None:
    assert [t.name for t in TEMPLATES] == ["dagster_stack.yaml", "template.yaml"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_passes_with_informational_checks_too(template: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--include-checks", "I", "--", str(template)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_cfn_guard_is_the_pinned_release() -> None:
    assert guard.binary().is_file(), f"{guard.binary()} is missing: run `python3 dev.py test` (it installs cfn-guard)"
    version = subprocess.run([str(guard.binary()), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.split() == ["cfn-guard", guard.VERSION]
    assert len(list(guard.RULES.rglob("*.guard"))) > 200  # the Control Tower rules, every service


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_cfn_guard_control_tower_rules_pass_apart_from_stated_suppressions(template: Path) -> None:
    failing, unneeded = guard.failures(template, load_template(template))
    assert failing == []
    assert unneeded == []  # a suppression that hides nothing is stale: remove it


def documented_suppressions() -> dict[tuple[str, str, str], str]:
    """(template, resource, rule) -> reason, from the table of docs/deployment.md."""
    section = DOCS.read_text().split("### cfn-guard suppressions", 1)[1].split("\n5. ", 1)[0]
    rows = re.findall(r"^ *\| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \| (.+?) \|$", section, re.MULTILINE)
    return {(template, resource, rule): reason.strip() for template, resource, rule, reason in rows}


def test_every_suppression_is_listed_with_its_reason_in_the_docs() -> None:
    in_templates = {
        (template.name, resource, rule)
        for template in TEMPLATES
        for rule, resource in guard.suppressions(load_template(template))
    }
    documented = documented_suppressions()
    assert sorted(documented) == sorted(in_templates)
    assert all(len(reason) > 20 for reason in documented.values())


def test_a_failing_resource_is_reported_and_only_its_own_suppression_hides_it(tmp_path: Path) -> None:
    """The check can fail: a log group without retention or encryption fails two rules, and a
    suppression on another resource does not hide them."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n"
        "  Logs:\n"
        "    Type: AWS::Logs::LogGroup\n"
        "  Other:\n"
        "    Type: AWS::Logs::LogGroup\n"
        "    Metadata: {guard: {SuppressedRules: [cloudwatch_log_group_encrypted_check, cloudwatch_log_group_retention_period_check]}}\n"
    )
    failing, unneeded = guard.failures(bad, load_template(bad))
    assert failing == [
        "cloudwatch_log_group_encrypted_check: Logs",
        "cloudwatch_log_group_retention_period_check: Logs",
    ]
    assert unneeded == []
