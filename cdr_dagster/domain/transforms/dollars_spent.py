"""``dollars_spent``: total dollars spent on CO2 removal, the page's ALL CDR "total spent" stat.

cdr.fyi computes it with private prices and publishes it only on its front page (no API yet), so
it is scraped: the text of an ``<h3 class="text-primary">`` whose next ``<p>`` says "spent on CO2
removal". A scrape that finds nothing, or a value that is not a positive amount, raises
:class:`DollarsSpentError`: the dataset must never be published as zero or empty.

The parsing here is pure (HTML text in, number out); fetching the page belongs to a resource, so
a future ``/metrics`` endpoint can replace the scrape without touching :func:`dollars_spent_frame`.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

import pandas as pd
from bs4 import BeautifulSoup, Tag

from cdr_dagster.domain.datasets import DOLLARS_SPENT_COLUMNS
from cdr_dagster.domain.transforms.rules import DOLLARS_SPENT_METRIC

#: Class of the headline figures on cdr.fyi's front page (Tailwind: one class among several).
FIGURE_CLASS: str = "text-primary"
#: Caption that identifies the dollars figure among the headline figures (case-insensitive;
#: ``CO₂`` and ``CO<sub>2</sub>`` match too).
CAPTION_PATTERN: re.Pattern[str] = re.compile(r"spent\s+on\s+co(?:2|₂)\s+removal", re.IGNORECASE)

_MULTIPLIERS: dict[str, int] = {
    "": 1,
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mm": 10**6,
    "mn": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
    "t": 10**12,
    "tn": 10**12,
    "trillion": 10**12,
}
# "$12,345,678,901", "$2.1B", "$950 M", "USD 75k", "US$ 1.2 billion", "$2.1B+". Thousands
# separators must be well placed: "1,23,4" is more likely broken markup than a number.
_AMOUNT = re.compile(
    r"""^(?P<sign>[-−])?\s*
        (?:US\s*\$|USD|\$)?\s*
        (?P<sign2>[-−])?\s*
        (?P<number>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*
        (?P<suffix>(?!USD)[a-z]*)\s*
        (?:USD)?\s*\+?$""",
    re.IGNORECASE | re.VERBOSE,
)
_SPACES = re.compile(r"\s+")
_SHOWN = 80


class DollarsSpentError(ValueError):
    """The total dollars spent could not be read, or is not a positive amount."""


def _shorten(text: str, limit: int = _SHOWN) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_dollar_amount(text: str) -> float:
    """The amount in dollars written in ``text``.

    Accepts ``$12,345,678,901``, ``$2.1B``, ``$950M``, ``$75K`` and variants: lower-case or
    spelled-out suffixes (``bn``, ``million``), spaces (also non-breaking), ``USD``/``US$``, a
    trailing ``+``. Suffixes are decimal (K = 10^3, M = 10^6, B = 10^9, T = 10^12).

    Raises :class:`DollarsSpentError`, quoting the text, when it is not such an amount or is not
    positive (a total spent can be neither zero nor negative).
    """
    if not isinstance(text, str):
        raise DollarsSpentError(f"expected the dollars spent as text, got {type(text).__name__}: {text!r}")
    cleaned = _SPACES.sub(" ", text).strip()
    match = _AMOUNT.match(cleaned)
    suffix = match["suffix"].lower() if match else ""
    if match is None or suffix not in _MULTIPLIERS:
        raise DollarsSpentError(
            f"dollars spent is not a dollar amount: found {_shorten(text)!r} "
            "(expected a form like '$1,234,567,890', '$2.1B' or '$950M')"
        )
    try:
        amount = Decimal(match["number"].replace(",", "")) * _MULTIPLIERS[suffix]
    except InvalidOperation as exc:  # pragma: no cover - the pattern only lets digits through
        raise DollarsSpentError(f"dollars spent is not a number: found {_shorten(text)!r}") from exc
    if match["sign"] or match["sign2"]:
        amount = -amount
    if amount <= 0:
        raise DollarsSpentError(f"dollars spent must be a positive amount: found {_shorten(text)!r} ({float(amount):g})")
    return float(amount)


def _text(tag: Tag) -> str:
    # No separator: "CO<sub>2</sub>" must read "CO2"; block layout whitespace is collapsed.
    return _SPACES.sub(" ", tag.get_text()).strip()


def _caption_of(heading: Tag) -> Tag | None:
    """The ``<p>`` following ``heading`` among its siblings, stopping at the next heading."""
    for sibling in heading.find_next_siblings(True):
        if sibling.name == "p":
            return sibling
        if sibling.name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            return None
    return None


def extract_dollars_spent(html: str, url: str) -> float:
    """The total dollars spent on CO2 removal shown on cdr.fyi's front page.

    Looks for every ``<h3>`` with class ``text-primary`` (among possibly others) whose next
    ``<p>`` sibling contains "spent on CO2 removal" (case-insensitive; ``CO₂`` accepted) and
    parses its text with :func:`parse_dollar_amount`. If the page shows the figure more than once
    (e.g. separate mobile and desktop blocks), every copy must agree.

    Raises :class:`DollarsSpentError` naming ``url`` when no such heading exists (saying what was
    found instead: how many ``h3.text-primary`` and their texts with captions), when copies
    disagree, or when the figure is not a positive amount.
    """
    soup = BeautifulSoup(html, "html.parser")
    headings = soup.find_all("h3", class_=FIGURE_CLASS)
    matches: list[str] = []
    seen: list[str] = []
    for heading in headings:
        caption = _caption_of(heading)
        caption_text = _text(caption) if caption is not None else ""
        seen.append(f"{_shorten(_text(heading), 40)!r} / {_shorten(caption_text, 60)!r}")
        if CAPTION_PATTERN.search(caption_text):
            matches.append(_text(heading))

    looked_for = f'an <h3 class="{FIGURE_CLASS}"> whose next <p> sibling contains "spent on CO2 removal"'
    if not matches:
        if headings:
            listing = "; ".join(seen[:10]) + ("; …" if len(seen) > 10 else "")
            found = f"found {len(headings)} h3.{FIGURE_CLASS} (figure / caption): {listing}"
        else:
            title = soup.title.get_text(strip=True) if soup.title else ""
            found = (
                f"found no h3.{FIGURE_CLASS} at all ({len(soup.find_all('h3'))} <h3> in total, "
                f"{len(html)} characters of HTML, title {_shorten(title, 60)!r})"
            )
        raise DollarsSpentError(f"dollars spent not found at {url}: looked for {looked_for}; {found}")

    try:
        values = [parse_dollar_amount(text) for text in matches]
    except DollarsSpentError as exc:
        raise DollarsSpentError(f"dollars spent at {url} unreadable: {exc}") from exc
    if len(set(values)) > 1:
        raise DollarsSpentError(
            f"dollars spent at {url} is ambiguous: {len(values)} figures match {looked_for} "
            f"and disagree: {[_shorten(t, 40) for t in matches]}"
        )
    return values[0]


def dollars_spent_frame(value: float) -> pd.DataFrame:
    """The ``dollars_spent`` dataset: columns ``metric, value``, one row ``dollars_spent, <value>``.

    Refuses (:class:`DollarsSpentError`) a value that is not a finite positive number, so a zero
    or empty figure is never published whatever produced it (scrape today, API tomorrow).
    """
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise DollarsSpentError(f"dollars spent must be a number, got {value!r}") from exc
    if not math.isfinite(number) or number <= 0:
        raise DollarsSpentError(f"dollars spent must be a finite positive amount, got {value!r}")
    return pd.DataFrame({"metric": [DOLLARS_SPENT_METRIC], "value": [number]}, columns=list(DOLLARS_SPENT_COLUMNS))
