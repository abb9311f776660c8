"""The synthetic cdr.fyi data: deterministic, realistic in size, as awkward as the real data."""

from __future__ import annotations

import csv
import gzip
import io
import json
import uuid
from collections import Counter
from typing import Any

import pytest
from bs4 import BeautifulSoup

from devtools import sample_snapshot as ss

Tables = dict[str, list[dict[str, Any]]]

ORDER_FIELDS = {
    "order_id",
    "purchaser_id",
    "supplier_id",
    "marketplace_id",
    "status",
    "delivery_status_source",
    "delivery_verified",
    "delivery_forecast",
    "delivery_verification_source",
    "method",
    "tons_purchased",
    "price_usd",
    "latest_delivery_date",
    "durability_years",
    "announcement_date",
    "announcement_link",
    "source_type",
    "notes",
    "parent_id",
    "tons_delivered",
    "type_of_agreement",
}
ENTITY_FIELDS = {
    "name",
    "methods",
    "website",
    "logo",
    "slug",
    "tagline",
    "description",
    "year_founded",
    "geo_city",
    "geo_country",
    "twitter",
    "is_verified",
}


@pytest.fixture(scope="module")
def tables() -> Tables:
    return ss.generate()


def distinct(rows: list[dict[str, Any]], table: str) -> int:
    return len({r[ss.ID_FIELDS[table]] for r in rows})


def test_same_seed_gives_identical_data_and_bytes() -> None:
    first, second = ss.generate(scale=0.2, seed=7), ss.generate(scale=0.2, seed=7)

    assert first == second
    assert ss.snapshot_bytes(first, 7) == ss.snapshot_bytes(second, 7)
    assert ss.generate(scale=0.2, seed=8) != first
    assert ss.ccn_companies(7) == ss.ccn_companies(7)


def test_counts_at_scale_1(tables: Tables) -> None:
    expected = {"orders": 3000, "purchasers": 500, "suppliers": 120, "marketplaces": 30}

    assert {t: distinct(rows, t) for t, rows in tables.items()} == expected
    assert {t: len(rows) for t, rows in tables.items()} == {t: n + 1 for t, n in expected.items()}


@pytest.mark.parametrize(
    ("scale", "orders", "purchasers", "suppliers", "marketplaces"),
    [(0.5, 1500, 250, 60, 15), (2, 6000, 1000, 240, 60)],
)
def test_scale_multiplies_counts(scale: float, orders: int, purchasers: int, suppliers: int, marketplaces: int) -> None:
    scaled = ss.generate(scale=scale)

    assert {t: distinct(rows, t) for t, rows in scaled.items()} == {
        "orders": orders,
        "purchasers": purchasers,
        "suppliers": suppliers,
        "marketplaces": marketplaces,
    }


def test_volumes_look_like_todays_market(tables: Tables) -> None:
    orders = [o for o in ss.unique_rows(tables["orders"], "order_id") if o["order_id"] not in ss.EXCLUDED_ORDER_IDS]
    sales = [o for o in orders if o["type_of_agreement"] == "Credit Sale" and o["announcement_date"]]

    def sold_in(year: int) -> float:
        return sum(o["tons_purchased"] or 0 for o in sales if o["announcement_date"][:4] == f"{year}")

    by_2026 = [o for o in sales if o["announcement_date"] < "2026-01-01"]
    sold = sum(o["tons_purchased"] or 0 for o in by_2026)
    delivered = sum(o["tons_delivered"] or 0 for o in by_2026)
    dates = sorted(o["announcement_date"] for o in orders if o["announcement_date"])

    assert 40e6 <= sold <= 46e6  # ~43 Mt by end-2025
    assert 0.8e6 <= delivered <= 1.3e6  # ~1 Mt delivered
    assert 27e6 <= sold_in(2025) <= 31e6  # ~30 Mt in 2025 alone
    assert all(2.5 <= sold_in(y + 1) / sold_in(y) <= 4.5 for y in range(2019, 2025))  # ~3x a year
    assert 2000 <= sum(d < "2026-01-01" for d in dates) <= 2600  # low thousands by Dec 2025
    assert dates[0] >= "2019-01-01" and dates[-1] == "2026-11-23"
    assert max(o["tons_purchased"] or 0 for o in orders) <= ss.MAX_ORDER_TONS
    assert 5 <= sum((o["tons_purchased"] or 0) >= 1e6 for o in orders) <= 40  # a few big deals


def test_every_record_has_its_id_and_the_api_field_names(tables: Tables) -> None:
    for table, rows in tables.items():
        id_field = ss.ID_FIELDS[table]
        assert all(isinstance(r[id_field], str) and r[id_field] for r in rows), table
    assert all(ORDER_FIELDS <= set(o) <= ORDER_FIELDS | {"registry"} for o in tables["orders"])
    for table in ("purchasers", "suppliers", "marketplaces"):
        fields = ENTITY_FIELDS | {ss.ID_FIELDS[table]}
        if table == "purchasers":
            fields |= {"created_at"}
        assert all(fields <= set(r) <= fields | {"geo"} for r in tables[table]), table
    assert all(str(uuid.UUID(o["order_id"])) == o["order_id"] for o in tables["orders"])


def test_the_three_dac_names_and_non_dac_methods(tables: Tables) -> None:
    methods = Counter(o["method"] for o in tables["orders"])

    assert all(methods[m] > 0 for m in ss.DAC_METHODS)
    assert {
        "Biochar Carbon Removal (BCR)",
        "Enhanced Weathering",
        "Bioenergy with Carbon Capture and Storage (BECCS)",
        "Ocean Alkalinity Enhancement",
    } <= set(methods)
    dac_share = sum(methods[m] for m in ss.DAC_METHODS) / sum(methods.values())
    assert 0.05 <= dac_share <= 0.3


def test_agreement_types_and_statuses(tables: Tables) -> None:
    agreements = Counter(o["type_of_agreement"] for o in tables["orders"])
    statuses = Counter(o["status"] for o in tables["orders"])

    assert agreements.most_common(1)[0][0] == "Credit Sale"
    assert agreements["Delivery Agreement"] > 0
    assert len(agreements) >= 3  # and a few other kinds
    assert set(statuses) == {"MOU/LOI", "Undelivered", "Partial", "Delivered"}


def test_nulls_where_the_real_data_has_them(tables: Tables) -> None:
    orders = tables["orders"]
    prices = [o["price_usd"] for o in orders]

    assert sum(p is None for p in prices) > len(orders) / 2  # prices are mostly private
    assert 0 in prices  # and some are published as 0
    assert 0 < sum(o["announcement_date"] is None for o in orders) < len(orders) * 0.02
    assert sum(o["tons_purchased"] is None for o in orders) > 0
    assert sum(p["created_at"] is None for p in tables["purchasers"]) == 2


def test_the_excluded_order_ids_appear_once_each(tables: Tables) -> None:
    ids = Counter(o["order_id"] for o in tables["orders"])

    assert [ids[i] for i in ss.EXCLUDED_ORDER_IDS] == [1, 1]


def test_one_record_per_table_is_listed_twice_across_a_page_boundary(tables: Tables) -> None:
    for table, rows in tables.items():
        id_field = ss.ID_FIELDS[table]
        repeated = [i for i, n in Counter(r[id_field] for r in rows).items() if n > 1]
        assert len(repeated) == 1, table
        positions = [k for k, r in enumerate(rows) if r[id_field] == repeated[0]]
        boundary = 10 if table == "marketplaces" else 100
        assert positions == [boundary - 1, boundary], table
        assert rows[boundary - 1] == rows[boundary]


def test_awkward_names_nested_fields_and_dangling_ids(tables: Tables) -> None:
    purchaser_names = {p["name"] for p in tables["purchasers"]}
    supplier_names = {s["name"] for s in tables["suppliers"]}
    supplier_ids = {s["supplier_id"] for s in tables["suppliers"]}
    purchaser_ids = {p["purchaser_id"] for p in tables["purchasers"]}
    orders = tables["orders"]

    assert {"Not Disclosed", "Société Générale", '"Frontier" Buyers'} <= purchaser_names
    assert "Climeworks, AG" in supplier_names
    assert any(not n.isascii() for n in supplier_names)
    assert sum("geo" in s for s in tables["suppliers"]) > 0
    assert all(set(s["geo"]) == {"lat", "lon"} for s in tables["suppliers"] if "geo" in s)
    assert sum("registry" in o for o in orders) > 0
    assert sum(o["supplier_id"] not in supplier_ids for o in orders) == 2
    assert sum(o["purchaser_id"] not in purchaser_ids for o in orders) == 1
    assert any(o["parent_id"] for o in orders)
    assert max(len(o["notes"] or "") for o in orders) <= 500
    assert max(len(s["description"] or "") for s in tables["suppliers"]) == 500


def test_the_bundled_snapshot_is_generate_at_scale_1(tables: Tables) -> None:
    path = ss.SAMPLE_DIR / ss.SNAPSHOT_FILE
    with gzip.open(path, "rt", encoding="utf-8") as f:
        document = json.load(f)

    assert set(document) == {"generated", "seed", "tables"}
    assert document["seed"] == ss.DEFAULT_SEED
    assert document["tables"] == tables  # rerun `python -m devtools.sample_snapshot` if not
    assert path.stat().st_size < 1_000_000


def test_the_bundled_front_page_carries_the_dollars_spent(tables: Tables) -> None:
    page = (ss.SAMPLE_DIR / ss.FRONT_PAGE_FILE).read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    figures = soup.find_all("h3", class_="text-primary")
    spent = [h3.get_text(strip=True) for h3 in figures if "spent on CO2 removal" in h3.find_next("p").get_text()]

    assert len(figures) == 6
    assert spent == [f"${ss.dollars_spent(tables):,}"]
    assert page == ss.front_page_html(tables)


def test_dollars_spent_exceeds_public_prices_and_the_imputed_dac_spend(tables: Tables) -> None:
    sales = [o for o in ss.counted_orders(tables) if o["type_of_agreement"] == "Credit Sale" and o["announcement_date"]]
    public = sum(o["price_usd"] or 0 for o in sales)
    dac = [o for o in sales if o["method"] in ss.DAC_METHODS]
    priced = [o for o in dac if o["price_usd"] and o["tons_purchased"]]
    average = sum(o["price_usd"] for o in priced) / sum(o["tons_purchased"] for o in priced)
    dac_spend = sum(o["price_usd"] or (o["tons_purchased"] or 0) * average for o in dac)

    # the dashboard shows both: DAC's "total spent" must not exceed ALL CDR's
    assert ss.dollars_spent(tables) > 1.3 * public
    assert ss.dollars_spent(tables) > 2 * dac_spend
    assert 10e9 < ss.dollars_spent(tables) < 40e9


def test_the_bundled_ccn_input_is_valid_per_the_contract() -> None:
    text = (ss.SAMPLE_DIR / ss.CCN_FILE).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    names = [r["company_name"] for r in rows]
    years = [int(r["year_founded"]) for r in rows]
    pathways = {r["pathway"] for r in rows}

    assert text == ss.ccn_csv(ss.ccn_companies())
    assert list(rows[0]) == ["company_name", "year_founded", "pathway", "country"]
    assert 140 <= len(rows) <= 160
    assert all(n.strip() for n in names) and len({n.casefold() for n in names}) == len(names)
    assert all(r["year_founded"].isdigit() for r in rows)
    assert min(years) // 10 == 199 and max(years) == 2026
    assert set(range(min(years), max(years) + 1)) - set(years)  # some years without a founding
    assert {"DAC", *ss.DAC_METHODS[1:], "Biochar", "BECCS"} <= pathways
    assert all(r["pathway"] for r in rows)
    assert any("," in n for n in names) and any('"' in n for n in names)
    assert any(not n.isascii() for n in names)
