"""Synthetic data shaped like today's cdr.fyi API, plus the front page and the CCN input.

``generate(scale, seed)`` returns the four API tables (orders, purchasers, suppliers,
marketplaces) as lists of JSON-ready dicts whose keys are the API field names of
``docs/cdr-fyi.md``. The numbers follow the documented volumes: at scale 1 about 500 purchasers,
120 suppliers, 30 marketplaces and 3000 orders announced from 2019 to November 2026, tonnage
growing about 3x a year (about 43 Mt sold by the end of 2025, about 1 Mt of it delivered).

The data is deliberately awkward in the ways the real data is: private (null) and zero prices,
unknown tons, orders without an announcement date, a "Not Disclosed" purchaser, names with
commas, quotes and non-ASCII characters, a few nested objects (``geo`` on some suppliers,
``registry`` on some orders), orders pointing at suppliers or purchasers that are not in their
table, the two order ids the dashboard excludes, and in every table one record listed twice, on
both sides of a page boundary, as happens when a row shifts while a client pages through.

Everything is deterministic for a given seed: one ``random.Random(seed)``, and "today" is fixed.

Run ``python -m devtools.sample_snapshot`` to (re)write the bundled files in
``cdr_dagster/sample_data/``: the gzipped snapshot, an imitation of cdr.fyi's front page carrying
the dollars-spent figure, and a Circular Carbon Network companies CSV.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import html
import io
import json
import math
import random
import unicodedata
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cdr_dagster.cdr_fyi.schema import ID_COLUMNS
from cdr_dagster.domain.transforms import rules
from cdr_dagster.domain.transforms.rules import DAC_METHODS
from cdr_dagster.sample_data import CCN_COMPANIES_FILE, FRONT_PAGE_FILE, SNAPSHOT_FILE

TODAY = date(2026, 11, 23)
GENERATED_AT = "2026-11-23T06:00:00Z"
DEFAULT_SEED = 2026
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "cdr_dagster" / "sample_data"
CCN_FILE = CCN_COMPANIES_FILE

ID_FIELDS: dict[str, str] = dict(ID_COLUMNS)
# sorted: generation iterates over them, and must stay deterministic
EXCLUDED_ORDER_IDS: tuple[str, ...] = tuple(sorted(rules.EXCLUDED_ORDER_IDS))
NOT_DISCLOSED = "Not Disclosed"

# Entity counts at scale 1 (before the one duplicated record per table).
BASE_COUNTS: dict[str, int] = {"purchasers": 500, "suppliers": 120, "marketplaces": 30}

# Per announcement year at scale 1: (orders, tonnes sold, share of those tonnes delivered by now).
# Tonnes triple every year: 0.02+0.08+0.3+0.9+2.7+9+30 = 43 Mt by end-2025, ~1 Mt delivered.
YEARS: dict[int, tuple[int, float, float]] = {
    2019: (20, 20_000, 0.90),
    2020: (60, 80_000, 0.80),
    2021: (150, 300_000, 0.50),
    2022: (350, 900_000, 0.30),
    2023: (550, 2_700_000, 0.10),
    2024: (700, 9_000_000, 0.025),
    2025: (650, 30_000_000, 0.004),
    2026: (520, 75_000_000, 0.0005),  # January to "today", 2026-11-23
}

# Method -> (share of suppliers, typical USD per tonne, durability in years).
METHODS: dict[str, tuple[float, float, int]] = {
    "Biochar Carbon Removal (BCR)": (30, 150, 1000),
    "Enhanced Weathering": (14, 320, 10000),
    "Bioenergy with Carbon Capture and Storage (BECCS)": (10, 340, 10000),
    "DAC": (6, 650, 10000),
    "Direct Air Carbon Capture and Storage (DACCS)": (6, 700, 10000),
    "Direct Air Carbon Capture and Sequestration (DACCS)": (4, 600, 10000),
    "Ocean Alkalinity Enhancement": (6, 420, 10000),
    "Direct Ocean Removal": (3, 520, 10000),
    "Biomass Burial": (6, 140, 1000),
    "Bio-oil Sequestration": (3, 560, 10000),
    "Mineralization": (6, 380, 10000),
    "Marine Biomass Sinking": (3, 300, 1000),
    "Microalgae": (2, 450, 100),
}

MAX_ORDER_TONS = 7_000_000  # the largest deals announced so far are a few Mt
DAC_TONNAGE_FACTOR = 0.5  # DAC orders are smaller than the average order

AGREEMENT_TYPES: tuple[tuple[str, float], ...] = (
    ("Credit Sale", 85),
    ("Delivery Agreement", 10),
    ("Offtake Agreement", 3),
    ("Resale", 2),
)

CITIES: tuple[tuple[str, str, float, float], ...] = (
    ("Zürich", "Switzerland", 47.37, 8.54),
    ("Montréal", "Canada", 45.50, -73.57),
    ("Toronto", "Canada", 43.65, -79.38),
    ("Calgary", "Canada", 51.05, -114.07),
    ("São Paulo", "Brazil", -23.55, -46.63),
    ("København", "Denmark", 55.68, 12.57),
    ("Reykjavík", "Iceland", 64.15, -21.94),
    ("Oslo", "Norway", 59.91, 10.75),
    ("Stockholm", "Sweden", 59.33, 18.07),
    ("Helsinki", "Finland", 60.17, 24.94),
    ("Berlin", "Germany", 52.52, 13.40),
    ("München", "Germany", 48.14, 11.58),
    ("Paris", "France", 48.86, 2.35),
    ("Amsterdam", "Netherlands", 52.37, 4.90),
    ("London", "United Kingdom", 51.51, -0.13),
    ("San Francisco", "United States", 37.77, -122.42),
    ("New York", "United States", 40.71, -74.01),
    ("Austin", "United States", 30.27, -97.74),
    ("Seattle", "United States", 47.61, -122.33),
    ("Nairobi", "Kenya", -1.29, 36.82),
    ("Bengaluru", "India", 12.97, 77.59),
    ("Tokyo", "Japan", 35.68, 139.69),
    ("Sydney", "Australia", -33.87, 151.21),
)

# Hand-picked awkward names, placed first in their tables.
SPECIAL_PURCHASERS: tuple[str, ...] = (
    NOT_DISCLOSED,
    "Société Générale",
    '"Frontier" Buyers',
    "Müller & Söhne GmbH",
    "Banco Itaú, S.A.",
    "東京カーボン株式会社",
    "O'Brien Logistics, Ltd.",
)
# (name, method): the three DAC spellings first, so that each one has orders at any scale.
SPECIAL_SUPPLIERS: tuple[tuple[str, str], ...] = (
    ("Climeworks, AG", "Direct Air Carbon Capture and Storage (DACCS)"),
    ("Skyward Direct Air, Inc.", "DAC"),
    ("Nordluft Carbon Sequestration AS", "Direct Air Carbon Capture and Sequestration (DACCS)"),
    ("Björnkol AB", "Biochar Carbon Removal (BCR)"),
    ('The "Rock" Weathering Co.', "Enhanced Weathering"),
    ("Carbón Azul S.A.", "Ocean Alkalinity Enhancement"),
)
SPECIAL_MARKETPLACES: tuple[str, ...] = ("Removal Exchange, Inc.", "Marché du Carbone Durable")

_PREFIXES = (
    "Terra",
    "Aero",
    "Basalt",
    "Blue",
    "Deep",
    "Nord",
    "Kelp",
    "Char",
    "Mineral",
    "Atmos",
    "Sky",
    "Stone",
    "Ocean",
    "Alpine",
    "Carbon",
    "Verde",
    "Lithos",
    "Boreal",
    "Tidal",
    "Granite",
    "Aurora",
    "Humus",
    "Silica",
    "Cedar",
    "Prairie",
    "Volcan",
    "Glacier",
    "Delta",
    "Summit",
    "Pyro",
    "Olivine",
    "Marine",
    "Solid",
    "Clear",
    "True",
    "Arctic",
    "Mangrove",
    "Hekla",
)
_SUPPLIER_SUFFIXES = (
    "Capture",
    "Removal",
    "Works",
    "Labs",
    "Systems",
    "Earth",
    "Climate",
    "Carbon",
    "Sink",
    "Cycle",
    "Minerals",
    "Char",
    "Air",
    "Sequestration",
    "Technologies",
)
_LEGAL = ("", "", "", " Inc.", " GmbH", " AB", " Ltd", " S.A.", " AS", " B.V.", " Oy", " PBC")
_BUYER_FIRST = (
    "Northwind",
    "Blue Harbor",
    "Silverline",
    "Evergreen",
    "Granite Peak",
    "Redwood",
    "Lakeside",
    "Brightwater",
    "Summit",
    "Ironbridge",
    "Maple",
    "Harborview",
    "Crescent",
    "Pinecrest",
    "Goldfield",
    "Westbrook",
    "Eastgate",
    "Riverstone",
    "Starling",
    "Oakmont",
    "Bluebird",
    "Meridian",
    "Horizon",
    "Kestrel",
    "Sable",
    "Copperleaf",
    "Highland",
    "Seabright",
    "Foxglove",
    "Larkspur",
    "Nimbus",
    "Cobalt",
    "Juniper",
    "Wildflower",
    "Atlas",
    "Helios",
)
_BUYER_SECOND = (
    "Capital",
    "Airlines",
    "Software",
    "Logistics",
    "Bank",
    "Foods",
    "Apparel",
    "Energy",
    "Insurance",
    "Media",
    "Analytics",
    "Payments",
    "Shipping",
    "Games",
    "Consulting",
    "Partners",
    "Retail",
    "Health",
    "Motors",
    "Cloud",
    "Travel",
    "Studios",
    "Brewing",
    "Outdoor",
)
_MARKET_WORDS = (
    "Carbon",
    "Removal",
    "CDR",
    "Climate",
    "Offset",
    "Credit",
    "Tonne",
    "Sink",
    "Net Zero",
    "Durable",
)
_MARKET_SUFFIXES = ("Exchange", "Market", "Hub", "Registry Market", "Platform", "Marketplace")

DELIVERY_STATUS_SOURCES = ("Registry", "Supplier", "Purchaser", "cdr.fyi estimate")
VERIFICATION_SOURCES = (
    "Puro.earth",
    "Isometric",
    "Rainbow",
    "CSI Global",
    "Verra",
    "Gold Standard",
)
SOURCE_TYPES = ("Press Release", "Registry", "Supplier Submission", "Purchaser Submission", "News")

DESCRIPTION_500 = (
    "Builds modular units that pull CO2 out of ambient air, concentrate it and hand it over for "
    'permanent storage in basalt; the company says its "second-generation" sorbent, tested in '
    "Iceland, Kenya and Québec, cuts energy use by a third, and that every tonne is measured, "
    "reported and verified by an independent registry before any credit is issued, sold or "
    "retired. It sells to corporate buyers, governments and marketplaces, and publishes its "
    "life-cycle analysis, including embodied emissions, yearly."
)

# Order notes, some with commas, quotes, non-ASCII text and a line break.
NOTES = (
    "Part of a multi-year offtake; first deliveries expected after commissioning.",
    'Buyer describes the deal as "the largest of its kind" in its region.',
    "Price disclosed by the supplier, per the announcement, excluding fees.",
    "Livraison prévue en plusieurs tranches, selon l'avancement du projet.",
    "Announced at a conference;\nvolume confirmed later by the purchaser.",
    "Resold credits, originally purchased through a marketplace.",
)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _num(value: float, digits: int) -> int | float:
    """Round, and return an int when the value is whole, as a JSON API would print it."""
    rounded = round(value, digits)
    return int(rounded) if rounded == int(rounded) else rounded


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in ascii_name.lower()).split()
    return "-".join(words) or "company"


def _unique_names(rng: random.Random, count: int, special: tuple[str, ...], make: Callable[[random.Random], str]) -> list[str]:
    """``count`` distinct names: the special ones first, then ones built by ``make(rng)``."""
    names = list(special[:count])
    seen = {n.casefold() for n in names}
    attempt = 0
    while len(names) < count:
        name = make(rng)
        attempt += 1
        if attempt > 50 * count:  # word lists exhausted: number the rest
            name = f"{name} {len(names)}"
        if name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


def _supplier_name(rng: random.Random) -> str:
    prefix, suffix = rng.choice(_PREFIXES), rng.choice(_SUPPLIER_SUFFIXES)
    joined = f"{prefix}{suffix.lower()}" if rng.random() < 0.4 else f"{prefix} {suffix}"
    return joined + rng.choice(_LEGAL)


def _purchaser_name(rng: random.Random) -> str:
    return f"{rng.choice(_BUYER_FIRST)} {rng.choice(_BUYER_SECOND)}{rng.choice(_LEGAL)}"


def _marketplace_name(rng: random.Random) -> str:
    return f"{rng.choice(_MARKET_WORDS)} {rng.choice(_MARKET_SUFFIXES)}"


def _entity(
    rng: random.Random,
    kind: str,
    name: str,
    founded: tuple[int, int],
    verified_share: float,
) -> dict[str, Any]:
    """One purchaser, supplier or marketplace record (``methods`` is filled in later)."""
    slug = _slug(name)
    city, country, _, _ = rng.choice(CITIES)
    has_geo = rng.random() < 0.85
    return {
        f"{kind}_id": _uuid(rng),
        "name": name,
        "methods": None,
        "website": f"https://www.{slug}.com" if rng.random() < 0.9 else None,
        "logo": f"https://cdn.cdr.fyi/logos/{slug}.png" if rng.random() < 0.7 else None,
        "slug": slug,
        "tagline": rng.choice(
            (None, "Durable carbon removal, at scale.", "Removing CO2, one tonne at a time.", "Net zero, for real.")
        ),
        "description": rng.choice(
            (
                None,
                f"{name} works on climate, carbon removal and supply chains.",
                f'{name} calls itself a "climate-first" company, with offices in {city}.',
            )
        ),
        "year_founded": rng.randint(*founded) if rng.random() < 0.8 else None,
        "geo_city": city if has_geo else None,
        "geo_country": country if has_geo else None,
        "twitter": f"@{slug.replace('-', '')[:15]}" if rng.random() < 0.5 else None,
        "is_verified": rng.random() < verified_share,
    }


def _announcement_day(rng: random.Random, year: int) -> date:
    """A day in ``year``, denser late in the year (the market grows ~3x a year)."""
    start = date(year, 1, 1)
    end = min(date(year, 12, 31), TODAY)
    fraction = math.log(1 + rng.random() * 2) / math.log(3)  # density proportional to 3**t
    return start + timedelta(days=round(fraction * (end - start).days))


def _cover_then_zipf(
    rng: random.Random,
    n_items: int,
    n_targets: int,
    covered: int,
    boost: list[float] | None = None,
) -> list[int]:
    """For each of ``n_items`` a target index: the first ``covered`` targets once each (in
    random positions), the rest drawn with Zipf-like weights (a few big buyers or sellers),
    times ``boost`` per target if given."""
    covered = min(covered, n_items, n_targets)
    ranks = list(range(n_targets))
    rng.shuffle(ranks)  # who is big is random, not the order of the table
    weights = [1 / (rank + 1) ** 0.9 for rank in ranks]
    if boost:
        weights = [w * b for w, b in zip(weights, boost, strict=True)]
    picks = list(range(covered)) + rng.choices(range(n_targets), weights, k=n_items - covered)
    rng.shuffle(picks)
    return picks


def _mark_deliveries(rng: random.Random, orders: list[dict[str, Any]], target: float) -> None:
    """Set status, tons_delivered and delivery fields so ~``target`` tonnes are delivered,
    preferring small orders (they deliver first in real life)."""
    ranked = sorted(
        (o for o in orders if o["tons_purchased"] is not None),
        key=lambda o: o["tons_purchased"] * rng.lognormvariate(0, 1.5),
    )
    remaining = target
    for order in ranked:
        tons = order["tons_purchased"]
        if 0 < tons <= remaining:
            partial = rng.random() < 0.15
            delivered = _num(tons * rng.uniform(0.05, 0.9), 1) if partial else tons
            remaining -= delivered
            verified = rng.random() < 0.7
            order.update(
                status="Partial" if partial else "Delivered",
                tons_delivered=delivered,
                delivery_verified=verified,
                delivery_status_source=rng.choice(DELIVERY_STATUS_SOURCES),
                delivery_verification_source=rng.choice(VERIFICATION_SOURCES) if verified else None,
            )
            if verified and rng.random() < 0.1:  # a nested object, to exercise flattening
                order["registry"] = {
                    "name": order["delivery_verification_source"],
                    "serial_prefix": f"CDR-{rng.randint(10000, 99999)}",
                }


def _tonnages(weights: list[float], agreements: list[str], target: float) -> list[float]:
    """Tonnes per order, proportional to ``weights``, the credit sales (the official volume)
    summing to ``target``, no order above ``MAX_ORDER_TONS`` (the biggest real deals)."""
    capped: set[int] = set()
    while True:
        free = sum(w for i, (w, a) in enumerate(zip(weights, agreements, strict=False)) if a == "Credit Sale" and i not in capped)
        left = target - MAX_ORDER_TONS * sum(agreements[i] == "Credit Sale" for i in capped)
        factor = left / free if free > 0 else 0.0
        over = {i for i, w in enumerate(weights) if i not in capped and w * factor > MAX_ORDER_TONS}
        if not over or factor <= 0:
            break
        capped |= over
    return [MAX_ORDER_TONS if i in capped else w * factor for i, w in enumerate(weights)]


def _orders(
    rng: random.Random,
    scale: float,
    purchasers: list[dict[str, Any]],
    suppliers: list[dict[str, Any]],
    marketplaces: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """All orders: who sells to whom first, then tonnes and dates year by year."""
    per_year = {year: max(1, round(count * scale)) for year, (count, _, _) in YEARS.items()}
    n_orders = sum(per_year.values())
    # ~95% of purchasers have at least one order; the rest only exist in the purchasers table.
    buyer_of = _cover_then_zipf(rng, n_orders, len(purchasers), round(len(purchasers) * 0.95))
    # DAC suppliers sell fewer orders than biochar or weathering ones.
    dac_damping = [0.3 if s["methods"][0] in DAC_METHODS else 1.0 for s in suppliers]
    seller_of = _cover_then_zipf(rng, n_orders, len(suppliers), len(suppliers), dac_damping)
    methods = []
    for s in seller_of:
        offered = suppliers[s]["methods"]
        methods.append(offered[0] if len(offered) == 1 or rng.random() < 0.9 else offered[1])

    orders: list[dict[str, Any]] = []
    for year, (_, tons_target, delivered_share) in YEARS.items():
        first, n = len(orders), per_year[year]
        # DAC deals are smaller: the mega-deals are BECCS, biochar, weathering.
        weights = [
            rng.lognormvariate(0, 2.0) * (DAC_TONNAGE_FACTOR if m in DAC_METHODS else 1.0) for m in methods[first : first + n]
        ]
        agreements = rng.choices([t for t, _ in AGREEMENT_TYPES], [w for _, w in AGREEMENT_TYPES], k=n)
        year_orders: list[dict[str, Any]] = []
        for tons, agreement in zip(_tonnages(weights, agreements, tons_target * scale), agreements, strict=True):
            day = _announcement_day(rng, year)
            years_to_deliver = rng.randint(1, 3) if tons < 10_000 else rng.randint(3, 12)
            deadline = date(year + years_to_deliver, 12, 31).isoformat()
            year_orders.append(
                {
                    "order_id": _uuid(rng),
                    "purchaser_id": None,
                    "supplier_id": None,
                    "marketplace_id": None,
                    "status": "MOU/LOI" if rng.random() < 0.08 else "Undelivered",
                    "delivery_status_source": rng.choice((None, "Supplier", "Purchaser")),
                    "delivery_verified": False,
                    "delivery_forecast": None,
                    "delivery_verification_source": None,
                    "method": methods[first + len(year_orders)],
                    "tons_purchased": _num(tons, 1) if tons < 1000 else _num(tons, 0),
                    "price_usd": None,
                    "latest_delivery_date": deadline if rng.random() < 0.8 else None,
                    "durability_years": None,
                    "announcement_date": day.isoformat(),
                    "announcement_link": None,
                    "source_type": rng.choice(SOURCE_TYPES),
                    "notes": rng.choice(NOTES) if rng.random() < 0.08 else None,
                    "parent_id": None,
                    "tons_delivered": 0 if rng.random() < 0.9 else None,
                    "type_of_agreement": agreement,
                }
            )
        sales = [o for o in year_orders if o["type_of_agreement"] == "Credit Sale"]
        _mark_deliveries(rng, sales, tons_target * scale * delivered_share)
        orders.extend(year_orders)

    for order, b, s in zip(orders, buyer_of, seller_of, strict=True):
        supplier = suppliers[s]
        order["purchaser_id"] = purchasers[b]["purchaser_id"]
        order["supplier_id"] = supplier["supplier_id"]
        _, usd_per_tonne, durability = METHODS[order["method"]]
        order["durability_years"] = durability if rng.random() < 0.95 else None
        tons = order["tons_purchased"]
        # Prices are public mostly for small orders; big deals keep them private.
        public_price = rng.random() < (0.5 if tons < 1_000 else 0.25 if tons < 50_000 else 0.04)
        if public_price:
            price = tons * usd_per_tonne * rng.lognormvariate(0, 0.35)
            order["price_usd"] = 0 if rng.random() < 0.02 else _num(price, 2)
        if rng.random() < 0.3:
            order["marketplace_id"] = rng.choice(marketplaces)["marketplace_id"]
        if order["status"] != "Delivered" and order["latest_delivery_date"] and rng.random() < 0.5:
            order["delivery_forecast"] = order["latest_delivery_date"]
        if rng.random() < 0.85:
            slug = supplier["slug"]
            order["announcement_link"] = f"https://www.{slug}.com/news/{order['announcement_date']}"

    _link_parents(rng, orders)
    _add_awkward_orders(rng, orders, purchasers)
    rng.shuffle(orders)  # the API promises no particular order
    return orders


def _link_parents(rng: random.Random, orders: list[dict[str, Any]]) -> None:
    """Delivery agreements and resales point at an earlier credit sale of the same supplier."""
    sales: dict[str, list[dict[str, Any]]] = {}
    for order in sorted(orders, key=lambda o: o["announcement_date"]):
        if order["type_of_agreement"] == "Credit Sale":
            sales.setdefault(order["supplier_id"], []).append(order)
        elif sales.get(order["supplier_id"]) and rng.random() < 0.7:
            order["parent_id"] = rng.choice(sales[order["supplier_id"]])["order_id"]


def _add_awkward_orders(rng: random.Random, orders: list[dict[str, Any]], purchasers: list[dict[str, Any]]) -> None:
    """Nulls and oddities the real data has, and the two ids the dashboard excludes."""
    for order in rng.sample(orders, max(1, len(orders) // 150)):
        order["announcement_date"] = None  # cannot be placed in time
        order["announcement_link"] = None
    small = [o for o in orders if o["tons_purchased"] < 10_000]
    for order in rng.sample(small, min(len(small), max(1, len(orders) // 60))):
        order["tons_purchased"] = None  # unknown tonnage (small undisclosed deals)
        order["price_usd"] = None
        order["tons_delivered"] = None
    not_disclosed = purchasers[0]["purchaser_id"]
    for order in rng.sample(orders, max(1, len(orders) // 20)):
        order["purchaser_id"] = not_disclosed  # many buyers stay anonymous

    # The two excluded ids: a DAC prepay and a deal cdr.fyi reclassified (dated, mid-sized).
    dated = [o for o in orders if o["announcement_date"] and o["tons_purchased"]]
    mid = [o for o in dated if o["tons_purchased"] < 100_000] or orders
    dac_sales = [o for o in mid if o["method"] in DAC_METHODS and o["type_of_agreement"] == "Credit Sale"]
    prepay = rng.choice(dac_sales or mid)
    rest = [o for o in mid if o is not prepay] or [o for o in orders if o is not prepay]
    reclassified = rng.choice([o for o in rest if o["method"] not in DAC_METHODS] or rest)
    prepay.update(order_id=EXCLUDED_ORDER_IDS[0], notes="Prepayment, not a delivery contract.")
    reclassified.update(order_id=EXCLUDED_ORDER_IDS[1], notes="Reclassified by cdr.fyi.")

    # Orders pointing at a supplier (two) or a purchaser (one) that is not in its table.
    pool = [o for o in dated if o is not prepay and o is not reclassified]
    dangling = rng.sample(pool, min(3, len(pool)))
    for order, field in zip(dangling, ("supplier_id", "supplier_id", "purchaser_id"), strict=False):
        order[field] = _uuid(rng)


def _duplicate_across_page_boundary(rows: list[dict[str, Any]], id_field: str) -> None:
    """List one record twice, at the end of one page and the start of the next (for page sizes
    10 and 100), as when a row shifts while a client pages through."""
    boundary = 100 if len(rows) > 100 else 10 if len(rows) > 10 else len(rows)
    index = boundary - 1
    while rows[index][id_field] in EXCLUDED_ORDER_IDS:
        index -= 1
    rows.insert(boundary, dict(rows[index]))


def _purchaser_created_at(rng: random.Random, purchasers: list[dict[str, Any]], orders: list[dict[str, Any]]) -> None:
    """``created_at``: when the record was created on cdr.fyi (launched in 2022), shortly after
    the purchaser's first announced order; two purchasers with no order have none."""
    first: dict[str, str] = {}
    for order in orders:
        day = order["announcement_date"]
        pid = order["purchaser_id"]
        if day and (pid not in first or day < first[pid]):
            first[pid] = day
    launch = date(2022, 3, 1)
    no_order = [p for p in purchasers if p["purchaser_id"] not in first]
    for purchaser in purchasers:
        day = first.get(purchaser["purchaser_id"])
        if day is None:
            created = launch + timedelta(days=rng.randint(0, (TODAY - launch).days))
        else:
            created = max(date.fromisoformat(day), launch) + timedelta(days=rng.randint(0, 90))
        created = min(created, TODAY)
        stamp = datetime(created.year, created.month, created.day, tzinfo=UTC) + timedelta(
            seconds=rng.randint(0, 86_399), milliseconds=rng.randint(0, 999)
        )
        purchaser["created_at"] = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for purchaser in no_order[:2]:
        purchaser["created_at"] = None


def _fill_methods(entities: list[dict[str, Any]], id_field: str, orders: list[dict[str, Any]]) -> None:
    """Purchasers' and marketplaces' ``methods``: the methods of their orders."""
    methods: dict[str, set[str]] = {}
    for order in orders:
        if order.get(id_field) and order["method"]:
            methods.setdefault(order[id_field], set()).add(order["method"])
    for entity in entities:
        found = methods.get(entity[id_field])
        entity["methods"] = sorted(found) if found else None


def generate(scale: float = 1.0, seed: int = DEFAULT_SEED) -> dict[str, list[dict[str, Any]]]:
    """The four cdr.fyi tables as the API would list them, deterministic for ``seed``.

    ``scale`` multiplies every count (and the tonnage), e.g. 10 for benchmarks. Each table has
    ``round(base * scale)`` distinct records plus one listed twice; orders keep their per-year
    counts (3000 at scale 1).
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    rng = random.Random(seed)
    count = {table: max(3, round(base * scale)) for table, base in BASE_COUNTS.items()}

    method_names = list(METHODS)
    method_weights = [share for share, _, _ in METHODS.values()]
    supplier_names = _unique_names(rng, count["suppliers"], tuple(n for n, _ in SPECIAL_SUPPLIERS), _supplier_name)
    suppliers = []
    for i, name in enumerate(supplier_names):
        supplier = _entity(rng, "supplier", name, (2008, 2025), 0.6)
        if i < len(SPECIAL_SUPPLIERS):
            supplier["methods"] = [SPECIAL_SUPPLIERS[i][1]]
        else:
            primary = rng.choices(method_names, method_weights)[0]
            second = rng.choices(method_names, method_weights)[0]
            has_second = second != primary and rng.random() < 0.2
            supplier["methods"] = [primary, second] if has_second else [primary]
        if supplier["geo_city"] and rng.random() < 0.1:  # a nested object, to test flattening
            lat, lon = next((c[2], c[3]) for c in CITIES if c[0] == supplier["geo_city"])
            supplier["geo"] = {"lat": lat, "lon": lon}
        suppliers.append(supplier)
    suppliers[0]["description"] = DESCRIPTION_500  # at the documented maximum length

    purchasers = [
        _entity(rng, "purchaser", name, (1850, 2024), 0.3)
        for name in _unique_names(rng, count["purchasers"], SPECIAL_PURCHASERS, _purchaser_name)
    ]
    placeholder = purchasers[0]
    placeholder.update(
        website=None,
        logo=None,
        tagline=None,
        description=None,
        year_founded=None,
        geo_city=None,
        geo_country=None,
        twitter=None,
        is_verified=False,
    )
    marketplaces = [
        _entity(rng, "marketplace", name, (2015, 2024), 0.5)
        for name in _unique_names(rng, count["marketplaces"], SPECIAL_MARKETPLACES, _marketplace_name)
    ]

    orders = _orders(rng, scale, purchasers, suppliers, marketplaces)
    _purchaser_created_at(rng, purchasers, orders)
    _fill_methods(purchasers, "purchaser_id", orders)
    _fill_methods(marketplaces, "marketplace_id", orders)

    tables = {
        "orders": orders,
        "purchasers": purchasers,
        "suppliers": suppliers,
        "marketplaces": marketplaces,
    }
    for table, rows in tables.items():
        _duplicate_across_page_boundary(rows, ID_FIELDS[table])
    return tables


def unique_rows(rows: list[dict[str, Any]], id_field: str) -> list[dict[str, Any]]:
    """Rows with each id once (first occurrence), as the pipeline keeps them."""
    seen: set[str] = set()
    kept = []
    for row in rows:
        if row[id_field] not in seen:
            seen.add(row[id_field])
            kept.append(row)
    return kept


def dollars_spent(tables: dict[str, list[dict[str, Any]]]) -> int:
    """The front page's figure. cdr.fyi computes it with private prices, so it "cannot be
    reconstructed with public data": here, the credit sales' public prices plus every other
    credit sale valued at its method's typical price per tonne (less for big deals).

    (1.3x the public prices alone would fall below the DAC spend the dashboard imputes, since
    most tonnage, DAC included, has no public price.)
    """
    total = 0.0
    sales = [o for o in counted_orders(tables) if o["type_of_agreement"] == "Credit Sale"]
    for order in sales:
        tons = order["tons_purchased"] or 0
        if order["price_usd"]:
            total += order["price_usd"]
        elif order["method"] in METHODS:
            discount = 0.4 if tons >= 1_000_000 else 0.6 if tons >= 100_000 else 1.0
            total += tons * METHODS[order["method"]][1] * discount
    return round(total)


def counted_orders(tables: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Orders as the dashboard counts them: each id once, without the two excluded ids."""
    return [o for o in unique_rows(tables["orders"], "order_id") if o["order_id"] not in EXCLUDED_ORDER_IDS]


def front_page_html(tables: dict[str, list[dict[str, Any]]]) -> str:
    """A small imitation of cdr.fyi's front page (Tailwind-style markup).

    Several ``<h3 class="text-primary ...">`` figures; the dollars spent is the one whose next
    ``<p>`` says "spent on CO2 removal". A "$" decoy (average price) comes before it.
    """
    orders = counted_orders(tables)
    sales = [o for o in orders if o["type_of_agreement"] == "Credit Sale"]
    sold = sum(o["tons_purchased"] or 0 for o in sales)
    delivered = sum(o["tons_delivered"] or 0 for o in sales)
    priced = [o for o in sales if o["price_usd"] and o["tons_purchased"]]
    avg_price = sum(o["price_usd"] for o in priced) / sum(o["tons_purchased"] for o in priced)
    n_purchasers = len(unique_rows(tables["purchasers"], "purchaser_id"))
    n_suppliers = len(unique_rows(tables["suppliers"], "supplier_id"))

    names = {p["purchaser_id"]: p["name"] for p in tables["purchasers"]} | {
        s["supplier_id"]: s["name"] for s in tables["suppliers"]
    }
    latest = sorted((o for o in orders if o["announcement_date"]), key=lambda o: o["announcement_date"], reverse=True)[:5]
    rows = "\n".join(
        f'          <tr class="border-b border-gray-100">'
        f'<td class="py-2">{o["announcement_date"]}</td>'
        f'<td class="py-2">{html.escape(names.get(o["purchaser_id"], "Unknown Purchaser"))}</td>'
        f'<td class="py-2">{html.escape(names.get(o["supplier_id"], "Unknown Supplier"))}</td>'
        f'<td class="py-2 text-right">{(o["tons_purchased"] or 0):,.0f}</td>'
        f'<td class="py-2">{html.escape(o["method"] or "")}</td></tr>'
        for o in latest
    )

    def stat(value: str, label: str, classes: str = "text-primary text-3xl font-semibold") -> str:
        return (
            '        <div class="rounded-xl border border-gray-200 p-6 shadow-sm">\n'
            f'          <h3 class="{classes}">{value}</h3>\n'
            f'          <p class="mt-1 text-sm text-gray-500">{label}</p>\n'
            "        </div>"
        )

    stats = "\n".join(
        (
            stat(f"{sold:,.0f}", "tonnes of CO2 removal sold"),
            stat(f"{delivered:,.0f}", "tonnes of CO2 removal delivered"),
            stat(f"${avg_price:,.0f}", "average price per tonne (public prices)"),
            stat(f"\n            ${dollars_spent(tables):,}\n          ", "spent on CO2 removal", classes="text-primary"),
            stat(f"{n_purchasers:,}", "purchasers"),
            stat(f"{n_suppliers:,}", "suppliers"),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>CDR.fyi | Carbon Removal Market Data</title>
    <meta name="description" content="Open data on the durable carbon dioxide removal market.">
    <link rel="stylesheet" href="/_next/static/css/3f1c2a9e8b7d6c5f.css">
  </head>
  <body class="bg-white font-sans text-gray-900 antialiased">
    <header class="sticky top-0 z-10 border-b border-gray-200 bg-white/80 backdrop-blur">
      <nav class="mx-auto flex max-w-7xl items-center justify-between px-6 py-4">
        <a href="/" class="text-xl font-bold">CDR.fyi</a>
        <div class="flex gap-6 text-sm">
          <a href="/leaderboards">Leaderboards</a><a href="/marketplace">Marketplace</a>
          <a href="/docs/methodology">Methodology</a><a href="https://docs.cdr.fyi">API</a>
        </div>
      </nav>
    </header>
    <main>
      <section class="mx-auto max-w-7xl px-6 py-16">
        <h1 class="text-4xl font-bold tracking-tight sm:text-5xl">The carbon removal market, in numbers</h1>
        <p class="mt-4 max-w-2xl text-lg text-gray-600">Durable CDR purchases and deliveries, from public records, market participants and registries.</p>
      </section>
      <section class="mx-auto grid max-w-7xl grid-cols-2 gap-6 px-6 md:grid-cols-3">
{stats}
      </section>
      <section class="mx-auto max-w-7xl px-6 py-16">
        <h2 class="text-2xl font-semibold">Latest deals</h2>
        <table class="mt-6 w-full text-left text-sm">
          <thead><tr><th>Date</th><th>Purchaser</th><th>Supplier</th><th class="text-right">Tonnes</th><th>Method</th></tr></thead>
          <tbody>
{rows}
          </tbody>
        </table>
      </section>
    </main>
    <footer class="border-t border-gray-200 py-8 text-center text-xs text-gray-500">
      <p>Units are metric tonnes of CO2. Only durable carbon removal is tracked.</p>
      <p>&copy; 2026 CDR.fyi</p>
    </footer>
    <script id="__NEXT_DATA__" type="application/json">{{"props":{{"pageProps":{{}}}},"page":"/","buildId":"sample"}}</script>
  </body>
</html>
"""


# CCN: companies founded per year (1990s to 2026, with gap years early on).
CCN_YEAR_COUNTS: dict[int, int] = {
    1992: 1,
    1995: 1,
    1998: 1,
    2001: 1,
    2003: 1,
    2005: 1,
    2007: 1,
    2008: 1,
    2009: 1,
    2010: 2,
    2011: 1,
    2012: 2,
    2013: 2,
    2014: 3,
    2015: 4,
    2016: 5,
    2017: 6,
    2018: 8,
    2019: 11,
    2020: 16,
    2021: 22,
    2022: 24,
    2023: 18,
    2024: 12,
    2025: 7,
    2026: 3,
}
CCN_PATHWAYS: tuple[tuple[str, float], ...] = (
    ("DAC", 10),
    ("Direct Air Carbon Capture and Storage (DACCS)", 6),
    ("Direct Air Carbon Capture and Sequestration (DACCS)", 3),
    ("Biochar", 25),
    ("BECCS", 10),
    ("Enhanced Weathering", 14),
    ("Ocean Alkalinity Enhancement", 7),
    ("Mineralization", 8),
    ("Biomass Burial", 6),
    ("Direct Ocean Capture", 4),
    ("CO2 Utilization", 7),
)
# Awkward names (commas, quotes, non-ASCII) and their pathways.
SPECIAL_CCN: dict[str, str] = {
    "Climeworks, AG": "Direct Air Carbon Capture and Storage (DACCS)",
    'Carbon "Rock" Labs': "Enhanced Weathering",
    "Kohlenstoff, Müller & Co. KG": "Biochar",
    "Écorce Carbone": "Biomass Burial",
    "Þór Carbon ehf.": "DAC",
}


def ccn_companies(seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """The Circular Carbon Network input: one row per company (valid per the contract)."""
    rng = random.Random(seed + 1)
    total = sum(CCN_YEAR_COUNTS.values())
    names = _unique_names(rng, total, tuple(SPECIAL_CCN), _supplier_name)
    rng.shuffle(names)
    years = [year for year, n in CCN_YEAR_COUNTS.items() for _ in range(n)]
    pathways = rng.choices([p for p, _ in CCN_PATHWAYS], [w for _, w in CCN_PATHWAYS], k=total)
    rows = [
        {"company_name": name, "year_founded": year, "pathway": SPECIAL_CCN.get(name, pathway), "country": rng.choice(CITIES)[1]}
        for name, year, pathway in zip(names, years, pathways, strict=True)
    ]
    return sorted(rows, key=lambda r: (r["year_founded"], r["company_name"]))


def ccn_csv(rows: list[dict[str, Any]]) -> str:
    """The CCN rows as the CSV a person would drop in (header, comma separated, UTF-8)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=["company_name", "year_founded", "pathway", "country"],
        lineterminator="\n",
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def snapshot_bytes(tables: dict[str, list[dict[str, Any]]], seed: int) -> bytes:
    """The gzipped snapshot document (compact JSON, reproducible bytes: gzip mtime 0)."""
    document = {"generated": GENERATED_AT, "seed": seed, "tables": tables}
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return gzip.compress(raw, compresslevel=9, mtime=0)


def load_snapshot(path: Path = SAMPLE_DIR / SNAPSHOT_FILE) -> dict[str, list[dict[str, Any]]]:
    """The tables of a snapshot file written by this module."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)["tables"]


def write_sample_files(out_dir: Path = SAMPLE_DIR, scale: float = 1.0, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write the snapshot, front page and CCN CSV into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = generate(scale, seed)
    paths = {
        "snapshot": out_dir / SNAPSHOT_FILE,
        "front_page": out_dir / FRONT_PAGE_FILE,
        "ccn": out_dir / CCN_FILE,
    }
    paths["snapshot"].write_bytes(snapshot_bytes(tables, seed))
    paths["front_page"].write_text(front_page_html(tables), encoding="utf-8")
    paths["ccn"].write_text(ccn_csv(ccn_companies(seed)), encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR, help="output directory")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    for kind, path in write_sample_files(args.out, args.scale, args.seed).items():
        print(f"{kind}: {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
