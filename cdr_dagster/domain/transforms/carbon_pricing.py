"""The World Bank's carbon-pricing figures: validating the hand-dropped file, and ``carbon_pricing``.

The World Bank publishes these once a year (State and Trends of Carbon Pricing) with no API, so a
person drops ``raw/world_bank_carbon_pricing.csv`` with the columns ``year, countries_count,
global_emissions_pct`` (more allowed, ignored). It feeds the page's "Governments are pricing
carbon" chart: countries with a carbon price in force (bars) and the share of global greenhouse
gas emissions covered, in percent (line). Like the CCN file it is rejected as a whole, with every
offending line named.
"""

from __future__ import annotations

import os
import re

import pandas as pd

from cdr_dagster.domain.datasets import CARBON_PRICING_COLUMNS
from cdr_dagster.domain.numbers import number, ranges
from cdr_dagster.domain.transforms import dropped_file as dropped
from cdr_dagster.domain.transforms.dropped_file import FileRejected, LineProblem

#: Columns the file must have (others are ignored); they are also the dataset's columns.
CARBON_PRICING_REQUIRED_COLUMNS: tuple[str, ...] = CARBON_PRICING_COLUMNS
#: Carbon pricing before 1990 (Finland's tax) did not exist.
CARBON_PRICING_MIN_YEAR: int = 1990
#: More countries than the world has is a typo (the UN has 193 members).
CARBON_PRICING_MAX_COUNTRIES: int = 250
WHAT = "World Bank carbon-pricing file"

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def read_carbon_pricing_csv(source: bytes | str | os.PathLike[str]) -> pd.DataFrame:
    """Every cell as text, each row with its line in the file."""
    return dropped.read_dropped_csv(source, WHAT)


def validate_carbon_pricing(raw: pd.DataFrame, current_year: int) -> pd.DataFrame:
    """The ``carbon_pricing`` dataset from the dropped file, or a rejection of the whole file.

    Rejected, every offending line named in one :class:`FileRejected`: a missing column; no rows;
    a row with the wrong number of fields; a year that is not an integer from 1990 to
    ``current_year`` or that appears twice; a count that is not a whole number from 0 to 250; a share that
    is not a number from 0 to 100; a year missing between the first and the last (a gap is an
    error, never a 0). Returns one row per year, oldest first, with the contract's columns.
    """
    columns = dropped.find_columns(raw, CARBON_PRICING_REQUIRED_COLUMNS, WHAT)
    problems: list[LineProblem] = list(raw.attrs.get("problems") or [])
    if raw.empty and not problems:
        raise FileRejected(f"{WHAT} rejected, nothing published: it has a header but no year")
    line = dropped.row_lines(raw)
    years_text = dropped.text_column(raw, columns["year"])
    counts_text = dropped.text_column(raw, columns["countries_count"])
    shares_text = dropped.text_column(raw, columns["global_emissions_pct"])

    years: list[int | None] = []
    for at, year in zip(line, years_text, strict=True):
        if not _INTEGER.fullmatch(year):
            problems.append(LineProblem((int(at),), f"year {year!r} is not an integer" if year else "year is blank"))
            years.append(None)
        elif not CARBON_PRICING_MIN_YEAR <= int(year) <= current_year:
            problems.append(LineProblem((int(at),), f"year {year} is not between {CARBON_PRICING_MIN_YEAR} and {current_year}"))
            years.append(None)
        else:
            years.append(int(year))
    for at, count in zip(line, counts_text, strict=True):
        if not _INTEGER.fullmatch(count) or not 0 <= int(count) <= CARBON_PRICING_MAX_COUNTRIES:
            shown = f"{count!r} is not a whole number from 0 to {CARBON_PRICING_MAX_COUNTRIES}" if count else "is blank"
            problems.append(LineProblem((int(at),), f"countries_count {shown}"))
    for at, share in zip(line, shares_text, strict=True):
        if not _NUMBER.fullmatch(share) or not 0 <= float(share) <= 100:
            shown = f"{share!r} is not a number from 0 to 100" if share else "is blank"
            problems.append(LineProblem((int(at),), f"global_emissions_pct {shown}"))

    seen: dict[int, list[int]] = {}
    for at, year in zip(line, years, strict=True):
        if year is not None:
            seen.setdefault(year, []).append(int(at))
    for year, lines in seen.items():
        if len(lines) > 1:
            problems.append(LineProblem(tuple(lines), f"year {year} appears {number(len(lines))} times"))
    if seen:
        missing = sorted(set(range(min(seen), max(seen) + 1)) - set(seen))
        if missing:
            shown = ranges(missing)
            problems.append(
                LineProblem((), f"year(s) {shown} missing between {min(seen)} and {max(seen)}: every year needs a row")
            )

    if problems:
        raise dropped.reject(WHAT, problems)
    frame = pd.DataFrame(
        {
            "year": pd.array(years, dtype="int64"),
            "countries_count": counts_text.astype("int64").to_numpy(),
            "global_emissions_pct": shares_text.astype("float64").to_numpy(),
        }
    )
    return frame.sort_values("year", kind="stable").reset_index(drop=True).loc[:, list(CARBON_PRICING_COLUMNS)]
