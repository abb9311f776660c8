"""cfn-guard 3.1.1 with AWS's Control Tower rules, as `dev.py test` installs them into .tools/
(npm package @cdklabs/cdk-validator-cfnguard, which ships the binary and the rules).

The Control Tower rules have no suppression of their own: a rule that does not fit a resource is
listed in that resource's ``Metadata: guard: SuppressedRules`` (with its reason in
docs/deployment.md), and ``failures`` leaves those (rule, resource) pairs out.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.deployment.conftest import ROOT

PACKAGE = ROOT / ".tools" / "node_modules" / "@cdklabs" / "cdk-validator-cfnguard"
RULES = PACKAGE / "rules" / "control-tower" / "cfn-guard"
VERSION = "3.1.1"


def binary() -> Path:
    system = {"Linux": "ubuntu", "Darwin": "macos"}[platform.system()]
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}[platform.machine().lower()]
    return PACKAGE / "bin" / system / machine / "cfn-guard"


def _resources_named(node: Any) -> set[str]:
    """Logical ids of the resources a failed check points at (its property paths)."""
    text = json.dumps(node)
    return set(re.findall(r"/Resources/([A-Za-z0-9]+)", text))


def raw_failures(template: Path) -> dict[str, set[str]]:
    """Every failed rule of the template, with the resources it names (none: the whole template)."""
    result = subprocess.run(
        [
            str(binary()),
            "validate",
            "-d",
            str(template),
            "-r",
            str(RULES),
            "--structured",
            "-o",
            "json",
            "--show-summary",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode not in (0, 19):  # 19: some rule failed
        raise AssertionError(f"cfn-guard could not run (exit {result.returncode}): {result.stderr.strip()}")
    failures: dict[str, set[str]] = {}
    for report in json.loads(result.stdout):
        for item in report["not_compliant"]:
            rule = item["Rule"]["name"]
            failures.setdefault(rule, set()).update(_resources_named(item))
    return failures


def suppressions(template: dict[str, Any]) -> dict[tuple[str, str], None]:
    """(rule, resource) pairs suppressed in the template, in order."""
    found: dict[tuple[str, str], None] = {}
    for name, resource in template["Resources"].items():
        for rule in resource.get("Metadata", {}).get("guard", {}).get("SuppressedRules", []):
            found[(rule, name)] = None
    return found


def failures(path: Path, template: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """What fails after the suppressions (one line each), and the suppressions nothing needed."""
    suppressed = suppressions(template)
    used: set[tuple[str, str]] = set()
    left: list[str] = []
    for rule, resources in sorted(raw_failures(path).items()):
        if not resources:
            left.append(f"{rule}: the template as a whole")
        for resource in sorted(resources):
            if (rule, resource) in suppressed:
                used.add((rule, resource))
            else:
                left.append(f"{rule}: {resource}")
    return left, [pair for pair in suppressed if pair not in used]
