"""The public page in headless Chromium, against the real stack and the fixtures of
tests/fixtures/page/processed. Every expected value is worked out by hand below.

Fixture arithmetic (last rows decide the stats):
- orders_for_viz, 5 days 2026-11-23..27; last row: purchased 2,500,000, delivered 212,500,
  DAC purchased 25,000, DAC delivered 1,234, dac_price_usd_cum 13,456,000.
  % delivered ALL = 212,500 / 2,500,000 = 0.085 -> "8.5%".
  % delivered DAC = 1,234 / 25,000 = 0.04936 -> 4.936% -> one decimal -> "4.9%".
  Total spent DAC = 13,456,000 -> 13.456M -> two decimals -> "$13.46M".
- dollars_spent: 1,234,567,890 -> 1.23456789B -> "$1.23B" (Total spent ALL).
- purchasers_for_viz, 4 days 2026-11-24..27; last row 1,250 purchasers, 42 DAC.
- ccn_data, 5 years 2021..2025; founded 3+0+5+4+2 = 14 (= last companies_founded_cum),
  DAC 1+0+2+0+1 = 4 (= last dac_companies_founded_cum).
- latest_deals, 11 rows (CRLF line ends, a quoted name with a comma, one with doubled quotes):
  the 10 newest, newest first, ties kept in file order; the 2026-10-01 deal is the 11th and is
  dropped. DAC: Heirloom, Carbon Capture Inc., 1PointFive (long DACCS name), Climeworks = 4.
  The source's placeholders ("Unknown Supplier", "Not Disclosed", "Unknown Purchaser", "Unknown
  Method") are shown as they are in English and translated in French.
- carbon_pricing, 4 years 2023..2026; last row 62 countries, 28.3% of global emissions covered
  (the same in both scopes: it has no DAC twin).
- manifest generated_at 2026-11-27T23:59:00Z: shown as the UTC date, November 27, 2026, even in a
  browser set to Tokyo (where it is already Nov 28, 08:59).
"""

from __future__ import annotations

import json

import pytest

from devtools.stack import upload
from tests.page.fault_proxy import FaultProxy
from tests.page.helpers import CHARTS, EN_HOST, FIXTURES, FR_HOST, NBSP, STATS, screenshot, settled_scope, state

pytestmark = pytest.mark.browser
CARBON_SERIES: list[tuple[str, list[float]]] = [
    ("Countries with a carbon price", [53, 55, 59, 62]),
    ("Share of global emissions covered", [23.9, 24.1, 27.9, 28.3]),
]

ORDER_DATES = ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
PURCHASER_DATES = ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
YEARS = ["2021", "2022", "2023", "2024", "2025"]

EXPECTED_CHARTS: dict[str, dict[str, list[tuple[str, list[float]]]]] = {
    "all": {
        "cdr-chart-orders": [
            ("Tons purchased", [1000, 1000, 401000, 2401000, 2500000]),
            ("Tons delivered", [100, 100, 20100, 120100, 212500]),
        ],
        "cdr-chart-purchasers": [("Unique purchasers", [1200, 1210, 1234, 1250])],
        "cdr-chart-companies": [("Companies founded", [3, 0, 5, 4, 2])],
        "carbon-pricing-chart": CARBON_SERIES,
    },
    "dac": {
        "cdr-chart-orders": [
            ("DAC tons purchased", [0, 0, 1000, 21000, 25000]),
            ("DAC tons delivered", [0, 0, 50, 850, 1234]),
        ],
        "cdr-chart-purchasers": [("Unique DAC purchasers", [40, 41, 41, 42])],
        "cdr-chart-companies": [("DAC companies founded", [1, 0, 2, 0, 1])],
        "carbon-pricing-chart": CARBON_SERIES,
    },
}
EXPECTED_STATS = {
    "all": {
        "#cdr-stat-spent": "$1.23B",
        "#cdr-stat-delivered": "8.5%",
        "#cdr-stat-purchasers": "1,250",
        "#cdr-stat-companies": "14",
        ".carbon-pricing-countries": "62",
        ".carbon-pricing-emissions-covered": "28.3%",
    },
    "dac": {
        "#cdr-stat-spent": "$13.46M",
        "#cdr-stat-delivered": "4.9%",
        "#cdr-stat-purchasers": "42",
        "#cdr-stat-companies": "4",
        ".carbon-pricing-countries": "62",
        ".carbon-pricing-emissions-covered": "28.3%",
    },
}
# fr-CA: comma decimals, no-break space before units and % and between thousands; G$ = milliards.
EXPECTED_STATS_FR = {
    "all": {
        "#cdr-stat-spent": f"1,23{NBSP}G$",
        "#cdr-stat-delivered": f"8,5{NBSP}%",
        "#cdr-stat-purchasers": f"1{NBSP}250",
        "#cdr-stat-companies": "14",
        ".carbon-pricing-countries": "62",
        ".carbon-pricing-emissions-covered": f"28,3{NBSP}%",
    },
    "dac": {
        "#cdr-stat-spent": f"13,46{NBSP}M$",
        "#cdr-stat-delivered": f"4,9{NBSP}%",
        "#cdr-stat-purchasers": "42",
        "#cdr-stat-companies": "4",
        ".carbon-pricing-countries": "62",
        ".carbon-pricing-emissions-covered": f"28,3{NBSP}%",
    },
}
EXPECTED_DEALS = [  # (badge, text, date) newest first
    ("NEW DEAL", f'The "Frontier" Buyers bought 1,500{NBSP}t from Charm Industrial', "Nov 27, 2026"),
    ("NEW DAC DEAL", f"JPMorgan Chase bought 10,000{NBSP}t from Heirloom", "Nov 27, 2026"),
    ("NEW DAC DEAL", f"Frontier bought 5,000{NBSP}t from Carbon Capture, Inc.", "Nov 26, 2026"),
    ("NEW DEAL", f"Mitsubishi bought 100,000{NBSP}t from Exomad Green", "Nov 25, 2026"),
    ("NEW DEAL", f"Microsoft bought 4,900,000{NBSP}t from Vaulted Deep", "Nov 24, 2026"),
    ("NEW DAC DEAL", f"Amazon bought 250,000{NBSP}t from 1PointFive", "Nov 23, 2026"),
    ("NEW DEAL", f"Shopify bought 1,200{NBSP}t from Unknown Supplier", "Nov 22, 2026"),
    ("NEW DEAL", f"Not Disclosed bought 800{NBSP}t from Planetary", "Nov 21, 2026"),
    ("NEW DAC DEAL", f"Microsoft bought 25,000{NBSP}t from Climeworks", "Nov 20, 2026"),
    ("NEW DEAL", f"Unknown Purchaser bought 2,000{NBSP}t from Olivinecarbon AS", "Nov 19, 2026"),
]
# French: elision before a vowel sound (d'Exomad, d'Olivinecarbon, d'un; not before Heirloom, a foreign
# name read with an aspirated h), the
# source's placeholders and the removal methods translated; no method shown for DAC deals.
FT = f"{NBSP}t"
EXPECTED_DEALS_FR = [  # (badge, text, method, date)
    (
        "NOUVELLE TRANSACTION",
        f'The "Frontier" Buyers a acheté 1{NBSP}500{FT} auprès de Charm Industrial',
        "Séquestration de bio-huile",
        "27 nov. 2026",
    ),
    ("NOUVELLE TRANSACTION CDA", f"JPMorgan Chase a acheté 10{NBSP}000{FT} auprès de Heirloom", None, "27 nov. 2026"),
    ("NOUVELLE TRANSACTION CDA", f"Frontier a acheté 5{NBSP}000{FT} auprès de Carbon Capture, Inc.", None, "26 nov. 2026"),
    ("NOUVELLE TRANSACTION", f"Mitsubishi a acheté 100{NBSP}000{FT} auprès d'Exomad Green", "Biochar", "25 nov. 2026"),
    (
        "NOUVELLE TRANSACTION",
        f"Microsoft a acheté 4{NBSP}900{NBSP}000{FT} auprès de Vaulted Deep",
        "Séquestration géologique de biomasse",
        "24 nov. 2026",
    ),
    ("NOUVELLE TRANSACTION CDA", f"Amazon a acheté 250{NBSP}000{FT} auprès de 1PointFive", None, "23 nov. 2026"),
    (
        "NOUVELLE TRANSACTION",
        f"Shopify a acheté 1{NBSP}200{FT} auprès d'un fournisseur inconnu",
        "Augmentation de l'alcalinité de l'océan",
        "22 nov. 2026",
    ),
    (
        "NOUVELLE TRANSACTION",
        f"Un acheteur non divulgué a acheté 800{FT} auprès de Planetary",
        "Augmentation de l'alcalinité de l'océan",
        "21 nov. 2026",
    ),
    ("NOUVELLE TRANSACTION CDA", f"Microsoft a acheté 25{NBSP}000{FT} auprès de Climeworks", None, "20 nov. 2026"),
    (
        "NOUVELLE TRANSACTION",
        f"Un acheteur inconnu a acheté 2{NBSP}000{FT} auprès d'Olivinecarbon AS",
        "Méthode inconnue",
        "19 nov. 2026",
    ),
]

READ_CHART = """(id) => {
  const canvas = document.querySelector(`#${id} canvas`);
  const chart = canvas && Chart.getChart(canvas);
  if (!chart) return null;
  return {
    type: chart.config.type,
    labels: chart.data.labels,
    datasets: chart.data.datasets.map((d) => [d.label, d.data]),
    xTicks: chart.scales.x.ticks.map((t) => t.label),
    yTicks: chart.scales.y.ticks.map((t) => t.label),
    types: chart.data.datasets.map((d) => d.type || chart.config.type),
    shareTicks: chart.scales.share ? chart.scales.share.ticks.map((t) => t.label) : null,
  };
}"""
READ_TICKER = """() => [...document.querySelectorAll('#cdr-ticker .cdr-ticker-list:not([aria-hidden]) .cdr-ticker-item')]
  .map((li) => [li.querySelector('.cdr-ticker-badge').textContent, li.querySelector('.cdr-ticker-text').textContent,
                li.querySelector('.cdr-ticker-date').textContent, li.classList.contains('is-dac')])"""
READ_TICKER_FR = """() => [...document.querySelectorAll('#cdr-ticker .cdr-ticker-list:not([aria-hidden]) .cdr-ticker-item')]
  .map((li) => [li.querySelector('.cdr-ticker-badge').textContent, li.querySelector('.cdr-ticker-text').textContent,
                li.querySelector('.cdr-ticker-method') && li.querySelector('.cdr-ticker-method').textContent,
                li.querySelector('.cdr-ticker-date').textContent])"""


def stat_values(page) -> dict[str, str]:
    return {selector: page.text_content(f"{selector} .cdr-stat-value") for selector in STATS}


def chart(page, element_id: str):
    return page.evaluate(READ_CHART, element_id)


def assert_charts(page, scope: str) -> None:
    for element_id, series in EXPECTED_CHARTS[scope].items():
        drawn = chart(page, element_id)
        assert state(page, f"#{element_id}") == "ready"
        assert [(label, data) for label, data in drawn["datasets"]] == [(label, data) for label, data in series]


def test_page_draws_every_chart_and_stat_from_the_fixtures(open_page, stack):
    # Browser in French and in Tokyo: the host (www.) decides the language, UTC decides the date.
    opened = open_page(EN_HOST, locale="fr-CA", timezone_id="Asia/Tokyo")
    page = opened.page

    for selector in (*(f"#{c}" for c in CHARTS), *STATS, "#cdr-ticker", "#cdr-last-updated"):
        assert state(page, selector) == "ready", selector

    orders = chart(page, "cdr-chart-orders")
    assert orders["type"] == "line"
    assert orders["labels"] == ORDER_DATES
    assert [len(data) for _, data in orders["datasets"]] == [5, 5]
    assert orders["xTicks"] == ["Nov 23", "Nov 24", "Nov 25", "Nov 26", "Nov 27"]
    assert orders["yTicks"] == ["0", "500K", "1M", "1.5M", "2M", "2.5M"]  # tonnes in K/M

    purchasers = chart(page, "cdr-chart-purchasers")
    assert purchasers["labels"] == PURCHASER_DATES
    assert len(purchasers["datasets"][0][1]) == 4

    companies = chart(page, "cdr-chart-companies")
    assert companies["type"] == "bar"
    assert companies["labels"] == YEARS
    assert len(companies["datasets"][0][1]) == 5

    carbon = chart(page, "carbon-pricing-chart")
    assert carbon["type"] == "bar" and carbon["labels"] == ["2023", "2024", "2025", "2026"]
    assert carbon["types"] == ["bar", "line"]  # countries as bars, the share as a line on its own axis
    assert carbon["shareTicks"][-1] == "100%"
    assert_charts(page, "all")

    assert stat_values(page) == EXPECTED_STATS["all"]
    assert page.text_content("#cdr-last-updated") == "Last updated: November 27, 2026"
    assert page.text_content("#cdr-scope-toggle [data-scope='all']") == "ALL CDR"
    assert page.text_content("#cdr-scope-toggle [data-scope='dac']") == "DAC ONLY"

    deals = page.evaluate(READ_TICKER)
    assert [(badge, text, date) for badge, text, date, _ in deals] == EXPECTED_DEALS
    assert sum(is_dac for *_, is_dac in deals) == 4
    assert "Old Buyer" not in page.text_content("#cdr-ticker")

    # Everything came from the page, the presign API or the bucket: no CDN, nothing else.
    own = (stack.origin(EN_HOST), stack.api_base, stack.s3.endpoint_url)
    assert [url for _, url in opened.responses if not url.startswith(own)] == []
    assert opened.console_errors == []
    screenshot(page, "page_en.png")


EXPECTED_LABELS = {  # stat captions, in STATS order, and chart titles (h3), by language and scope
    ("en", "all"): (
        [
            "Total spent",
            "Of purchased tons delivered",
            "Unique purchasers",
            "CDR companies founded",
            "countries",
            "emissions covered",
        ],
        [
            "Cumulative tons purchased vs delivered",
            "Unique purchasers over time",
            "CDR companies founded per year",
            "Governments are pricing carbon",
        ],
    ),
    ("en", "dac"): (
        [
            "Total spent on DAC",
            "Of purchased DAC tons delivered",
            "Unique DAC purchasers",
            "DAC companies founded",
            "countries",
            "emissions covered",
        ],
        [
            "Cumulative DAC tons purchased vs delivered",
            "Unique DAC purchasers over time",
            "DAC companies founded per year",
            "Governments are pricing carbon",
        ],
    ),
    ("fr", "all"): (
        [
            "Total dépensé",
            "Des tonnes achetées ont été livrées",
            "Acheteurs uniques",
            "Entreprises d'EDC fondées",
            "pays",
            "des émissions couvertes",
        ],
        [
            "Tonnes achetées et livrées (cumul)",
            "Acheteurs uniques au fil du temps",
            "Entreprises d'EDC fondées par année",
            "Les gouvernements tarifent le carbone",
        ],
    ),
    ("fr", "dac"): (
        [
            "Total dépensé en CDA",
            "Des tonnes de CDA achetées ont été livrées",
            "Acheteurs uniques de CDA",
            "Entreprises de CDA fondées",
            "pays",
            "des émissions couvertes",
        ],
        [
            "Tonnes de CDA achetées et livrées (cumul)",
            "Acheteurs uniques de CDA au fil du temps",
            "Entreprises de CDA fondées par année",
            "Les gouvernements tarifent le carbone",
        ],
    ),
}


def labels_and_titles(page) -> tuple[list[str], list[str]]:
    captions = [page.text_content(f"{selector} .cdr-stat-label") for selector in STATS]
    return captions, page.eval_on_selector_all(".chart-card h3", "(hs) => hs.map((h) => h.textContent)")


def test_toggle_switches_series_stats_labels_and_titles(open_page):
    page = open_page(EN_HOST).page
    assert labels_and_titles(page) == EXPECTED_LABELS[("en", "all")]
    settled_scope(page, "dac")
    assert page.get_attribute("#cdr-scope-toggle [data-scope='dac']", "aria-pressed") == "true"
    assert page.get_attribute("#cdr-scope-toggle [data-scope='all']", "aria-pressed") == "false"
    assert_charts(page, "dac")
    assert stat_values(page) == EXPECTED_STATS["dac"]
    assert labels_and_titles(page) == EXPECTED_LABELS[("en", "dac")]
    screenshot(page, "page_en_dac.png")

    settled_scope(page, "all")
    assert_charts(page, "all")
    assert stat_values(page) == EXPECTED_STATS["all"]
    assert labels_and_titles(page) == EXPECTED_LABELS[("en", "all")]


def test_french_host_shows_french_labels_and_numbers(open_page):
    opened = open_page(FR_HOST, locale="en-US")  # the fr. host decides, not the browser
    page = opened.page
    assert page.get_attribute("html", "lang") == "fr"  # Webflow wrote "en"; screen readers need "fr"
    assert page.text_content("#cdr-last-updated") == f"Dernière mise à jour{NBSP}: 27 novembre 2026"
    assert page.text_content("#cdr-scope-toggle [data-scope='all']") == "TOUTE L'EDC"
    assert page.text_content("#cdr-scope-toggle [data-scope='dac']") == "CDA SEULEMENT"
    assert stat_values(page) == EXPECTED_STATS_FR["all"]
    assert labels_and_titles(page) == EXPECTED_LABELS[("fr", "all")]

    orders = chart(page, "cdr-chart-orders")
    assert [label for label, _ in orders["datasets"]] == ["Tonnes achetées", "Tonnes livrées"]
    assert orders["xTicks"] == ["23 nov.", "24 nov.", "25 nov.", "26 nov.", "27 nov."]
    assert orders["yTicks"] == ["0", f"500{NBSP}k", f"1{NBSP}M", f"1,5{NBSP}M", f"2{NBSP}M", f"2,5{NBSP}M"]

    carbon = chart(page, "carbon-pricing-chart")
    assert [label for label, _ in carbon["datasets"]] == [
        "Pays dotés d'un prix du carbone",
        "Part des émissions mondiales couvertes",
    ]
    assert carbon["shareTicks"][-1] == f"100{NBSP}%"
    assert page.evaluate(READ_TICKER_FR) == [list(deal) for deal in EXPECTED_DEALS_FR]
    assert page.get_attribute("#cdr-ticker", "aria-label") == "Dernières transactions"

    settled_scope(page, "dac")
    assert stat_values(page) == EXPECTED_STATS_FR["dac"]
    assert labels_and_titles(page) == EXPECTED_LABELS[("fr", "dac")]
    assert [label for label, _ in chart(page, "cdr-chart-orders")["datasets"]] == [
        "Tonnes de CDA achetées",
        "Tonnes de CDA livrées",
    ]
    assert opened.console_errors == []
    screenshot(page, "page_fr_dac.png")


def test_english_host_keeps_english_and_its_lang(open_page):
    page = open_page(EN_HOST, locale="fr-CA").page  # a French browser on the English host
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_attribute("#cdr-ticker", "aria-label") == "Latest deals"


# The French page shows no English string of the dashboard's own (every label, the placeholders for
# unknown names, the removal methods): the English strings are read from the code itself.
ENGLISH_LEFT_OVER = """() => {
  const { en, fr } = CDRDashboard.format.STRINGS;
  const english = [
    ...Object.entries(en).filter(([k, v]) => typeof v === "string" && v !== fr[k] && v.length > 3).map(([, v]) => v),
    ...Object.keys(fr.methods).filter((m) => fr.methods[m] !== m),
    "Not Disclosed", "Unknown Purchaser", "Unknown Supplier",
  ];
  document.querySelectorAll("details").forEach((d) => (d.open = true));
  const text = document.body.innerText;
  const labels = [...document.querySelectorAll("[aria-label]")].map((el) => el.getAttribute("aria-label")).join(" | ");
  return english.filter((s) => text.includes(s) || labels.includes(s));
}"""


@pytest.mark.parametrize("scope", ["all", "dac"])
def test_french_page_has_no_english_left(open_page, scope):
    page = open_page(FR_HOST).page
    if scope == "dac":
        settled_scope(page, scope)
    assert page.evaluate(ENGLISH_LEFT_OVER) == []


ELISIONS = [
    # (supplier as shown, what goes before it) worked out by French rules
    ("Olivinecarbon AS", "d'"),  # vowel
    ("Exomad Green", "d'"),
    ("Écoloop", "d'"),  # accented vowel
    ("un fournisseur inconnu", "d'"),
    ("Hydro-Québec", "d'"),  # mute h: a French word
    ("Hôtel Dieu", "d'"),
    ("Heirloom", "de "),  # a foreign name: aspirated h
    ("Hekla Cycle S.A.", "de "),
    ("Ynsect", "d'"),  # y before a consonant sounds as a vowel
    ("Yara", "de "),  # y before a vowel does not
    ("Climeworks", "de "),
    ("1PointFive", "de "),
    ("", "de "),
]


def test_french_elision_rule(open_page):
    page = open_page(FR_HOST).page
    got = page.evaluate("(names) => names.map((n) => CDRDashboard.format.de(n))", [name for name, _ in ELISIONS])
    assert list(zip([name for name, _ in ELISIONS], got, strict=True)) == ELISIONS


def assert_failed_chart(page, element_id: str, message: str = "Data unavailable right now.") -> None:
    assert state(page, f"#{element_id}") == "error"
    assert page.text_content(f"#{element_id} .cdr-chart-message") == message
    assert chart(page, element_id) is None


def uncaught(opened) -> list[str]:
    return [e for e in opened.console_errors if e.startswith("pageerror")]


def test_api_404_shows_the_error_on_that_chart_only(open_page, stack, restore_fixtures):
    # Unpublish ccn_data: out of the manifest and out of the bucket -> the API answers 404.
    client = stack.client()
    manifest = json.loads((FIXTURES / "processed" / "manifest.json").read_text())
    del manifest["datasets"]["ccn_data"]
    client.put_object(Bucket=stack.bucket, Key="processed/manifest.json", Body=json.dumps(manifest).encode())
    client.delete_object(Bucket=stack.bucket, Key="processed/ccn_data_20261127.csv")

    opened = open_page(EN_HOST)
    page = opened.page
    # one batch call asked for it (the API reports that key's 404 inside the answer)
    assert [u for _, u in opened.responses if u.startswith(f"{stack.api_base}/presigned-urls?") and "processed%2Fccn_data*" in u]
    assert_failed_chart(page, "cdr-chart-companies")
    assert state(page, "#cdr-stat-companies") == "error"
    assert page.text_content("#cdr-stat-companies .cdr-stat-value") == "—"
    for selector in ("#cdr-chart-orders", "#cdr-chart-purchasers", "#cdr-stat-spent", "#cdr-ticker"):
        assert state(page, selector) == "ready"
    assert stat_values(page)["#cdr-stat-purchasers"] == "1,250"
    assert uncaught(opened) == []


def test_api_500_and_network_failure_show_the_error_on_their_parts(open_page, stack):
    faults = {"processed/orders_for_viz*": "500", "processed/latest_deals*": "unreachable"}
    with FaultProxy(stack.api_base, faults) as proxy:
        opened = open_page(EN_HOST, api_base=proxy.url)
        page = opened.page
        assert sorted(proxy.broken) == sorted(faults.items())

        assert_failed_chart(page, "cdr-chart-orders")
        assert state(page, "#cdr-stat-delivered") == "error"
        assert state(page, "#cdr-ticker") == "error"
        assert page.text_content("#cdr-ticker") == "Data unavailable right now."
        # Total spent ALL comes from dollars_spent, still there; its DAC value needed the orders.
        assert page.text_content("#cdr-stat-spent .cdr-stat-value") == "$1.23B"
        assert len(chart(page, "cdr-chart-purchasers")["datasets"][0][1]) == 4
        assert len(chart(page, "cdr-chart-companies")["datasets"][0][1]) == 5

        settled_scope(page, "dac")
        assert state(page, "#cdr-stat-spent") == "error"
        assert page.text_content("#cdr-stat-spent .cdr-stat-value") == "—"
        assert chart(page, "cdr-chart-purchasers")["datasets"][0][1] == [40, 41, 41, 42]
        assert uncaught(opened) == []
        screenshot(page, "page_en_failures.png")


def test_page_code_unavailable_marks_every_part_failed(open_page, stack):
    # The snippet's own fallback: the API fails for viz/v2/chart_templates.js itself.
    with FaultProxy(stack.api_base, {"viz/v2/chart_templates.js": "500"}) as proxy:
        opened = open_page(EN_HOST, api_base=proxy.url)
    page = opened.page
    for selector in (*(f"#{c}" for c in CHARTS), *STATS, "#cdr-ticker"):
        assert state(page, selector) == "error", selector
    assert page.text_content("#cdr-chart-orders") == "Data unavailable right now."
    assert uncaught(opened) == []


def test_csv_missing_a_column_shows_the_error_state(open_page, stack, restore_fixtures):
    upload(
        stack.client(),
        stack.bucket,
        {
            "processed/purchasers_for_viz_20261127.csv": FIXTURES / "broken" / "purchasers_for_viz_missing_column.csv",
        },
    )
    opened = open_page(EN_HOST)
    page = opened.page
    assert_failed_chart(page, "cdr-chart-purchasers")
    assert state(page, "#cdr-stat-purchasers") == "error"
    for selector in ("#cdr-chart-orders", "#cdr-chart-companies", "#cdr-stat-spent", "#cdr-ticker"):
        assert state(page, selector) == "ready"
    # It failed for the right reason, and said so (as a warning, not an error).
    reason = page.evaluate(
        """() => new Promise((resolve) => CDRDashboard.dashboard.data.purchasers.catch((e) => resolve(e.message)))"""
    )
    assert reason == 'purchasers: missing column "dac_purchasers_count_cum"'
    assert opened.console_errors == []


CSV_CASES = [
    # (text, rows) worked out from RFC 4180
    ('a,b\r\n1,"x, y"\r\n', [["a", "b"], ["1", "x, y"]]),
    ('"he said ""hi""",2\n', [['he said "hi"', "2"]]),
    ('"multi\nline",3\n\n4,5', [["multi\nline", "3"], ["4", "5"]]),
    ("\ufeffa,b\n,\n", [["a", "b"], ["", ""]]),
    ('"",x\n', [["", "x"]]),
    ("", []),
]


def test_csv_parser_handles_quotes_commas_and_newlines(open_page):
    page = open_page(EN_HOST).page
    for text, rows in CSV_CASES:
        assert page.evaluate("(t) => CDRDashboard.csv.parseCSV(t)", text) == rows, repr(text)
    error = page.evaluate("""() => { try { CDRDashboard.csv.parseCSV('a,"b'); return null; } catch (e) { return e.message; } }""")
    assert error == "unterminated quoted field"
