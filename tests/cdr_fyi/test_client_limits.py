"""The cdr.fyi pull under hostile answers, against the localhost fake: the token is cleaned once
and never shown, each request has a total time limit (the front page's too), Retry-After dates are
honoured, and a body that is not UTF-8 or is too large fails naming the table and page."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import dagster as dg
import pytest
import requests

from cdr_dagster.cdr_fyi.client import CdrFyiApiError, CdrFyiUnavailable, clean_token
from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi
from cdr_dagster.resources.cdr_fyi_site import CdrFyiSite
from devtools.fake_cdr_fyi import FRONT_PAGE, FakeCdrFyi, Fault

TOKEN = "secret-token-7c2e"


def _orders(n: int) -> list[dict]:
    return [{"order_id": f"o{i:05d}", "tons_purchased": i} for i in range(n)]


@pytest.fixture()
def fake() -> FakeCdrFyi:
    with FakeCdrFyi({"orders": _orders(150), "purchasers": [], "suppliers": [], "marketplaces": []}, TOKEN) as server:
        yield server


def _api(fake: FakeCdrFyi, token: str = TOKEN, **options) -> CdrFyiApi:
    return CdrFyiApi(base_url=fake.base_url, token=token, **options)


# --- 2. the token ------------------------------------------------------------------------


@pytest.mark.parametrize("stored", [f"{TOKEN}\n", f"  {TOKEN}\r\n", f"\t{TOKEN} "])
def test_surrounding_whitespace_is_stripped_once(stored: str, fake: FakeCdrFyi) -> None:
    assert clean_token(stored) == TOKEN
    assert len(_api(fake, token=stored).fetch_table("orders").records) == 150


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
    stored: str, sentence: str, fake: FakeCdrFyi
) -> None:
    with pytest.raises(CdrFyiApiError) as error:
        _api(fake, token=stored).fetch_table("orders")
    assert str(error.value) == sentence
    assert error.value.__cause__ is None and error.value.__context__ is None
    assert fake.requests == []  # refused before any request


def test_an_unexpected_requests_error_is_reported_without_its_text(fake: FakeCdrFyi) -> None:
    """requests puts a bad header's value in its error (InvalidHeader): the pull reports the
    error's kind only, so no header (the Authorization one included) can reach a log."""
    quoting = requests.exceptions.InvalidHeader(f"Invalid leading whitespace in header value: Bearer {TOKEN}")
    error = _api(fake)._request_error(quoting, "orders page 1")
    assert str(error) == "the request to cdr.fyi for orders page 1 failed (InvalidHeader)"
    assert not isinstance(error, CdrFyiUnavailable)  # it would recur: no retry


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
def test_a_server_dripping_bytes_is_cut_at_the_total_time_as_a_passing_fault(fake: FakeCdrFyi, drip_headers: bool) -> None:
    # a byte every 20 ms: no single read waits the 1 s read timeout, and the 4 KB page would take
    # 80 s; the 0.5 s limit cuts it (dripped headers, about 2.5 s, are cut at the first body
    # read) as a passing fault, which the step's retry policy tries again (the e2e test)
    fake.fail_next("orders", Fault(drip_s=0.02, drip_headers=drip_headers))
    started = time.monotonic()
    with pytest.raises(CdrFyiUnavailable) as error:
        _api(fake, timeout_seconds=1.0, request_seconds=0.5).fetch_table("orders")
    assert time.monotonic() - started < 30  # cut, not read to the end
    assert str(error.value) == "cdr.fyi took longer than 0.5s (the limit for one request) on orders page 1"
    assert len(pull_again := _api(fake).fetch_table("orders").records) == 150, pull_again


def test_the_front_page_has_the_same_total_time_limit() -> None:
    page = (Path(__file__).resolve().parents[1] / "fixtures" / "cdr_fyi_pages" / "current.html").read_bytes()
    with FakeCdrFyi({}, TOKEN, front_page=page) as fake:
        fake.fail_next(FRONT_PAGE, Fault(drip_s=0.02))
        site = CdrFyiSite(url=fake.site_url, timeout_seconds=1.0, request_seconds=0.5)
        started = time.monotonic()
        with pytest.raises(dg.Failure) as error:
            site.total_dollars_spent()
        assert time.monotonic() - started < 30  # cut, not read to the end
        assert str(error.value.description) == f"{fake.site_url} took longer than 0.5s (the limit for one request)"
        assert error.value.allow_retries  # a passing fault: the step's retry policy tries again
        assert site.total_dollars_spent() == 1_234_567_890.0  # the next try reads the figure


# --- 16. Retry-After dates, invalid UTF-8, a size cap ----------------------------------------


def test_a_429_with_an_http_date_waits_until_that_date(fake: FakeCdrFyi) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    fake.fail_next("orders", Fault(status=429, retry_after=format_datetime(when, usegmt=True)))
    pull = _api(fake).fetch_table("orders")
    assert len(pull.records) == 150
    # the retry arrived at that date, not at once (urllib3 retries a first failure at once)
    [refused, retry] = fake.requests[:2]
    assert refused.status == 429 and retry.wall >= when.timestamp() - 0.05


def test_invalid_utf8_fails_naming_table_and_page(fake: FakeCdrFyi) -> None:
    bad = b'{"orders": [{"order_id": "caf\xe9"}]}'  # Latin-1, not UTF-8
    fake.fail_next("orders", Fault(json={"orders": _orders(100)}), Fault(body=bad, content_type="application/json"))
    with pytest.raises(CdrFyiApiError) as error:
        _api(fake).fetch_table("orders")
    assert str(error.value) == "cdr.fyi's answer on orders page 2 is not valid UTF-8 (byte 0xe9 at offset 29)"
    assert len(fake.requests) == 2  # not retried


@pytest.mark.parametrize("unsized", [False, True])
def test_a_body_over_the_size_cap_fails_naming_table_and_page(fake: FakeCdrFyi, unsized: bool) -> None:
    # page 1 is 100 records of about 40 bytes: over a 1,000-byte cap, whether the server says
    # so up front (Content-Length) or not (read until the connection closes)
    if unsized:
        fake.fail_next("orders", Fault(unsized=True))
    with pytest.raises(CdrFyiApiError) as error:
        _api(fake, max_response_bytes=1000).fetch_table("orders")
    assert str(error.value) == (
        "cdr.fyi's answer on orders page 1 is larger than 1,000 bytes (the cap, max_response_bytes): refused"
    )
    assert len(fake.requests) == 1
