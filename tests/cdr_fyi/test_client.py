"""The cdr.fyi client against a real HTTP server on localhost that behaves like cdr.fyi."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import requests

from cdr_dagster.cdr_fyi.client import CdrFyiApiError, CdrFyiAuthError, CdrFyiClient
from cdr_dagster.cdr_fyi.rate_limiter import SlidingWindowLimiter, Window
from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi
from devtools.fake_cdr_fyi import FakeCdrFyi, Fault

TOKEN = "secret-token-0f9a"


def _orders(n: int) -> list[dict]:
    return [{"order_id": f"o{i:05d}", "tons_purchased": i} for i in range(n)]


def _client(
    fake: FakeCdrFyi,
    tmp_path: Path,
    sleeps: list[float] | None = None,
    messages: list[str] | None = None,
    token: str = TOKEN,
    **options,
) -> CdrFyiClient:
    limiter = SlidingWindowLimiter(tmp_path / "limit.sqlite3", [Window(1000, 60.0)])
    return CdrFyiClient(
        fake.base_url,
        token,
        session=requests.Session(),
        limiter=limiter,
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        log=(messages.append if messages is not None else lambda m: None),
        **options,
    )


@pytest.fixture()
def fake() -> FakeCdrFyi:
    with FakeCdrFyi({"orders": _orders(250), "purchasers": [], "suppliers": [], "marketplaces": []}, TOKEN) as server:
        yield server


def test_pulls_every_page_by_headers_until_a_short_page(fake: FakeCdrFyi, tmp_path: Path) -> None:
    pull = _client(fake, tmp_path).fetch_table("orders")
    # 250 rows at 100 a page: 100 + 100 + 50, the short third page ends the pull
    assert [r["order_id"] for r in pull.records] == [f"o{i:05d}" for i in range(250)]
    assert [(r.page, r.limit, r.status) for r in fake.requests] == [(1, 100, 200), (2, 100, 200), (3, 100, 200)]
    assert (pull.stats.pages, pull.stats.requests, pull.stats.retries) == (3, 3, 0)
    assert pull.source == "live"


def test_a_table_of_exactly_k_full_pages_ends_on_the_empty_page(fake: FakeCdrFyi, tmp_path: Path) -> None:
    fake.tables["orders"] = _orders(200)
    pull = _client(fake, tmp_path).fetch_table("orders")
    assert len(pull.records) == 200
    assert [r.page for r in fake.requests] == [1, 2, 3]  # page 3 comes back empty


def test_429_waits_exactly_retry_after_then_succeeds(fake: FakeCdrFyi, tmp_path: Path) -> None:
    fake.fail_next("orders", Fault(status=429, retry_after="7"))
    sleeps: list[float] = []
    pull = _client(fake, tmp_path, sleeps).fetch_table("orders")
    assert sleeps == [7.0]
    assert len(pull.records) == 250 and pull.stats.retries == 1 and pull.stats.requests == 4
    assert [r.status for r in fake.requests] == [429, 200, 200, 200]


def test_502_is_retried_with_jittered_exponential_backoff(fake: FakeCdrFyi, tmp_path: Path) -> None:
    fake.fail_next("orders", Fault(status=502), Fault(status=502))
    sleeps: list[float] = []
    pull = _client(fake, tmp_path, sleeps, backoff_base_seconds=2.0).fetch_table("orders")
    # attempt 1 waits in [1, 2] (half to full of 2 s), attempt 2 in [2, 4]
    assert len(sleeps) == 2 and 1.0 <= sleeps[0] <= 2.0 and 2.0 <= sleeps[1] <= 4.0
    assert len(pull.records) == 250 and pull.stats.retries == 2


def test_persistent_5xx_fails_after_bounded_attempts_naming_table_and_page(fake: FakeCdrFyi, tmp_path: Path) -> None:
    fake.fail_next("orders", Fault(status=200, json={"orders": _orders(100)}), *[Fault(status=503)] * 10)
    with pytest.raises(CdrFyiApiError, match=r"orders page 2 failed after 4 attempts.*HTTP 503") as error:
        _client(fake, tmp_path, [], max_attempts=4).fetch_table("orders")
    assert [r.status for r in fake.requests] == [200, 503, 503, 503, 503]
    assert TOKEN not in str(error.value)


def test_retry_time_budget_bounds_the_retries(fake: FakeCdrFyi, tmp_path: Path) -> None:
    fake.fail_next("orders", *[Fault(status=429, retry_after="1")] * 5)
    sleeps: list[float] = []
    # a budget of 0 s: the first failure already exhausts it, so no retry and no wait
    with pytest.raises(CdrFyiApiError, match=r"orders page 1 failed after 1 attempts"):
        _client(fake, tmp_path, sleeps, max_retry_seconds=0.0).fetch_table("orders")
    assert sleeps == [] and len(fake.requests) == 1


def test_timeouts_and_connection_errors_are_retried(fake: FakeCdrFyi, tmp_path: Path) -> None:
    fake.fail_next("orders", Fault(delay_s=1.5))
    sleeps: list[float] = []
    pull = _client(fake, tmp_path, sleeps, timeout_seconds=0.3).fetch_table("orders")
    assert pull.stats.retries == 1 and "timed out" in pull.stats.retry_reasons[0]
    assert len(pull.records) == 250

    closed = FakeCdrFyi({"orders": []}, TOKEN).start()
    url = closed.base_url
    closed.stop()
    client = CdrFyiClient(
        url,
        TOKEN,
        session=requests.Session(),
        limiter=SlidingWindowLimiter(tmp_path / "l2.sqlite3", [Window(100, 60)]),
        sleep=lambda s: None,
        max_attempts=3,
    )
    with pytest.raises(CdrFyiApiError, match=r"orders page 1 failed after 3 attempts.*could not connect"):
        client.fetch_table("orders")


def test_401_fails_at_once_naming_the_setting_never_the_token(fake: FakeCdrFyi, tmp_path: Path) -> None:
    messages: list[str] = []
    with pytest.raises(CdrFyiAuthError, match="CDR_FYI_API_TOKEN") as error:
        _client(fake, tmp_path, [], messages, token="wrong-token-123").fetch_table("orders")
    assert len(fake.requests) == 1 and fake.requests[0].status == 401
    assert "wrong-token-123" not in str(error.value) and not any("wrong-token" in m for m in messages)


def test_400_fails_at_once_with_the_server_message(fake: FakeCdrFyi, tmp_path: Path) -> None:
    fake.fail_next("orders", Fault(status=400, json={"error": "x-limit must be <= 100"}))
    with pytest.raises(CdrFyiApiError, match=r"HTTP 400 \(bad request parameters\) on orders page 1.*x-limit must be"):
        _client(fake, tmp_path, []).fetch_table("orders")
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
def test_malformed_bodies_fail_naming_table_and_page(fake: FakeCdrFyi, tmp_path: Path, fault: Fault, message: str) -> None:
    fake.fail_next("orders", Fault(json={"orders": _orders(100)}), fault)
    with pytest.raises(CdrFyiApiError, match=message):
        _client(fake, tmp_path, []).fetch_table("orders")
    assert len(fake.requests) == 2  # not retried: a broken body will not mend itself


def test_endless_paging_is_stopped(fake: FakeCdrFyi, tmp_path: Path) -> None:
    same = Fault(json={"orders": _orders(100)})
    fake.fail_next("orders", same, same)
    with pytest.raises(CdrFyiApiError, match="same records for orders pages 1 and 2"):
        _client(fake, tmp_path).fetch_table("orders")
    fake.clear()
    fake.tables["orders"] = _orders(1000)
    with pytest.raises(CdrFyiApiError, match="still had full pages after 3 pages"):
        _client(fake, tmp_path, max_pages=3).fetch_table("orders")
    assert len(fake.requests) == 3


def test_limiter_waits_for_the_oldest_request_to_leave_the_window(tmp_path: Path) -> None:
    clock = {"now": 100.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    limiter = SlidingWindowLimiter(
        tmp_path / "l.sqlite3", [Window(2, 10.0), Window(3, 100.0)], clock=lambda: clock["now"], sleep=sleep
    )
    assert limiter.acquire() == 0.0  # t=100
    clock["now"] = 104.0
    assert limiter.acquire() == 0.0  # t=104: 2 in the last 10 s
    # third request: the 10 s window is full until t=100 leaves it at 110 (+1 ms)
    assert limiter.acquire() == pytest.approx(6.001)
    # fourth: the 100 s window holds 3 (100, 104, 110.001) until t=100 leaves at 200
    assert limiter.acquire() == pytest.approx(200.001 - 110.001)
    assert len(sleeps) == 2


def _pull_in_process(base_url: str, table: str, state_dir: str) -> int:
    api = CdrFyiApi(
        base_url=base_url,
        token=TOKEN,
        requests_per_minute=6,
        requests_per_hour=1000,
        rate_window_scale=0.02,
        rate_window_margin_seconds=0.5,
        rate_limit_dir=state_dir,
    )
    return len(api.fetch_table(table).records)


def test_parallel_processes_share_the_rate_limit(tmp_path: Path) -> None:
    # Server: 6 per 1.2 s (a minute compressed 50x); the client is told the same limits.
    tables = {t: [{f"{t[:-1]}_id": f"{t}{i}"} for i in range(800)] for t in ("orders", "purchasers", "suppliers")}
    tables["marketplaces"] = []
    with FakeCdrFyi(tables, TOKEN, per_minute=6, window_scale=0.02) as server:
        context = multiprocessing.get_context("spawn")
        with context.Pool(3) as pool:
            counts = pool.starmap(_pull_in_process, [(server.base_url, t, str(tmp_path)) for t in tables if t != "marketplaces"])
        log = server.requests
    assert counts == [800, 800, 800]
    # 3 tables x 9 pages (8 full + 1 empty) = 27 requests, none refused
    assert [r.status for r in log] == [200] * 27
    assert server.max_requests_in_window(60 * 0.02) <= 6


def test_a_refused_token_fails_the_pull_once_with_no_step_retry(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A 401 will recur: the asset fails with one sentence and its retry policy does not fire."""
    import dagster as dg

    from cdr_dagster.assets.sources.cdr_fyi import cdr_fyi_marketplaces
    from cdr_dagster.deployments import resources_for
    from devtools.fake_cdr_fyi import FakeCdrFyi

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
    import dagster as dg

    from cdr_dagster.assets.sources.cdr_fyi import cdr_fyi_marketplaces
    from cdr_dagster.deployments import resources_for
    from devtools.fake_cdr_fyi import FakeCdrFyi

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
        "CDR_FYI_API_TOKEN is not set: the prod deployment pulls live data and needs the partner API token.",
        "CDR_DASHBOARD_BUCKET is not set: name the prod deployment's S3 bucket.",
    ]
    assert setting_problems({"DAGSTER_DEPLOYMENT": "staging"}) == [
        "DAGSTER_DEPLOYMENT='staging' is not a deployment: use one of local, test, prod."
    ]
    assert setting_problems({"CDR_WEEKLY_CRON": "every monday"}) == [
        "CDR_WEEKLY_CRON='every monday' is not a cron schedule of five fields (for example '0 6 * * 1')."
    ]


@pytest.mark.e2e
def test_a_passing_fault_that_outlasts_the_clients_retries_is_retried_by_the_step(tmp_path) -> None:
    """A 502 with no client retry left: the step is tried again (its retry policy waits about
    30 s) and the pull then succeeds; nothing fails for good."""
    import dagster as dg

    from cdr_dagster.assets.sources.cdr_fyi import cdr_fyi_marketplaces
    from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi
    from cdr_dagster.resources.csv_io_manager import CsvIOManager
    from cdr_dagster.resources.storage import LocalStorage
    from devtools.fake_cdr_fyi import FakeCdrFyi, Fault

    with FakeCdrFyi({"marketplaces": [{"marketplace_id": "m1", "name": "M"}]}, "tok-passing") as api:
        api.fail_next("marketplaces", Fault(status=502))
        resources = {
            "cdr_fyi_api": CdrFyiApi(base_url=api.base_url, token="tok-passing", max_attempts=1, rate_limit_dir=str(tmp_path)),
            "io_manager": CsvIOManager(storage=LocalStorage(base_dir=str(tmp_path))),
        }
        result = dg.materialize([cdr_fyi_marketplaces], resources=resources)
        assert [r.status for r in api.requests] == [502, 200]
    events = [e.event_type_value for e in result.all_events]
    assert events.count("STEP_UP_FOR_RETRY") == 1 and "STEP_FAILURE" not in events
    assert result.success
