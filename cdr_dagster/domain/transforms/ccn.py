"""CCN (Circular Carbon Network) companies: validating the hand-dropped file, and ``ccn_data``.

CCN publishes no API, so a person drops ``raw/ccn_companies.csv`` in the bucket with the columns
``company_name, year_founded, pathway`` (more allowed, ignored). A typo there would go straight to
a public chart, so the file is validated hard and rejected as a whole, with every offending line
named, so the person can fix them all in one go.

``ccn_data`` is the "CDR companies founded per year" bar chart and stat on the page.
"""

from __future__ import annotations

import os
import re

import pandas as pd

from cdr_dagster.domain.datasets import CCN_DATA_COLUMNS
from cdr_dagster.domain.transforms.dropped_file import (
    FileRejected,
    LineProblem,
    find_columns,
    read_dropped_csv,
    reject,
    row_lines,
    text_column,
)
from cdr_dagster.domain.transforms.rules import CCN_DAC_PATHWAYS, empty_frame

#: Columns the CCN file must have (others are ignored).
CCN_REQUIRED_COLUMNS: tuple[str, ...] = ("company_name", "year_founded", "pathway")
#: Earliest plausible founding year.
CCN_MIN_YEAR: int = 1900
WHAT = "CCN companies file"

_INTEGER = re.compile(r"[+-]?[0-9]+")

# The names the rest of the platform and the tests know these by.
CcnProblem = LineProblem
CcnValidationError = FileRejected


def read_ccn_csv(source: bytes | str | os.PathLike[str]) -> pd.DataFrame:
    """Read the CCN file the way :func:`validate_ccn_companies` expects: every cell as text, each
    row with its line in the file (see :func:`~cdr_dagster.domain.transforms.dropped_file.read_dropped_csv`)."""
    return read_dropped_csv(source, WHAT)


def validate_ccn_companies(raw: pd.DataFrame, current_year: int) -> pd.DataFrame:
    """Check the hand-dropped CCN file and return its companies, or reject the whole file.

    ``raw`` is the CSV read with every column as text (see :func:`read_ccn_csv`), in file order.

    Rejections (contract: "reject the whole file, naming the rows"), all collected into one
    :class:`CcnValidationError`:

    - a required column is missing (header names compared trimmed and case-insensitively);
    - the file has no company at all;
    - a row has more or fewer fields than the header (an unquoted comma in a name);
    - ``company_name`` is blank;
    - ``year_founded`` is not an integer, or not between 1900 and ``current_year`` inclusive;
    - a company appears more than once (names compared trimmed and case-insensitively); all its
      lines are named together.

    Returns ``company_name`` (trimmed), ``year_founded`` (int), ``pathway`` (trimmed), in file
    order; other columns are dropped.
    """
    columns = find_columns(raw, CCN_REQUIRED_COLUMNS, WHAT)
    problems: list[LineProblem] = list(raw.attrs.get("problems") or [])
    if raw.empty and not problems:
        raise FileRejected(f"{WHAT} rejected, nothing published: it has a header but no company")

    names = text_column(raw, columns["company_name"])
    years_text = text_column(raw, columns["year_founded"])
    pathways = text_column(raw, columns["pathway"])
    line = row_lines(raw)

    blank_name = names.eq("")
    for at in line[blank_name.to_numpy()]:
        problems.append(LineProblem((int(at),), "company_name is blank"))

    is_integer = years_text.str.fullmatch(_INTEGER.pattern).astype(bool)
    years = pd.to_numeric(years_text.where(is_integer), errors="coerce")
    out_of_range = is_integer & ~years.between(CCN_MIN_YEAR, current_year)
    for at, value, ok in zip(line, years_text, is_integer, strict=True):
        if not ok:
            shown = f"{value!r} is not an integer" if value else "is blank"
            problems.append(LineProblem((int(at),), f"year_founded {shown}"))
    for at, value in zip(line[out_of_range.to_numpy()], years_text[out_of_range], strict=True):
        reason = f"year_founded {value} is not between {CCN_MIN_YEAR} and {current_year}"
        problems.append(LineProblem((int(at),), reason))

    key = names.str.casefold()
    repeated = key.duplicated(keep=False) & ~blank_name
    positions = pd.Series(range(len(raw)))[repeated.to_numpy()]
    for _, group in positions.groupby(key[repeated].to_numpy(), sort=False):
        lines = tuple(int(line[i]) for i in group)
        problems.append(
            LineProblem(
                lines,
                f"company {names.iloc[group.iloc[0]]!r} appears {len(lines)} times "
                "(names compared trimmed and case-insensitively)",
            )
        )

    if problems:
        raise reject(WHAT, problems)
    return pd.DataFrame({"company_name": names, "year_founded": years.astype("int64"), "pathway": pathways})


def is_dac_pathway(pathways: pd.Series) -> pd.Series:
    """Boolean mask: the CCN pathway is ``DAC`` or one of the DAC method names.

    Compared trimmed and case-insensitively: the file is typed by hand, and ``dac`` means DAC.
    """
    wanted = {p.casefold() for p in CCN_DAC_PATHWAYS}
    return pathways.astype("string").str.strip().str.casefold().isin(wanted).astype(bool)


def ccn_data(companies: pd.DataFrame) -> pd.DataFrame:
    """CDR companies founded per year, all and DAC, with running totals.

    ``companies`` is the output of :func:`validate_ccn_companies`. Contract (``ccn_data``): one
    row per founding year from the earliest to the latest year in the input, years without a
    founding included with 0; DAC when the pathway is ``DAC`` or a DAC method name.
    """
    if companies.empty:
        return empty_frame(CCN_DATA_COLUMNS, dict.fromkeys(CCN_DATA_COLUMNS, "int64"))
    years = pd.to_numeric(companies["year_founded"], errors="raise").astype("int64")
    dac = is_dac_pathway(companies["pathway"])
    all_years = pd.RangeIndex(int(years.min()), int(years.max()) + 1, name="year")
    founded = years.value_counts().reindex(all_years, fill_value=0)
    dac_founded = years[dac].value_counts().reindex(all_years, fill_value=0)
    return pd.DataFrame(
        {
            "year": all_years.to_numpy(dtype="int64"),
            "companies_founded": founded.to_numpy(dtype="int64"),
            "dac_companies_founded": dac_founded.to_numpy(dtype="int64"),
            "companies_founded_cum": founded.cumsum().to_numpy(dtype="int64"),
            "dac_companies_founded_cum": dac_founded.cumsum().to_numpy(dtype="int64"),
        }
    )


def ccn_pathway_counts(companies: pd.DataFrame) -> dict[str, int]:
    """Companies per pathway as typed (trimmed), for run metadata.

    Lets a reviewer spot a DAC company filed under a spelling that is not counted as DAC (for
    example ``Direct Air Capture``).
    """
    counts = companies["pathway"].astype("string").str.strip().fillna("").value_counts()
    return {str(k): int(v) for k, v in counts.sort_index().items()}
