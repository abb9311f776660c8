"""``python -m presign_lambda.local`` over real HTTP, as the page's preview and browser tests use it."""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devtools.s3_server import S3Server
from tests.presign.builders import BUCKET, Publisher
from tests.presign.conftest import CHART_JS, CHART_JS_V2, CSV

REPO = Path(__file__).resolve().parents[2]
LOCAL_PAGE = "http://localhost:8000"
LISTENING = re.compile(r"^presign server listening on http://127\.0\.0\.1:(\d+)\n$")


def read_line(proc: subprocess.Popen, timeout: float = 20.0) -> str:
    """The server's first stdout line, waiting on the pipe itself (no polling, no sleep)."""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no line from the server within {timeout} s")
    return proc.stdout.readline()


def start(env: dict[str, str], stderr_path: Path, *args: str) -> subprocess.Popen:
    with stderr_path.open("w") as stderr:  # request logs land in a file the test reads
        return subprocess.Popen(
            [sys.executable, "-m", "presign_lambda.local", *args],
            cwd=REPO,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )


@pytest.fixture(scope="module")
def local_server(
    s3_server: S3Server, standard_bucket: Publisher, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """One server for the module, configured for the local page only."""
    env = {**os.environ, **s3_server.env(), "CDR_DASHBOARD_BUCKET": BUCKET, "PRESIGN_ALLOWED_ORIGINS": LOCAL_PAGE}
    stderr_path = tmp_path_factory.mktemp("local") / "stderr.log"
    proc = start(env, stderr_path, "--port", "0", "--host", "127.0.0.1")
    try:
        line = read_line(proc)
        match = LISTENING.match(line)
        assert match, (line, stderr_path.read_text())
        assert int(match[1]) > 0
        yield f"http://127.0.0.1:{match[1]}", stderr_path
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""  # the listening line is the only stdout output


def test_old_page_requests_work_over_http(local_server: tuple[str, Path]) -> None:
    base, stderr_path = local_server
    logged_before = len(stderr_path.read_text().splitlines())
    headers = {"Origin": LOCAL_PAGE}
    csv = requests.get(f"{base}/presigned-url", params={"key": "processed/orders_for_viz*"}, headers=headers, timeout=10)
    assert csv.status_code == 200
    assert csv.headers["Content-Type"] == "application/json"
    assert csv.headers["Access-Control-Allow-Origin"] == LOCAL_PAGE
    got = requests.get(csv.json()["url"], timeout=10)
    assert (got.content, got.headers["Content-Type"]) == (CSV["orders_for_viz"], "text/csv")

    js = requests.get(f"{base}/presigned-url?key=viz/chart_templates.js", headers=headers, timeout=10)
    assert js.status_code == 200
    got = requests.get(js.json()["url"], timeout=10)
    assert (got.content, got.headers["Content-Type"]) == (CHART_JS, "application/javascript")

    records = [json.loads(line) for line in stderr_path.read_text().splitlines()[logged_before:]]
    assert [(r["key"], r["status"]) for r in records] == [("processed/orders_for_viz*", 200), ("viz/chart_templates.js", 200)]
    assert "X-Amz-Signature" not in stderr_path.read_text()


def test_batch_route_over_http(local_server: tuple[str, Path]) -> None:
    base, stderr_path = local_server
    logged_before = len(stderr_path.read_text().splitlines())
    headers = {"Origin": LOCAL_PAGE}
    keys = "processed/latest_deals_*,viz/v2/chart_templates.js,raw/ccn_companies.csv"
    # requests encodes "/" and "," in the value, as the page's encodeURIComponent does.
    answer = requests.get(f"{base}/presigned-urls", params={"keys": keys}, headers=headers, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == LOCAL_PAGE
    assert answer.headers["Cache-Control"] == "no-store"  # it holds an error
    urls, errors = answer.json()["urls"], answer.json()["errors"]
    assert list(urls) == ["processed/latest_deals_*", "viz/v2/chart_templates.js"]
    assert list(errors) == ["raw/ccn_companies.csv"] and errors["raw/ccn_companies.csv"]["status"] == 400
    deals = requests.get(urls["processed/latest_deals_*"], timeout=10)
    assert (deals.content, deals.headers["Content-Type"]) == (CSV["latest_deals"], "text/csv")
    code = requests.get(urls["viz/v2/chart_templates.js"], timeout=10)
    assert (code.content, code.headers["Content-Type"]) == (CHART_JS_V2, "application/javascript")

    whole = requests.get(f"{base}/presigned-urls?keys=processed/ccn_data*,viz/chart_templates.js", headers=headers, timeout=10)
    assert (whole.status_code, whole.headers["Cache-Control"]) == (200, "public, max-age=60")
    preflight = requests.options(
        f"{base}/presigned-urls?keys=ccn_data*",
        timeout=10,
        headers={"Origin": LOCAL_PAGE, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert requests.get(f"{base}/presigned-urls", timeout=10).json() == {"error": "missing keys parameter"}

    records = [json.loads(line) for line in stderr_path.read_text().splitlines()[logged_before:]]
    assert [(r["keys"], r["status"], r["outcome"]) for r in records] == [
        (keys.split(","), 200, "presigned_some"),
        (["processed/ccn_data*", "viz/chart_templates.js"], 200, "presigned"),
        (["ccn_data*"], 204, "preflight"),
        ([], 400, "keys_missing"),
    ]


def test_preflight_errors_and_methods_over_http(local_server: tuple[str, Path]) -> None:
    base, _ = local_server
    preflight = requests.options(
        f"{base}/presigned-url?key=processed/orders_for_viz*",
        timeout=10,
        headers={"Origin": LOCAL_PAGE, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == LOCAL_PAGE
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, OPTIONS"
    assert preflight.content == b""

    raw = requests.get(f"{base}/presigned-url?key=raw/ccn_companies.csv", timeout=10)
    assert raw.status_code == 400
    assert list(raw.json()) == ["error"]
    assert requests.post(f"{base}/presigned-url?key=orders_for_viz*", timeout=10).status_code == 405
    assert requests.get(f"{base}/other?key=orders_for_viz*", timeout=10).json() == {"error": "not found"}
    foreign = requests.get(
        f"{base}/presigned-url?key=orders_for_viz*", timeout=10, headers={"Origin": "https://deepsky.webflow.io"}
    )  # not configured here
    assert foreign.status_code == 403
    assert "Access-Control-Allow-Origin" not in foreign.headers
    # Double encoding over the wire: the server decodes once, like API Gateway.
    double = requests.get(f"{base}/presigned-url?key=processed/%252e%252e/raw/ccn_companies.csv", timeout=10)
    assert double.json() == {"error": "key must not be URL-encoded twice"}


def test_bad_configuration_stops_the_server_before_it_listens(s3_server: S3Server, tmp_path: Path) -> None:
    env = {**os.environ, **s3_server.env(), "CDR_DASHBOARD_BUCKET": BUCKET, "PRESIGN_URL_EXPIRES_SECONDS": "forever"}
    stderr_path = tmp_path / "stderr.log"
    proc = start(env, stderr_path, "--port", "0")
    assert proc.wait(timeout=20) == 2
    assert proc.stdout.read() == ""
    assert stderr_path.read_text() == "presign server: PRESIGN_URL_EXPIRES_SECONDS must be a number\n"
