"""The page on phones, tablets and desktops: at 320, 360, 390, 768 and 1400 px wide, in English and
French, in ALL CDR and DAC ONLY modes, the page never scrolls sideways and no text leaves its box.

The preview page is as strict as Webflow's (plain 1fr grid columns, nothing hides overflow), so
what passes here passes on the live page. Each language is opened at 320 px (a phone's first
load), widened step by step in ALL CDR, switched to DAC ONLY, and narrowed back, checking at every
width with the tables of figures closed and open. A screenshot of every width, language and mode
goes to artifacts/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from tests.page.helpers import EN_HOST, FR_HOST, screenshot, settled_scope

pytestmark = pytest.mark.browser

WIDTHS = (320, 360, 390, 768, 1400)

# Problems on the page, as sentences: the document wider than the viewport; text (outside the
# ticker, which scrolls inside its own clipped box) sticking out of the box that holds it or out
# of its component (stat card, chart, toggle, chart card); a stat value whose figure is not inside
# its card's content box.
LAYOUT_PROBLEMS = """() => {
  const COMPONENTS = ".cdr-stat, .cdr-chart, .cdr-toggle, .chart-card, .section-head";
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) problems.push(`page is ${root.scrollWidth}px wide in a ${root.clientWidth}px window`);
  const describe = (el) => el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`;
  const blockOf = (el) => {
    while (el && ["inline", "contents"].includes(getComputedStyle(el).display)) el = el.parentElement;
    return el;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim() || node.parentElement.closest("script, style, .cdr-ticker")) continue;
    // Text in a table of figures scrolls inside the table's box (checked below), not past it.
    const scrolled = node.parentElement.closest(".cdr-chart-table");
    const holders = [blockOf(node.parentElement), !scrolled && node.parentElement.closest(COMPONENTS)].filter(Boolean);
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter((r) => r.width);
    for (const holder of holders) {
      const box = holder.getBoundingClientRect();
      if (rects.some((r) => r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.right > root.clientWidth + 0.5)) {
        problems.push(`"${node.textContent.trim().slice(0, 40)}" sticks out of ${describe(holder)}`);
        break;
      }
    }
  }
  for (const box of document.querySelectorAll(".cdr-chart-table")) {
    const b = box.getBoundingClientRect();
    const chart = box.closest(".cdr-chart").getBoundingClientRect();
    if (b.width && (b.left < chart.left - 0.5 || b.right > chart.right + 0.5))
      problems.push(`the table of figures of ${describe(box.closest(".cdr-chart"))} is wider than its chart`);
  }
  for (const card of document.querySelectorAll(".cdr-stat")) {
    const value = card.querySelector(".cdr-stat-value");
    const style = getComputedStyle(card);
    const c = card.getBoundingClientRect();
    const left = c.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft);
    const right = c.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight);
    const range = document.createRange();
    range.selectNodeContents(value);
    const r = range.getBoundingClientRect();
    if (!r.width) problems.push(`${describe(card)} shows no value`);
    else if (r.left < left - 0.5 || r.right > right + 0.5)
      problems.push(`${describe(card)}: "${value.textContent}" spans ${Math.round(r.left)}..${Math.round(r.right)} in a card whose content is ${Math.round(left)}..${Math.round(right)}`);
  }
  return problems;
}"""

# Every chart's canvas has caught up with its box (Chart.js resizes on the next animation frame),
# so the screenshots show the charts at their new width.
CHARTS_FIT = """() => [...document.querySelectorAll('.cdr-chart-canvas')].every((box) => {
  const canvas = box.querySelector('canvas');
  return canvas && Math.abs(canvas.getBoundingClientRect().width - box.getBoundingClientRect().width) < 1;
})"""


def resize(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    try:
        page.wait_for_function(CHARTS_FIT, timeout=5_000)
    except PlaywrightError:
        pass  # a chart that never fits is reported by the checks that follow, in words
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def problems_at(page: Page) -> list[str]:
    """Layout problems with the tables of figures closed, then open (they must scroll in their box)."""
    closed = page.evaluate(LAYOUT_PROBLEMS)
    page.evaluate("() => document.querySelectorAll('details.cdr-chart-data').forEach((d) => (d.open = true))")
    opened = page.evaluate(LAYOUT_PROBLEMS)
    page.evaluate("() => document.querySelectorAll('details.cdr-chart-data').forEach((d) => (d.open = false))")
    return closed + [f"(tables open) {p}" for p in opened]


@pytest.mark.parametrize("lang, host", [("en", EN_HOST), ("fr", FR_HOST)])
def test_no_sideways_scroll_and_no_text_outside_its_box(open_page, lang, host):
    opened = open_page(host, width=WIDTHS[0])
    page = opened.page
    found: dict[str, list[str]] = {}
    for scope, widths in (("all", WIDTHS), ("dac", tuple(reversed(WIDTHS)))):
        if scope == "dac":
            settled_scope(page, "dac")
        for width in widths:
            resize(page, width)
            assert page.evaluate("document.documentElement.clientWidth") == width
            problems = problems_at(page)
            if problems:
                found[f"{lang} {scope} {width}px"] = problems
            screenshot(page, f"layout_{lang}_{scope}_{width}.png")
    assert found == {}
    assert opened.console_errors == []


def test_the_checks_catch_a_figure_too_wide_for_its_card(open_page):
    # The checks can fail: a figure forced wider than its card at 320 px, on the strict preview,
    # widens the grid column and so the page, and sticks out of its card.
    page = open_page(EN_HOST, width=320).page
    page.evaluate(
        """() => {
      const number = document.querySelector('#cdr-stat-spent .cdr-stat-number');
      number.textContent = '$20,180,000,000,000';
      number.style.fontSize = '38px';
    }"""
    )
    problems = page.evaluate(LAYOUT_PROBLEMS)
    assert any(p.startswith("page is ") and p.endswith("px wide in a 320px window") for p in problems), problems
    assert any(p.startswith('#cdr-stat-spent: "$20,180,000,000,000" spans') for p in problems), problems
