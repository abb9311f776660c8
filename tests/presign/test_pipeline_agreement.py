"""The presign Lambda and the pipeline agree on the datasets and the manifest's key.

The Lambda package never imports ``cdr_dagster`` (it ships alone, with boto3 only), so it keeps its
own copies; this test, and only this test, reads the pipeline's, so a dataset added on one side and
not the other fails here instead of answering ``404 unknown dataset`` on the live page.
"""

from __future__ import annotations

import ast
from pathlib import Path

from cdr_dagster.domain.datasets import DATASET_NAMES
from cdr_dagster.domain.layout import MANIFEST_KEY as PIPELINE_MANIFEST_KEY
from cdr_dagster.domain.layout import stored_gzipped
from presign_lambda.settings import DATASETS, MANIFEST_KEY

PACKAGE = Path(__file__).resolve().parents[2] / "presign_lambda"


def test_same_manifest_key() -> None:
    assert MANIFEST_KEY == PIPELINE_MANIFEST_KEY == "processed/manifest.json"


def test_the_manifest_the_lambda_parses_is_stored_plain() -> None:
    # the Lambda reads the manifest's bytes with boto3, which does not undo Content-Encoding;
    # the CSVs and the page's code are gzipped, but the Lambda only presigns those
    assert not stored_gzipped(MANIFEST_KEY)
    assert stored_gzipped("processed/orders_for_viz_20261127.csv") and stored_gzipped("viz/v2/chart_templates.js")


def test_same_datasets_as_the_pipeline() -> None:
    assert set(DATASET_NAMES) == DATASETS


def test_the_lambda_package_never_imports_the_pipeline() -> None:
    imported: set[str] = set()
    for module in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(), str(module))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert "cdr_dagster" not in imported
    assert imported - {"presign_lambda", "boto3", "botocore", "__future__"} <= {
        "argparse",
        "collections",
        "dataclasses",
        "datetime",
        "enum",
        "http",
        "json",
        "os",
        "re",
        "signal",
        "socket",
        "sys",
        "threading",
        "time",
        "typing",
        "urllib",
        "uuid",
        "math",
    }
