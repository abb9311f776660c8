"""The fake cdr.fyi server behaves like the documented API (docs/cdr-fyi.md)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devtools.fake_cdr_fyi import FakeCdrFyi, Fault

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    """A clock the test moves by hand, so rate-limit windows need no sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_tables() -> dict[str, list[dict]]:
    return {
        "orders": [{"order_id": f"o{i:02d}", "tons_purchased": i} for i in range(25)],
        "purchasers": [{"purchaser_id": "p1", "name": "Société Générale"}],
        "suppliers": [],
        "marketplaces": [{"marketplace_id": "m1", "name": "Removal Exchange, Inc."}],
    }


@pytest.fixture
def fake() -> Iterator[FakeCdrFyi]:
    with FakeCdrFyi(make_tables(), TOKEN) as server:
        yield server


def get(fake: FakeCdrFyi, path: str, headers: dict[str, str] | None = None) -> requests.Response:
    """An authorised GET of ``<base_url>/<path>`` with extra headers."""
    return requests.get(f"{fake.base_url}/{path}", headers={**AUTH, **(headers or {})}, timeout=5)


def test_missing_or_wrong_token_is_401(fake: FakeCdrFyi) -> None:
    url = f"{fake.base_url}/orders"
    missing = requests.get(url, timeout=5)
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    not_bearer = requests.get(url, headers={"Authorization": TOKEN}, timeout=5)

    for response in (missing, wrong, not_bearer):
        assert response.status_code == 401
        assert response.json() == {"error": "Unauthorized"}
    assert [(r.status, r.auth_ok, r.counted) for r in fake.requests] == [(401, False, False)] * 3


def test_pages_by_request_headers_until_a_short_then_empty_page(fake: FakeCdrFyi) -> None:
    pages = [get(fake, "orders", {"x-page": str(page), "x-limit": "10"}).json() for page in (1, 2, 3, 4)]

    assert [list(p) for p in pages] == [["orders"]] * 4  # one key: no count, no links
    ids = [[o["order_id"] for o in p["orders"]] for p in pages]
    assert ids[0] == [f"o{i:02d}" for i in range(0, 10)]
    assert ids[1] == [f"o{i:02d}" for i in range(10, 20)]
    assert ids[2] == ["o20", "o21", "o22", "o23", "o24"]  # the last, short page
    assert ids[3] == []  # past the end
    assert [(r.page, r.limit, r.status) for r in fake.requests] == [(1, 10, 200), (2, 10, 200), (3, 10, 200), (4, 10, 200)]


def test_defaults_to_page_1_of_10_and_ignores_entity_filters(fake: FakeCdrFyi) -> None:
    plain = get(fake, "orders")
    filtered = get(fake, "orders?entityFilterType=Supplier&entityFilterId=s1", {"x-limit": "100"})
    trailing_slash = get(fake, "purchasers/")

    assert [o["order_id"] for o in plain.json()["orders"]] == [f"o{i:02d}" for i in range(10)]
    assert len(filtered.json()["orders"]) == 25
    assert trailing_slash.json() == {"purchasers": [{"purchaser_id": "p1", "name": "Société Générale"}]}
    assert get(fake, "suppliers").json() == {"suppliers": []}
    assert fake.requests[1].query == "entityFilterType=Supplier&entityFilterId=s1"


@pytest.mark.parametrize(
    ("headers", "bad"),
    [
        ({"x-limit": "101"}, "x-limit"),
        ({"x-limit": "0"}, "x-limit"),
        ({"x-limit": "ten"}, "x-limit"),
        ({"x-page": "0"}, "x-page"),
        ({"x-page": "2.5"}, "x-page"),
    ],
)
def test_bad_paging_headers_are_400_with_a_message(fake: FakeCdrFyi, headers: dict[str, str], bad: str) -> None:
    response = get(fake, "orders", headers)

    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{bad} must be an integer")
    assert fake.requests[0].counted  # a bad request still uses up the allowance


def test_unknown_path_is_404_and_other_methods_405(fake: FakeCdrFyi) -> None:
    assert get(fake, "metrics").status_code == 404
    no_prefix = requests.get(f"http://127.0.0.1:{fake.port}/orders", headers=AUTH, timeout=5)
    assert no_prefix.status_code == 404
    posted = requests.post(f"{fake.base_url}/orders", headers=AUTH, json={"x": 1}, timeout=5)
    assert posted.status_code == 405
    assert posted.headers["Allow"] == "GET"
    assert [r.table for r in fake.requests] == [None, None, "orders"]


def test_429_with_retry_after_over_the_minute_limit() -> None:
    clock = FakeClock()
    with FakeCdrFyi(make_tables(), TOKEN, per_minute=3, per_hour=1000, clock=clock) as fake:
        statuses = []
        retry_after = []
        for now in (0.0, 1.0, 2.0, 10.0, 10.0, 59.5, 60.0, 60.0):
            clock.now = now
            response = get(fake, "orders")
            statuses.append(response.status_code)
            retry_after.append(response.headers.get("Retry-After"))

    assert statuses == [200, 200, 200, 429, 429, 429, 200, 429]
    # 10 s in, the request of t=0 frees a slot at t=60; a 429 itself takes no slot
    assert retry_after == [None, None, None, "50", "50", "1", None, "1"]
    assert [r.counted for r in fake.requests] == [True] * 3 + [False] * 3 + [True, False]
    assert len(fake.requests) == 8


def test_429_over_the_hour_limit_with_scaled_windows() -> None:
    clock = FakeClock()
    with FakeCdrFyi(make_tables(), TOKEN, per_minute=100, per_hour=2, window_scale=0.5, clock=clock) as fake:
        clock.now = 0.0
        first = get(fake, "orders")
        clock.now = 100.0
        second = get(fake, "orders")
        clock.now = 200.0
        third = get(fake, "orders")
        clock.now = 1800.0  # the hour window is 1800 s at scale 0.5: t=0 has left it
        fourth = get(fake, "orders")

    assert [r.status_code for r in (first, second, third, fourth)] == [200, 200, 429, 200]
    assert third.headers["Retry-After"] == "1600"
    assert third.json() == {"error": "Too Many Requests"}


def test_429_on_the_real_clock_says_retry_in_60_seconds() -> None:
    with FakeCdrFyi(make_tables(), TOKEN, per_minute=2) as fake:
        responses = [get(fake, "orders") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[2].headers["Retry-After"] == "60"


def test_scripted_faults_are_consumed_in_order_by_matching_requests(fake: FakeCdrFyi) -> None:
    fake.fail_next(
        "orders",
        Fault(status=429, retry_after="2"),
        Fault(status=502),
        Fault(status=500, body="oops"),
        Fault(body="<html>not json"),
        Fault(json={"orders": {"a": 1}}),
    )
    fake.fail_next(None, Fault(json={"wrong_key": []}))

    purchasers = get(fake, "purchasers")  # skips the orders faults, takes the "any table" one
    orders = [get(fake, "orders", {"x-limit": "5"}) for _ in range(6)]

    assert purchasers.status_code == 200
    assert purchasers.json() == {"wrong_key": []}
    assert [r.status_code for r in orders] == [429, 502, 500, 200, 200, 200]
    assert orders[0].headers["Retry-After"] == "2"
    assert orders[0].json() == {"error": "Too Many Requests"}
    assert orders[1].json() == {"error": "Bad Gateway"}
    assert orders[2].text == "oops"
    assert orders[3].text == "<html>not json"
    assert orders[3].headers["Content-Type"].startswith("text/html")
    assert orders[4].json() == {"orders": {"a": 1}}
    assert [o["order_id"] for o in orders[5].json()["orders"]] == [f"o0{i}" for i in range(5)]
    assert fake.pending_faults == 0
    assert [r.counted for r in fake.requests] == [True, False, True, True, True, True, True]


def test_unauthorised_requests_do_not_consume_faults(fake: FakeCdrFyi) -> None:
    fake.fail_next("orders", Fault(status=503))

    assert requests.get(f"{fake.base_url}/orders", timeout=5).status_code == 401
    assert fake.pending_faults == 1
    assert get(fake, "orders").status_code == 503


def test_a_slow_fault_provokes_a_client_timeout(fake: FakeCdrFyi) -> None:
    fake.fail_next("orders", Fault(delay_s=5))

    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{fake.base_url}/orders", headers=AUTH, timeout=0.2)
    retry = get(fake, "orders")

    assert retry.status_code == 200
    assert len(retry.json()["orders"]) == 10
    assert [r.fault for r in fake.requests] == [Fault(delay_s=5), None]


def test_latency_overlaps_across_concurrent_requests() -> None:
    latency, clients = 0.25, 4
    with FakeCdrFyi(make_tables(), TOKEN, latency_s=latency) as fake:
        statuses: list[int] = []
        threads = [threading.Thread(target=lambda: statuses.append(get(fake, "orders").status_code)) for _ in range(clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

    assert statuses == [200] * clients
    assert latency <= elapsed < latency * clients * 0.75  # served together, not one by one


def test_max_requests_in_window_counts_the_busiest_sliding_window() -> None:
    clock = FakeClock()
    with FakeCdrFyi(make_tables(), TOKEN, clock=clock) as fake:
        for now in (0, 1, 2, 59, 61, 62, 200):
            clock.now = float(now)
            get(fake, "orders")
        clock.now = 200.5
        requests.get(f"{fake.base_url}/orders", timeout=5)  # 401: logged, not counted

    assert fake.max_requests_in_window(60) == 4  # 0, 1, 2, 59 (61 - 1 is not < 60)
    assert fake.max_requests_in_window(10) == 3
    assert fake.max_requests_in_window(0.5) == 1
    assert fake.max_requests_in_window(1) == 2  # 200 and 200.5
    assert fake.max_requests_in_window(1, counted_only=True) == 1
    assert fake.max_requests_in_window(1000) == 8
    assert fake.max_requests_in_window(1000, counted_only=True) == 7


def test_tables_can_change_between_pulls(fake: FakeCdrFyi) -> None:
    before = get(fake, "marketplaces").json()["marketplaces"]
    fake.tables["marketplaces"] = [{"marketplace_id": "m2", "name": "Marché du Carbone"}]
    after = get(fake, "marketplaces").json()["marketplaces"]

    assert [m["marketplace_id"] for m in before] == ["m1"]
    assert after == [{"marketplace_id": "m2", "name": "Marché du Carbone"}]


def test_keep_alive_connections_are_closed_on_stop() -> None:
    fake = FakeCdrFyi(make_tables(), TOKEN).start()
    session = requests.Session()
    first = session.get(f"{fake.base_url}/orders", headers=AUTH, timeout=5)
    second = session.get(f"{fake.base_url}/orders", headers=AUTH, timeout=5)
    url = fake.base_url
    fake.stop()

    assert (first.status_code, second.status_code) == (200, 200)
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(f"{url}/orders", headers=AUTH, timeout=5)


def test_cli_serves_sample_data() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.fake_cdr_fyi", "--port", "0", "--token", "T", "--scale", "0.05"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        prefix = "fake cdr.fyi listening on "
        assert line.startswith(prefix)
        base_url = line[len(prefix) :]
        headers = {"Authorization": "Bearer T", "x-limit": "100"}
        response = requests.get(f"{base_url}/suppliers", headers=headers, timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=5)

    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    assert response.status_code == 200
    assert len(response.json()["suppliers"]) == 7  # 6 at scale 0.05, one listed twice
    assert process.returncode == 0


def test_a_full_pull_of_the_sample_data_takes_tens_of_requests() -> None:
    from devtools.sample_snapshot import generate

    tables = generate(scale=1.0)
    pulled: dict[str, list[dict]] = {}
    with FakeCdrFyi(tables, TOKEN) as fake, requests.Session() as session:
        for table in ("orders", "purchasers", "suppliers", "marketplaces"):
            pulled[table], page = [], 1
            while True:
                headers = {**AUTH, "x-page": str(page), "x-limit": "100"}
                response = session.get(f"{fake.base_url}/{table}", headers=headers, timeout=5)
                rows = response.json()[table]
                pulled[table] += rows
                if len(rows) < 100:
                    break
                page += 1

    assert pulled == tables
    # 3001 orders: 31 pages; 501 purchasers: 6; 121 suppliers: 2; 31 marketplaces: 1
    assert len(fake.requests) == 40
    assert {r.status for r in fake.requests} == {200}
    assert fake.max_requests_in_window(60) == 40
