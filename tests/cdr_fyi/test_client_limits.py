"""The cdr.fyi client under hostile answers, against the localhost fake: the token is cleaned once
and never shown, each request has a total time limit, Retry-After dates are honoured, and a body
that is not UTF-8 or is too large fails naming the table and page."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import dagster as dg
import pytest
import requests

from cdr_dagster.cdr_fyi.client import (
    CdrFyiApiError,
    CdrFyiClient,
    CdrFyiUnavailable,
    clean_token,
    retry_after_seconds,
)
from cdr_dagster.cdr_fyi.rate_limiter import SlidingWindowLimiter, Window
from devtools.fake_cdr_fyi import FakeCdrFyi, Fault

TOKEN = "secret-token-7c2e"


def _orders(n: int) -> list[dict]:
    return [{"order_id": f"o{i:05d}", "tons_purchased": i} for i in range(n)]


@pytest.fixture()
def fake() -> FakeCdrFyi:
    with FakeCdrFyi({"orders": _orders(150), "purchasers": [], "suppliers": [], "marketplaces": []}, TOKEN) as server:
        yield server


def _client(fake: FakeCdrFyi, tmp_path: Path, sleeps: list[float] | None = None, token: str = TOKEN, **options) -> CdrFyiClient:
    return CdrFyiClient(
        fake.base_url,
        token,
        session=requests.Session(),
        limiter=SlidingWindowLimiter(tmp_path / "limit.sqlite3", [Window(1000, 60.0)]),
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        **options,
    )


# --- 2. the token ------------------------------------------------------------------------


@pytest.mark.parametrize("stored", [f"{TOKEN}\n", f"  {TOKEN}\r\n", f"\t{TOKEN} "])
def test_surrounding_whitespace_is_stripped_once(stored: str, fake: FakeCdrFyi, tmp_path: Path) -> None:
    assert clean_token(stored) == TOKEN
    assert len(_client(fake, tmp_path, token=stored).fetch_table("orders").records) == 150


@pytest.mark.parametrize(
    ("stored", "sentence"),
    [
        ("secret\x00token", "CDR_FYI_API_TOKEN contains a control character inside it: store the token alone, on one line."),
        ("secret\ntoken\n", "CDR_FYI_API_TOKEN contains a control character inside it: store the token alone, on one line."),
        ("secret\x1btoken", "CDR_FYI_API_TOKEN contains a control character inside it: store the token alone, on one line."),
        ("secret token", "CDR_FYI_API_TOKEN contains a space inside it: store the token alone, on one line."),
    ],
)
def test_a_token_with_inner_control_characters_or_spaces_is_refused_without_quoting_it(
    stored: str, sentence: str, fake: FakeCdrFyi, tmp_path: Path
) -> None:
    with pytest.raises(CdrFyiApiError) as error:
        _client(fake, tmp_path, token=stored)
    assert str(error.value) == sentence
    assert error.value.__cause__ is None and error.value.__context__ is None
    assert fake.requests == []  # refused before any request


def test_an_unexpected_requests_error_is_reported_without_its_text(fake: FakeCdrFyi, tmp_path: Path) -> None:
    """requests puts a bad header's value in its error (InvalidHeader): the client reports the
    error's kind only, so no header (the Authorization one included) can reach a log."""
    client = _client(fake, tmp_path)
    client.session.headers["X-Trace"] = f"trace {TOKEN}\nevil"  # a header requests refuses
    with pytest.raises(CdrFyiApiError) as error:
        client.fetch_table("orders")
    assert str(error.value) == "the request to cdr.fyi for orders page 1 failed (InvalidHeader)"
    assert TOKEN not in str(error.value) and error.value.__cause__ is None and error.value.__suppress_context__


@pytest.mark.parametrize("stored", ["tok-\x07-bell", "tok en", f"{TOKEN}\n"])
def test_no_token_text_in_the_run_or_its_logs(
    stored: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from cdr_dagster.assets.sources.cdr_fyi import cdr_fyi_marketplaces
    from cdr_dagster.deployments import resources_for

    caplog.set_level(logging.DEBUG)
    with FakeCdrFyi({"marketplaces": [{"marketplace_id": "m1", "name": "M"}]}, TOKEN) as api:
        monkeypatch.setenv("CDR_FYI_API_TOKEN", stored)
        monkeypatch.setenv("CDR_FYI_API_URL", api.base_url)
        monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
        result = dg.materialize([cdr_fyi_marketplaces], resources=resources_for("local"), raise_on_error=False)
    events = str(result.all_events)
    if stored.strip() == TOKEN:  # only surrounding whitespace: stripped, and the pull works
        assert result.success
    else:
        assert not result.success
        assert "CDR_FYI_API_TOKEN contains a" in events
        assert "STEP_UP_FOR_RETRY" not in events
    captured = capfd.readouterr()
    for text in (events, captured.out, captured.err, caplog.text):
        for secret in {stored, stored.strip(), "tok-", "-bell", "tok en", TOKEN}:
            assert secret not in text


# --- 3. a total time per request --------------------------------------------------------


@pytest.mark.parametrize("drip_headers", [False, True])
def test_a_server_dripping_bytes_is_cut_at_the_total_time_and_retried(
    fake: FakeCdrFyi, tmp_path: Path, drip_headers: bool
) -> None:
    # a byte every 50 ms: no single read waits the 1 s read timeout, and the 4 KB page would
    # take minutes; the 0.5 s total cuts it and the retry gets the page
    fake.fail_next("orders", Fault(drip_s=0.05, drip_headers=drip_headers))
    pull = _client(fake, tmp_path, timeout_seconds=1.0, request_seconds=0.5).fetch_table("orders")
    assert len(pull.records) == 150
    assert pull.stats.retries == 1
    assert pull.stats.retry_reasons == ["cdr.fyi took longer than 0.5s (the limit for one request) on orders page 1"]


def test_a_server_that_always_drips_fails_within_the_retry_budget(fake: FakeCdrFyi, tmp_path: Path) -> None:
    fake.fail_next("orders", *[Fault(drip_s=0.05)] * 3)
    with pytest.raises(CdrFyiUnavailable, match=r"orders page 1 failed after 3 attempts .*took longer than 0.5s"):
        _client(fake, tmp_path, timeout_seconds=1.0, request_seconds=0.5, max_attempts=3).fetch_table("orders")
    assert len(fake.requests) == 3


# --- 16. Retry-After dates, invalid UTF-8, a size cap ----------------------------------------


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 10, 21, 7, 27, 53, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT", now) == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:00:00 GMT", now) == 0.0  # already past
    assert retry_after_seconds("soon", now) is None  # unreadable: our own backoff
    assert retry_after_seconds("-5", now) == 0.0


def test_a_429_with_an_http_date_waits_until_that_date(fake: FakeCdrFyi, tmp_path: Path) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    fake.fail_next("orders", Fault(status=429, retry_after=format_datetime(when, usegmt=True)))
    sleeps: list[float] = []
    pull = _client(fake, tmp_path, sleeps).fetch_table("orders")
    # the date has whole seconds and time passed since: between 28 and 30 s, not the 0.5-1 s
    # of the first backoff step
    assert len(sleeps) == 1 and 28.0 <= sleeps[0] <= 30.0
    assert len(pull.records) == 150


def test_invalid_utf8_fails_naming_table_and_page(fake: FakeCdrFyi, tmp_path: Path) -> None:
    bad = b'{"orders": [{"order_id": "caf\xe9"}]}'  # Latin-1, not UTF-8
    fake.fail_next("orders", Fault(json={"orders": _orders(100)}), Fault(body=bad, content_type="application/json"))
    with pytest.raises(CdrFyiApiError) as error:
        _client(fake, tmp_path).fetch_table("orders")
    assert str(error.value) == "cdr.fyi's answer on orders page 2 is not valid UTF-8 (byte 0xe9 at offset 29)"
    assert len(fake.requests) == 2  # not retried


@pytest.mark.parametrize("unsized", [False, True])
def test_a_body_over_the_size_cap_fails_naming_table_and_page(fake: FakeCdrFyi, tmp_path: Path, unsized: bool) -> None:
    # page 1 is 100 records of about 40 bytes: over a 1,000-byte cap, whether the server says
    # so up front (Content-Length) or not (read until the connection closes)
    if unsized:
        fake.fail_next("orders", Fault(unsized=True))
    with pytest.raises(CdrFyiApiError) as error:
        _client(fake, tmp_path, max_response_bytes=1000).fetch_table("orders")
    assert str(error.value) == (
        "cdr.fyi's answer on orders page 1 is larger than 1,000 bytes (the cap, max_response_bytes): refused"
    )
    assert len(fake.requests) == 1
