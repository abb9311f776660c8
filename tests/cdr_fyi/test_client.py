"""The cdr.fyi pull against a real HTTP server on localhost that behaves like cdr.fyi."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from cdr_dagster.cdr_fyi.client import CdrFyiApiError, CdrFyiAuthError, CdrFyiUnavailable, RateLimiter
from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi
from devtools.fake_cdr_fyi import FakeCdrFyi, Fault

TOKEN = "secret-token-0f9a"


def _orders(n: int) -> list[dict]:
    return [{"order_id": f"o{i:05d}", "tons_purchased": i} for i in range(n)]


def _api(fake: FakeCdrFyi, token: str = TOKEN, **options) -> CdrFyiApi:
    return CdrFyiApi(base_url=fake.base_url, token=token, **options)


def _gap(fake: FakeCdrFyi, first: int) -> float:
    """Seconds between request ``first`` and the next one, as the server saw them."""
    log = fake.requests
    return log[first + 1].monotonic - log[first].monotonic


@pytest.fixture()
def fake() -> FakeCdrFyi:
    with FakeCdrFyi({"orders": _orders(250), "purchasers": [], "suppliers": [], "marketplaces": []}, TOKEN) as server:
        yield server


def test_pulls_every_page_by_headers_until_a_short_page(fake: FakeCdrFyi) -> None:
    pull = _api(fake).fetch_table("orders")
    # 250 rows at 100 a page: 100 + 100 + 50, the short third page ends the pull
    assert [r["order_id"] for r in pull.records] == [f"o{i:05d}" for i in range(250)]
    assert [(r.page, r.limit, r.status) for r in fake.requests] == [(1, 100, 200), (2, 100, 200), (3, 100, 200)]
    assert (pull.stats.pages, pull.stats.requests, pull.stats.retries) == (3, 3, 0)
    assert pull.source == "live"


def test_a_table_of_exactly_k_full_pages_ends_on_the_empty_page(fake: FakeCdrFyi) -> None:
    fake.tables["orders"] = _orders(200)
    pull = _api(fake).fetch_table("orders")
    assert len(pull.records) == 200
    assert [r.page for r in fake.requests] == [1, 2, 3]  # page 3 comes back empty


def test_429_waits_retry_after_then_succeeds(fake: FakeCdrFyi) -> None:
    fake.fail_next("orders", Fault(status=429, retry_after="1"))
    messages: list[str] = []
    pull = _api(fake).fetch_table("orders", log=messages.append)
    assert len(pull.records) == 250 and pull.stats.retries == 1 and pull.stats.requests == 4
    assert [r.status for r in fake.requests] == [429, 200, 200, 200]
    assert _gap(fake, 0) >= 1.0  # the retry came no sooner than the server asked
    assert pull.stats.retry_reasons == ["HTTP 429 on orders page 1"]
    assert "retried orders page 1 after HTTP 429" in messages


def test_retry_after_is_capped_by_max_wait_seconds(fake: FakeCdrFyi) -> None:
    fake.fail_next("orders", Fault(status=429, retry_after="3600"))
    pull = _api(fake, max_wait_seconds=1).fetch_table("orders")
    assert len(pull.records) == 250
    assert 1.0 <= _gap(fake, 0) < 60  # an hour asked, the cap's second waited


def test_502_is_retried_with_exponential_backoff(fake: FakeCdrFyi) -> None:
    fake.fail_next("orders", Fault(status=502), Fault(status=502))
    pull = _api(fake, backoff_seconds=0.25).fetch_table("orders")
    assert len(pull.records) == 250 and pull.stats.retries == 2
    assert [r.status for r in fake.requests] == [502, 502, 200, 200, 200]
    # urllib3 retries the first failure at once, then waits 0.25 * 2 s (+ up to 0.25 s jitter)
    assert _gap(fake, 1) >= 0.5


def test_persistent_5xx_fails_after_bounded_attempts_naming_table_and_page(fake: FakeCdrFyi) -> None:
    fake.fail_next("orders", Fault(status=200, json={"orders": _orders(100)}), *[Fault(status=503)] * 10)
    with pytest.raises(CdrFyiUnavailable) as error:
        _api(fake, max_attempts=4, backoff_seconds=0.01).fetch_table("orders")
    assert str(error.value) == "cdr.fyi answered HTTP 503 Service Unavailable on orders page 2, after 4 attempts"
    assert [r.status for r in fake.requests] == [200, 503, 503, 503, 503]


def test_timeouts_and_connection_errors_are_retried(fake: FakeCdrFyi) -> None:
    fake.fail_next("orders", Fault(delay_s=1.5))
    pull = _api(fake, timeout_seconds=0.3).fetch_table("orders")
    assert pull.stats.retries == 1 and pull.stats.retry_reasons == ["ReadTimeoutError on orders page 1"]
    assert len(pull.records) == 250

    closed = FakeCdrFyi({"orders": []}, TOKEN).start()
    url = closed.base_url
    closed.stop()
    with pytest.raises(CdrFyiUnavailable) as error:
        CdrFyiApi(base_url=url, token=TOKEN, max_attempts=3, backoff_seconds=0.01).fetch_table("orders")
    assert str(error.value) == f"could not connect to {url} for orders page 1, after 3 attempts: NewConnectionError"


def test_401_fails_at_once_naming_the_setting_never_the_token(fake: FakeCdrFyi) -> None:
    messages: list[str] = []
    with pytest.raises(CdrFyiAuthError, match="CDR_FYI_API_TOKEN") as error:
        _api(fake, token="wrong-token-123").fetch_table("orders", log=messages.append)
    assert len(fake.requests) == 1 and fake.requests[0].status == 401
    assert "wrong-token-123" not in str(error.value) and not any("wrong-token" in m for m in messages)


def test_400_fails_at_once_with_the_server_message(fake: FakeCdrFyi) -> None:
    fake.fail_next("orders", Fault(status=400, json={"error": "x-limit must be <= 100"}))
    with pytest.raises(CdrFyiApiError, match=r"HTTP 400 \(bad request parameters\) on orders page 1.*x-limit must be"):
        _api(fake).fetch_table("orders")
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(body="<html>Gateway</html>"), r"orders page 2 \(Content-Type 'text/html.*'<html>Gateway"),
        (Fault(json={"data": []}), r"on orders page 2 lacks the 'orders' key \(found \['data'\]\)"),
        (Fault(json={"orders": {"a": 1}}), r"'orders' on orders page 2 is a dict, not a list"),
        (Fault(json=[1, 2]), r"on orders page 2 lacks the 'orders' key \(found list\)"),
    ],
)
def test_malformed_bodies_fail_naming_table_and_page(fake: FakeCdrFyi, fault: Fault, message: str) -> None:
    fake.fail_next("orders", Fault(json={"orders": _orders(100)}), fault)
    with pytest.raises(CdrFyiApiError, match=message):
        _api(fake).fetch_table("orders")
    assert len(fake.requests) == 2  # not retried: a broken body will not mend itself


def test_endless_paging_is_stopped(fake: FakeCdrFyi) -> None:
    same = Fault(json={"orders": _orders(100)})
    fake.fail_next("orders", same, same)
    with pytest.raises(CdrFyiApiError, match="same records for orders pages 1 and 2"):
        _api(fake).fetch_table("orders")
    fake.clear()
    fake.tables["orders"] = _orders(1000)
    with pytest.raises(CdrFyiApiError, match="still had full pages after 3 pages"):
        _api(fake, max_pages=3).fetch_table("orders")
    assert len(fake.requests) == 3


def test_limiter_waits_for_the_oldest_request_to_leave_the_window() -> None:
    clock = {"now": 100.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    limiter = RateLimiter([(2, 10.0), (3, 100.0)], clock=lambda: clock["now"], sleep=sleep)
    assert limiter.wait() == 0.0
    limiter.done()  # ended at t=100
    clock["now"] = 104.0
    assert limiter.wait() == 0.0  # t=104: 1 in the last 10 s
    limiter.done()
    # third request: the 10 s window holds 100 and 104 until 100 leaves it at t=110
    assert limiter.wait() == pytest.approx(6.0)
    limiter.done()  # t=110
    # fourth: 104 leaves the 10 s window at 114, but the 100 s window holds 3 until t=200
    assert limiter.wait() == pytest.approx(90.0)
    assert sleeps == [pytest.approx(6.0), pytest.approx(90.0)]


def test_the_pulls_of_one_run_share_one_rate_limit(tmp_path: Path) -> None:
    """The four pull steps of a run (one process) go through one limiter: 10 requests against a
    server that allows 4 in any 0.6 s (a minute compressed 100x) draw no 429."""
    from cdr_dagster.assets.sources.cdr_fyi import cdr_fyi_marketplaces, cdr_fyi_orders, cdr_fyi_purchasers, cdr_fyi_suppliers
    from cdr_dagster.resources.csv_io_manager import CsvIOManager
    from cdr_dagster.resources.storage import LocalStorage

    def rows(table: str) -> list[dict]:
        return [{f"{table[:-1]}_id": f"{table}{i}", "name": "N"} for i in range(250)]

    tables = {"orders": _orders(250), "purchasers": rows("purchasers"), "suppliers": rows("suppliers"), "marketplaces": []}
    with FakeCdrFyi(tables, TOKEN, per_minute=4, window_scale=0.01) as server:
        resources = {
            "cdr_fyi_api": CdrFyiApi(base_url=server.base_url, token=TOKEN, requests_per_minute=4, rate_window_scale=0.01),
            "io_manager": CsvIOManager(storage=LocalStorage(base_dir=str(tmp_path))),
        }
        assets = [cdr_fyi_orders, cdr_fyi_purchasers, cdr_fyi_suppliers, cdr_fyi_marketplaces]
        result = dg.materialize(assets, resources=resources)
        log = server.requests
    assert result.success
    # 3 tables x 3 pages + 1 empty marketplaces page, none refused
    assert [r.status for r in log] == [200] * 10
    assert server.max_requests_in_window(60 * 0.01) <= 4
    assert {a.op.pool for a in assets} == {"cdr_fyi_api"}  # one at a time, also across runs


def test_a_refused_token_fails_the_pull_once_with_no_step_retry(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A 401 will recur: the asset fails with one sentence and its retry policy does not fire."""
    from cdr_dagster.assets.sources.cdr_fyi import cdr_fyi_marketplaces
    from cdr_dagster.deployments import resources_for

    with FakeCdrFyi({"marketplaces": []}, "the-right-token") as api:
        monkeypatch.setenv("CDR_FYI_API_TOKEN", "a-wrong-token")
        monkeypatch.setenv("CDR_FYI_API_URL", api.base_url)
        monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
        result = dg.materialize([cdr_fyi_marketplaces], resources=resources_for("local"), raise_on_error=False)
        assert len(api.requests) == 1
    assert not result.success
    events = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in events and events.count("STEP_FAILURE") == 1
    [failure] = result.get_step_failure_events()
    assert "CDR_FYI_API_TOKEN" in failure.step_failure_data.user_failure_data.description
    assert "a-wrong-token" not in str(result.all_events)
    assert cdr_fyi_marketplaces.op.retry_policy is not None and cdr_fyi_marketplaces.op.retry_policy.max_retries == 2


@pytest.mark.parametrize("stored", ["the-right-token\n", "  the-right-token\r\n", "\tthe-right-token "])
def test_a_token_stored_with_surrounding_whitespace_works(stored: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from cdr_dagster.assets.sources.cdr_fyi import cdr_fyi_marketplaces
    from cdr_dagster.deployments import resources_for

    with FakeCdrFyi({"marketplaces": [{"marketplace_id": "m1", "name": "M"}]}, "the-right-token") as api:
        monkeypatch.setenv("CDR_FYI_API_TOKEN", stored)
        monkeypatch.setenv("CDR_FYI_API_URL", api.base_url)
        monkeypatch.setenv("CDR_DATA_DIR", str(tmp_path))
        result = dg.materialize([cdr_fyi_marketplaces], resources=resources_for("local"))
    assert result.success


@pytest.mark.parametrize("stored", ["s3cr\x00et", "s3cr\net", "s3cr et", "s3cr\x1bet"])
def test_a_token_with_inner_control_characters_is_refused_without_quoting_it(stored: str) -> None:
    from cdr_dagster.config import setting_problems

    problems = setting_problems({"CDR_FYI_API_TOKEN": stored})
    assert len(problems) == 1 and problems[0].startswith("CDR_FYI_API_TOKEN contains")
    assert "s3cr" not in problems[0]


def test_settings_are_checked_once_with_one_sentence_each() -> None:
    from cdr_dagster.config import setting_problems

    assert setting_problems({}) == []  # local: everything has a default
    assert setting_problems({"DAGSTER_DEPLOYMENT": "prod"}) == [
        "CDR_FYI_API_TOKEN is not set: the live cdr.fyi pull needs a partner API token (cdr.fyi, Settings > API Access).",
        "CDR_DASHBOARD_BUCKET is not set: name this deployment's S3 bucket.",
    ]
    assert setting_problems({"DAGSTER_DEPLOYMENT": "staging"}) == [
        "DAGSTER_DEPLOYMENT='staging' is not a deployment: use one of local, test, prod."
    ]
    assert setting_problems({"CDR_WEEKLY_CRON": "every monday"}) == [
        "CDR_WEEKLY_CRON='every monday' is not a cron schedule of five fields (for example '0 6 * * 1')."
    ]


@pytest.mark.e2e
@pytest.mark.parametrize("fault", [Fault(status=502), Fault(drip_s=0.05)], ids=["502", "drip"])
def test_a_passing_fault_that_outlasts_the_clients_retries_is_retried_by_the_step(tmp_path, fault: Fault) -> None:
    """A 502 with no client retry left, or a server dripping bytes cut at the request's time
    limit: the step is tried again (its retry policy waits about 30 s) and the pull then
    succeeds; nothing fails for good."""
    from cdr_dagster.assets.sources.cdr_fyi import cdr_fyi_marketplaces
    from cdr_dagster.resources.csv_io_manager import CsvIOManager
    from cdr_dagster.resources.storage import LocalStorage

    with FakeCdrFyi({"marketplaces": [{"marketplace_id": "m1", "name": "M"}]}, "tok-passing") as api:
        api.fail_next("marketplaces", fault)
        resources = {
            "cdr_fyi_api": CdrFyiApi(base_url=api.base_url, token="tok-passing", max_attempts=1, request_seconds=0.5),
            "io_manager": CsvIOManager(storage=LocalStorage(base_dir=str(tmp_path))),
        }
        result = dg.materialize([cdr_fyi_marketplaces], resources=resources)
        assert [r.status for r in api.requests] == [fault.status, 200]
    events = [e.event_type_value for e in result.all_events]
    assert events.count("STEP_UP_FOR_RETRY") == 1 and "STEP_FAILURE" not in events
    assert result.success
