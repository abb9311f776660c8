"""Production code uses Dagster's public API only: no module imports or reaches into a private
module of the Dagster family (``dagster._core``, ``from dagster import _check``, ``dg._core.x``,
``dagster_aws._x``), which change without notice between releases, and none imports the tests.

Checked on the source (every import, including one inside a function, which a look at
``sys.modules`` after import cannot tell apart from Dagster's own imports of its internals), for
every module that is first imported, so the list of modules is the one Python can load."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cdr_dagster", "presign_lambda", "deployment", "dashboard")
TOOLS = ("operate", "dev")  # the operator's tool and the entry point beside it
DAGSTER = re.compile(r"^dagster(_\w+)?$")


def _private(dotted: str) -> bool:
    root, *rest = dotted.split(".")
    if root == "tests":
        return True
    return bool(DAGSTER.match(root)) and any(part.startswith("_") and not part.startswith("__") for part in rest)


def private_uses(source: str) -> list[str]:
    """``line: what`` for each private Dagster module (or test module) the source imports or
    reaches into through an imported Dagster module's attribute."""
    tree = ast.parse(source)
    dagster_names: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if DAGSTER.match(alias.name.split(".")[0]):
                    dagster_names.add(alias.asname or alias.name.split(".")[0])
                if _private(alias.name):
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if _private(node.module) or _private(f"{node.module}.{alias.name}"):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in dagster_names
            and _private(f"dagster.{node.attr}")
        ):
            found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return found


def production_modules() -> dict[str, Path]:
    modules = {name: ROOT / f"{name}.py" for name in TOOLS}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def test_the_checker_finds_each_way_in() -> None:
    source = (
        "import dagster as dg\n"
        "from dagster._core.definitions.selector import JobSubsetSelector\n"
        "import dagster._check as check\n"
        "from dagster import _check, AssetKey, __version__\n"
        "def later():\n"
        "    from dagster_aws._private import thing\n"
        "    return dg._core.instance, dg.AssetKey, dg.__name__\n"
        "from tests.fixtures import data\n"
    )
    assert private_uses(source) == [
        "2: from dagster._core.definitions.selector import JobSubsetSelector",
        "3: import dagster._check",
        "4: from dagster import _check",
        "8: from tests.fixtures import data",
        "6: from dagster_aws._private import thing",
        "7: dg._core",
    ]
    assert private_uses("import dagster as dg\nfrom dagster import AssetKey\nimport dagster_aws.s3\ndg.asset\n") == []


def test_no_production_module_uses_a_private_dagster_module() -> None:
    modules = production_modules()
    assert {"operate", "cdr_dagster.definitions", "presign_lambda.handler", "deployment.deploy", "dashboard.preview"} <= set(
        modules
    )
    offenders = {}
    for name, path in modules.items():
        importlib.import_module(name)  # every module loads
        if uses := private_uses(path.read_text(encoding="utf-8")):
            offenders[name] = uses
    assert offenders == {}
