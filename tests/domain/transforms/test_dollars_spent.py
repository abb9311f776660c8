"""dollars_spent: reading the front-page figure, from text and from saved pages."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cdr_dagster.domain.transforms.dollars_spent import (
    DollarsSpentError,
    dollars_spent_frame,
    extract_dollars_spent,
    parse_dollar_amount,
)

from .builders import records

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "cdr_fyi_pages"
URL = "http://127.0.0.1:8765/"


def _page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$12,345,678,901", 12_345_678_901.0),
        ("$1,234,567,890", 1_234_567_890.0),
        ("$2.1B", 2_100_000_000.0),
        ("$950M", 950_000_000.0),
        ("$75K", 75_000.0),
        ("$2.1b", 2_100_000_000.0),
        ("$950m", 950_000_000.0),
        ("$75k", 75_000.0),
        ("  $ 2.1 B  ", 2_100_000_000.0),
        ("$\u00a0950\u00a0M", 950_000_000.0),  # non-breaking spaces
        ("USD 950M", 950_000_000.0),
        ("$950M USD", 950_000_000.0),
        ("US$1.2 billion", 1_200_000_000.0),
        ("$1.2bn", 1_200_000_000.0),
        ("$2.1B+", 2_100_000_000.0),
        ("1234567890", 1_234_567_890.0),
        ("$1,234.56", 1_234.56),
    ],
)
def test_parse_dollar_amount(text: str, expected: float) -> None:
    assert parse_dollar_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("$—", "not a dollar amount: found '$—'"),
        ("coming soon", "not a dollar amount: found 'coming soon'"),
        ("", "not a dollar amount: found ''"),
        ("$2.1X", "not a dollar amount: found '$2.1X'"),
        ("$1,23,4", "not a dollar amount: found '$1,23,4'"),
        ("$1.2.3B", "not a dollar amount: found '$1.2.3B'"),
        ("$0", "must be a positive amount: found '$0'"),
        ("$0.0B", "must be a positive amount: found '$0.0B'"),
        ("-$5M", "must be a positive amount: found '-$5M'"),
    ],
)
def test_parse_dollar_amount_failures_quote_the_text(text: str, message: str) -> None:
    with pytest.raises(DollarsSpentError) as caught:
        parse_dollar_amount(text)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("current.html", 1_234_567_890.0),
        ("abbreviated.html", 2_100_000_000.0),  # also: caption "Spent on CO<sub>2</sub> removal"
        # Headings before it (one says "spent ... per ton", one is a text-primary-foreground
        # skeleton saying "spent on CO2 removal"), and a caption with "CO₂" over two lines.
        ("extra_headings.html", 3_456_789_012.0),
    ],
)
def test_extract_from_saved_pages(page: str, expected: float) -> None:
    assert extract_dollars_spent(_page(page), URL) == expected


def test_redesigned_page_fails_saying_what_was_sought_where_and_what_was_found() -> None:
    with pytest.raises(DollarsSpentError) as caught:
        extract_dollars_spent(_page("redesigned.html"), URL)
    message = str(caught.value)
    assert f"not found at {URL}" in message
    assert 'looked for an <h3 class="text-primary"> whose next <p> sibling contains "spent on CO2 removal"' in message
    assert "found 1 h3.text-primary (figure / caption): 'Explore the leaderboards' / 'See who buys" in message


def test_page_without_any_figure_heading() -> None:
    html = "<html><head><title>Just a moment...</title></head><body><h3>Checking your browser</h3></body></html>"
    with pytest.raises(DollarsSpentError) as caught:
        extract_dollars_spent(html, URL)
    assert "found no h3.text-primary at all (1 <h3> in total" in str(caught.value)
    assert "title 'Just a moment...'" in str(caught.value)


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("non_numeric.html", "not a dollar amount: found '$—'"),
        ("zero.html", "must be a positive amount: found '$0'"),
    ],
)
def test_unreadable_figure_on_saved_pages(page: str, message: str) -> None:
    with pytest.raises(DollarsSpentError) as caught:
        extract_dollars_spent(_page(page), URL)
    assert f"dollars spent at {URL} unreadable" in str(caught.value)
    assert message in str(caught.value)


def test_figure_shown_twice_must_agree() -> None:
    card = '<div><h3 class="text-primary">{}</h3><p>spent on CO2 removal</p></div>'
    same = card.format("$1.5B") + card.format("$1,500,000,000")
    assert extract_dollars_spent(same, URL) == 1_500_000_000.0
    with pytest.raises(DollarsSpentError, match="ambiguous"):
        extract_dollars_spent(card.format("$1.5B") + card.format("$1.6B"), URL)


def test_the_caption_must_follow_its_own_heading() -> None:
    # A heading without a caption must not borrow the caption of the next heading.
    html = '<div><h3 class="text-primary">$9</h3><h3 class="text-primary">$1,000,000</h3><p>spent on CO2 removal</p></div>'
    assert extract_dollars_spent(html, URL) == 1_000_000.0


def test_dollars_spent_frame() -> None:
    frame = dollars_spent_frame(1_234_567_890.0)
    assert list(frame.columns) == ["metric", "value"]
    assert records(frame) == [("dollars_spent", 1_234_567_890.0)]


@pytest.mark.parametrize("value", [0.0, -1.0, math.nan, math.inf, None, "abc"])
def test_dollars_spent_frame_refuses_what_must_never_be_published(value: object) -> None:
    with pytest.raises(DollarsSpentError):
        dollars_spent_frame(value)  # type: ignore[arg-type]
