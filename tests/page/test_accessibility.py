"""The page for readers of screen readers and keyboards.

- axe-core (pinned, from the npm registry: tests/page/axe_core.py) finds no serious or critical
  violation, in English and French, in ALL CDR and DAC ONLY modes, with the tables of figures open;
- every chart has a text alternative (title, span and latest figures) and its latest rows in a
  table, both following the toggle; worked out by hand from tests/fixtures/page (see test_page.py);
- the toggle is made of real buttons with aria-pressed, reached with Tab and pressed with Enter or
  Space; a toggle built from divs in Webflow gets the same role, focus and keys.
"""

from __future__ import annotations

import pytest

from dashboard.page_server import render_page
from tests.page.helpers import EN_HOST, FR_HOST, NBSP, settled_scope

pytestmark = pytest.mark.browser

# The tables of figures opened, and their boxes marked (a region and a tab stop while they scroll).
OPEN_TABLES = "() => document.querySelectorAll('details.cdr-chart-data').forEach((d) => (d.open = true))"
TABLES_MARKED = """() => [...document.querySelectorAll('details.cdr-chart-data[open] .cdr-chart-table')]
  .every((b) => (b.scrollWidth > b.clientWidth + 1) === b.hasAttribute('tabindex'))"""

# Colours are judged once the toggle's colour transitions have ended (not half-way through one).
RUN_AXE = """async () => {
  await Promise.all(document.getAnimations().filter((a) => a instanceof CSSTransition).map((a) => a.finished));
  const results = await axe.run(document, { resultTypes: ['violations'] });
  return {
    rules: results.passes.length + results.violations.length + results.incomplete.length,
    violations: results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`),
  };
}"""


@pytest.mark.parametrize("host, width", [(EN_HOST, 1280), (FR_HOST, 1280), (FR_HOST, 320)])
def test_axe_finds_no_serious_violation_in_either_mode(open_page, axe, host, width):
    page = open_page(host, width=width).page
    page.add_script_tag(content=axe)
    for scope in ("all", "dac"):
        if scope == "dac":
            settled_scope(page, "dac")
        page.evaluate(OPEN_TABLES)
        page.wait_for_function(TABLES_MARKED)
        report = page.evaluate(RUN_AXE)
        assert report["rules"] > 20  # axe really ran its rules
        assert report["violations"] == [], scope


def test_axe_reports_the_old_toggle_contrast(open_page, axe):
    # The audit can fail: the old unselected toggle colour (#64748b on #f1f5f9, 4.34:1) is caught.
    page = open_page(EN_HOST).page
    page.add_script_tag(content=axe)
    page.evaluate(
        """() => Object.assign(document.querySelector("#cdr-scope-toggle [data-scope='dac']").style,
                              { transition: 'none', color: '#64748b' })"""
    )
    violations = page.evaluate(RUN_AXE)["violations"]
    assert any(v.startswith("serious color-contrast") and "data-scope" in v for v in violations), violations


READ_ALTERNATIVES = """() => [...document.querySelectorAll('.cdr-chart')].map((chart) => {
  const canvas = chart.querySelector('canvas');
  const table = chart.querySelector('.cdr-chart-data table');
  return {
    id: chart.id,
    role: canvas.getAttribute('role'),
    label: canvas.getAttribute('aria-label'),
    caption: table.caption.textContent,
    rows: [...table.rows].map((row) => [...row.cells].map((cell) => cell.textContent)),
  };
})"""

SUMMARIES_EN = {
    "all": {
        "cdr-chart-orders": "Cumulative tons purchased vs delivered, Nov 23, 2026 to Nov 27, 2026. Latest figures "
        f"(Nov 27, 2026): Tons purchased 2,500,000{NBSP}t; Tons delivered 212,500{NBSP}t.",
        "cdr-chart-purchasers": "Unique purchasers over time, Nov 24, 2026 to Nov 27, 2026. Latest figures "
        "(Nov 27, 2026): Unique purchasers 1,250.",
        "cdr-chart-companies": "CDR companies founded per year, 2021 to 2025. Latest figures (2025): Companies founded 2.",
        "carbon-pricing-chart": "Governments are pricing carbon, 2023 to 2026. Latest figures (2026): "
        "Countries with a carbon price 62; Share of global emissions covered 28.3%.",
    },
    "dac": {
        "cdr-chart-orders": "Cumulative DAC tons purchased vs delivered, Nov 23, 2026 to Nov 27, 2026. Latest "
        f"figures (Nov 27, 2026): DAC tons purchased 25,000{NBSP}t; DAC tons delivered 1,234{NBSP}t.",
        "cdr-chart-purchasers": "Unique DAC purchasers over time, Nov 24, 2026 to Nov 27, 2026. Latest figures "
        "(Nov 27, 2026): Unique DAC purchasers 42.",
        "cdr-chart-companies": "DAC companies founded per year, 2021 to 2025. Latest figures (2025): DAC companies founded 1.",
        "carbon-pricing-chart": "Governments are pricing carbon, 2023 to 2026. Latest figures (2026): "
        "Countries with a carbon price 62; Share of global emissions covered 28.3%.",
    },
}
ORDERS_TABLE_EN = [
    ["Date", "Tons purchased", "Tons delivered"],
    ["Nov 23, 2026", f"1,000{NBSP}t", f"100{NBSP}t"],
    ["Nov 24, 2026", f"1,000{NBSP}t", f"100{NBSP}t"],
    ["Nov 25, 2026", f"401,000{NBSP}t", f"20,100{NBSP}t"],
    ["Nov 26, 2026", f"2,401,000{NBSP}t", f"120,100{NBSP}t"],
    ["Nov 27, 2026", f"2,500,000{NBSP}t", f"212,500{NBSP}t"],
]
COMPANIES_TABLE_DAC = [
    ["Year", "DAC companies founded"],
    ["2021", "1"],
    ["2022", "0"],
    ["2023", "2"],
    ["2024", "0"],
    ["2025", "1"],
]


def by_id(alternatives: list[dict]) -> dict[str, dict]:
    return {a["id"]: a for a in alternatives}


def test_every_chart_has_a_text_alternative_and_a_table_that_follow_the_toggle(open_page):
    page = open_page(EN_HOST).page
    drawn = by_id(page.evaluate(READ_ALTERNATIVES))
    assert {i: a["label"] for i, a in drawn.items()} == SUMMARIES_EN["all"]
    assert all(a["role"] == "img" for a in drawn.values())
    assert drawn["cdr-chart-orders"]["rows"] == ORDERS_TABLE_EN
    assert drawn["cdr-chart-orders"]["caption"] == (
        "Cumulative tons purchased vs delivered: the latest 5 rows (the CSV has them all)"
    )
    assert drawn["carbon-pricing-chart"]["rows"] == [
        ["Year", "Countries with a carbon price", "Share of global emissions covered"],
        ["2023", "53", "23.9%"],
        ["2024", "55", "24.1%"],
        ["2025", "59", "27.9%"],
        ["2026", "62", "28.3%"],
    ]

    settled_scope(page, "dac")
    drawn = by_id(page.evaluate(READ_ALTERNATIVES))
    assert {i: a["label"] for i, a in drawn.items()} == SUMMARIES_EN["dac"]
    assert drawn["cdr-chart-companies"]["rows"] == COMPANIES_TABLE_DAC


def test_french_text_alternatives(open_page):
    page = open_page(FR_HOST).page
    drawn = by_id(page.evaluate(READ_ALTERNATIVES))
    assert drawn["cdr-chart-orders"]["label"] == (
        "Tonnes achetées et livrées (cumul), 23 nov. 2026 à 27 nov. 2026. Dernières valeurs (27 nov. 2026)"
        f"{NBSP}: Tonnes achetées 2{NBSP}500{NBSP}000{NBSP}t{NBSP}; Tonnes livrées 212{NBSP}500{NBSP}t."
    )
    assert drawn["carbon-pricing-chart"]["label"] == (
        f"Les gouvernements tarifent le carbone, 2023 à 2026. Dernières valeurs (2026){NBSP}: Pays dotés d'un prix "
        f"du carbone 62{NBSP}; Part des émissions mondiales couvertes 28,3{NBSP}%."
    )
    assert drawn["carbon-pricing-chart"]["rows"][0] == [
        "Année",
        "Pays dotés d'un prix du carbone",
        "Part des émissions mondiales couvertes",
    ]
    assert page.text_content("#cdr-chart-orders .cdr-chart-data summary") == "Afficher les données"
    # out of context, each control names its chart
    assert page.get_attribute("#carbon-pricing-chart .cdr-chart-download", "aria-label") == (
        f"Télécharger les données (CSV){NBSP}: Les gouvernements tarifent le carbone"
    )
    assert page.get_attribute("#cdr-chart-orders summary", "aria-label") == (
        f"Afficher les données{NBSP}: Tonnes achetées et livrées (cumul)"
    )


FOCUSED = """() => {
  const el = document.activeElement;
  return el.id || el.getAttribute('data-scope') || el.tagName;
}"""


def test_toggle_works_from_the_keyboard(open_page):
    page = open_page(EN_HOST).page
    assert page.get_attribute("#cdr-scope-toggle", "aria-label") == "Show the figures for"
    # Tab order: the ticker's pause button and its deals (focusing them pauses the scroll), then
    # the toggle's two buttons.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "cdr-ticker-pause"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "cdr-ticker-viewport"
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "all"
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "dac"
    page.keyboard.press("Enter")
    assert page.get_attribute("#cdr-scope-toggle", "data-scope") == "dac"
    assert page.get_attribute("#cdr-scope-toggle [data-scope='dac']", "aria-pressed") == "true"
    assert page.text_content("#cdr-stat-purchasers .cdr-stat-value") == "42"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    assert page.get_attribute("#cdr-scope-toggle", "data-scope") == "all"
    assert page.get_attribute("#cdr-scope-toggle [data-scope='all']", "aria-pressed") == "true"
    assert page.text_content("#cdr-stat-purchasers .cdr-stat-value") == "1,250"


def test_a_toggle_of_divs_becomes_real_buttons(open_page, stack):
    # Webflow designers often build toggles from divs: the script gives them a button's role,
    # focus and keys, so the control is the same for every reader.
    html = render_page("__API_BASE__")
    for scope, text in (("all", "ALL CDR"), ("dac", "DAC ONLY")):
        html = html.replace(
            f'<button type="button" data-scope="{scope}">{text}</button>', f'<div data-scope="{scope}">{text}</div>'
        )
    assert html.count('<div data-scope="') == 2
    stack.page.extra_pages["/divs.html"] = html
    page = open_page(EN_HOST, query="divs.html").page
    assert page.eval_on_selector_all(
        "#cdr-scope-toggle [data-scope]", "(els) => els.map((e) => [e.tagName, e.getAttribute('role'), e.tabIndex])"
    ) == [["DIV", "button", 0], ["DIV", "button", 0]]
    page.focus("#cdr-scope-toggle [data-scope='dac']")
    page.keyboard.press("Space")
    assert page.get_attribute("#cdr-scope-toggle [data-scope='dac']", "aria-pressed") == "true"
    assert page.text_content("#cdr-stat-purchasers .cdr-stat-value") == "42"
    page.focus("#cdr-scope-toggle [data-scope='all']")
    page.keyboard.press("Enter")
    assert page.get_attribute("#cdr-scope-toggle", "data-scope") == "all"


TRACK_STATE = "getComputedStyle(document.querySelector('#cdr-ticker .cdr-ticker-track')).animationPlayState"


def test_the_ticker_can_be_paused(open_page):
    # The deals move for longer than five seconds: a button stops and restarts them (WCAG 2.2.2).
    page = open_page(FR_HOST).page
    pause = page.locator("#cdr-ticker .cdr-ticker-pause")
    assert pause.get_attribute("aria-label") == "Mettre en pause les transactions"
    assert pause.get_attribute("aria-pressed") == "false"
    assert page.evaluate(TRACK_STATE) == "running"
    pause.click()
    page.mouse.move(0, 0)  # pointer off the ticker, focus off it: only the button holds it still
    page.evaluate("document.activeElement.blur()")
    assert pause.get_attribute("aria-pressed") == "true"
    assert page.evaluate(TRACK_STATE) == "paused"
    pause.click()
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement.blur()")
    assert pause.get_attribute("aria-pressed") == "false"
    assert page.evaluate(TRACK_STATE) == "running"


READ_TABLE_BOXES = """() => [...document.querySelectorAll('.cdr-chart-table')].map((box) =>
  [box.closest('.cdr-chart').id, box.getAttribute('role'), box.getAttribute('tabindex')])"""


def test_a_table_of_figures_is_a_keyboard_stop_only_when_it_scrolls(open_page):
    page = open_page(EN_HOST, width=1280).page
    page.evaluate(OPEN_TABLES)
    page.wait_for_function(TABLES_MARKED)
    # wide enough: no table scrolls, none is a region or a tab stop
    assert page.evaluate(READ_TABLE_BOXES) == [
        ["cdr-chart-orders", None, None],
        ["cdr-chart-purchasers", None, None],
        ["cdr-chart-companies", None, None],
        ["carbon-pricing-chart", None, None],
    ]
    # squeezed to 120 px its box scrolls: a region named by its caption, reachable with Tab
    box = "#carbon-pricing-chart .cdr-chart-table"
    page.evaluate(f"() => (document.querySelector('{box}').style.width = '120px')")
    page.wait_for_function(f"() => document.querySelector('{box}').hasAttribute('tabindex')")
    assert page.evaluate(READ_TABLE_BOXES)[3] == ["carbon-pricing-chart", "region", "0"]
    assert page.get_attribute(box, "aria-label") == ("Governments are pricing carbon: the latest 4 rows (the CSV has them all)")
    # wide again: back to a plain box
    page.evaluate(f"() => (document.querySelector('{box}').style.width = '')")
    page.wait_for_function(f"() => !document.querySelector('{box}').hasAttribute('tabindex')")
    assert page.evaluate(READ_TABLE_BOXES)[3] == ["carbon-pricing-chart", None, None]
    assert page.get_attribute(box, "aria-label") is None
