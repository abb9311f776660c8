"""#13.17 (Lambda part): the S3 client's timeouts and retries, the worst-case time of one request's
S3 work (``WORST_CASE_REQUEST_SECONDS``, which the Lambda timeout must exceed), and the rule that a
request makes at most one S3 call."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator

import pytest
from botocore.retries.standard import ExponentialBackoff

from devtools.s3_server import patched_env
from presign_lambda.s3 import (
    CONNECT_TIMEOUT_SECONDS,
    MAX_ATTEMPTS,
    READ_TIMEOUT_SECONDS,
    WORST_CASE_REQUEST_SECONDS,
    build_s3_client,
)
from presign_lambda.service import PresignService
from presign_lambda.settings import Settings
from tests.presign.builders import Publisher, body, rest_event
from tests.presign.test_manifest_cache import count_sends


def test_client_timeouts_and_retries(published: Publisher) -> None:
    config = build_s3_client().meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 3)
    # botocore's own name for "attempts, first included" (its "max_attempts" counts retries only).
    assert config.retries == {"total_max_attempts": 2, "mode": "standard"}
    assert (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, MAX_ATTEMPTS) == (2, 3, 2)


def test_worst_case_arithmetic() -> None:
    # Two attempts of (connect 2 s + wait 3 s), one retry delay of at most 1 s (+5 s when S3 sends
    # x-amz-retry-after), then one stalled body read of 3 s.
    assert WORST_CASE_REQUEST_SECONDS == 2 * (2 + 3) + (1 + 5) + 3 == 19
    # The retry-delay figures are botocore's: a botocore upgrade that changes them fails here.
    assert ExponentialBackoff._DEFAULT_BACKOFF_CONFIG["throttling_base_scale"] == 1
    assert ExponentialBackoff._RETRY_AFTER_MAX_ADDITIONAL == 5
    assert ExponentialBackoff._BASE == 2


@pytest.mark.parametrize(
    "query",
    [
        "key=processed/orders_for_viz*",
        "key=processed/orders_for_viz_20261127.csv",
        "key=processed/manifest.json",
        "key=viz/chart_templates.js",
        "key=raw/x.csv",
        "keys=processed/orders_for_viz*,processed/latest_deals_*,processed/ccn_data_20261127.csv,"
        "processed/carbon_pricing*,processed/manifest.json,viz/v2/chart_templates.js,nope*",
    ],
    ids=["pattern", "version", "manifest", "viz", "refused", "batch"],
)
def test_a_cold_request_makes_at_most_one_s3_call(published: Publisher, query: str) -> None:
    with patched_env({"PRESIGN_MANIFEST_CACHE_SECONDS": "0"}):
        service = PresignService(Settings.from_env(), build_s3_client(), log_stream=io.StringIO())
    sent = count_sends(service.client)
    path = "/presigned-urls" if query.startswith("keys=") else "/presigned-url"
    service.handle(rest_event(query, path=path))
    assert len(sent) <= 1
    assert sent == ([] if query in ("key=viz/chart_templates.js", "key=raw/x.csv") else ["GET"])


class SilentServer:
    """A TCP server on localhost that accepts connections and never answers (a hung S3)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted.append(conn)  # held open, never read or answered

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_s3() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def test_a_hung_s3_ends_in_two_attempts_and_a_clean_answer(silent_s3: SilentServer) -> None:
    # The deployed client (2 attempts, 3 s read timeout) against an S3 that never answers: the
    # request ends with a clean 404 rather than hanging until the Lambda's own timeout.
    env = {
        "AWS_ENDPOINT_URL_S3": silent_s3.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "ca-central-1",
        "CDR_DASHBOARD_BUCKET": "cdr-dashboard-hung",
    }
    log = io.StringIO()
    with patched_env(env):
        service = PresignService(Settings.from_env(), build_s3_client(), log_stream=log)
        response = service.handle(rest_event("key=processed/orders_for_viz*"))
    assert (response["statusCode"], body(response)) == (404, {"error": "no published version of orders_for_viz"})
    assert len(silent_s3.accepted) == 2  # MAX_ATTEMPTS
    record = json.loads(log.getvalue())
    assert (record["manifest"], record["manifest_problem"]) == ("error", "S3 could not be read (ReadTimeoutError)")
