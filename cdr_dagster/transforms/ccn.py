"""CCN (Circular Carbon Network) companies: validating the hand-dropped file, and ``ccn_data``.

CCN publishes no API, so a person drops ``raw/ccn_companies.csv`` in the bucket with the columns
``company_name, year_founded, pathway`` (more allowed, ignored). A typo there would go straight to
a public chart, so the file is validated hard and rejected as a whole, with every offending line
named, so the person can fix them all in one go.

``ccn_data`` is the "CDR companies founded per year" bar chart and stat on the page.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass

import pandas as pd

from cdr_dagster.transforms.rules import CCN_DAC_PATHWAYS, CCN_DATA_COLUMNS, empty_frame

#: Columns the CCN file must have (others are ignored).
CCN_REQUIRED_COLUMNS: tuple[str, ...] = ("company_name", "year_founded", "pathway")
#: Earliest plausible founding year.
CCN_MIN_YEAR: int = 1900
#: Line of the first data row in the file (line 1 is the header).
FIRST_DATA_LINE: int = 2

_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class CcnProblem:
    """One reason to reject the file, with the file line(s) it concerns."""

    lines: tuple[int, ...]
    reason: str

    def __str__(self) -> str:
        if len(self.lines) == 1:
            return f"line {self.lines[0]}: {self.reason}"
        return f"lines {', '.join(map(str, self.lines))}: {self.reason}"


class CcnValidationError(ValueError):
    """The CCN companies file is rejected; ``problems`` lists every offending line and why."""

    def __init__(self, message: str, problems: tuple[CcnProblem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


def read_ccn_csv(source: bytes | str | os.PathLike[str]) -> pd.DataFrame:
    """Read the CCN file the way :func:`validate_ccn_companies` expects: every cell as text.

    ``source`` is the file's content as ``bytes`` (for example an S3 object body) or a path.
    Blank lines are kept as rows, so they are reported and the line numbers stay those of the
    file; a UTF-8 byte order mark (Excel's "CSV UTF-8") is dropped. Line numbers match the file
    as long as no quoted cell spans several lines.
    """
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    return pd.read_csv(
        handle, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig"
    )


def _header_key(name: object) -> str:
    # People edit this file by hand: tolerate a BOM, padding and capitals in the header only.
    return str(name).removeprefix("\ufeff").strip().lower()


def validate_ccn_companies(raw: pd.DataFrame, current_year: int) -> pd.DataFrame:
    """Check the hand-dropped CCN file and return its companies, or reject the whole file.

    ``raw`` is the CSV read with every column as text (``dtype=str, keep_default_na=False``, see
    :func:`read_ccn_csv`); its rows are in file order, so the row at position ``i`` is on line
    ``i + 2`` (line 1 is the header).

    Rejections (contract: "reject the whole file, naming the rows"), all collected into one
    :class:`CcnValidationError`:

    - a required column is missing (header names compared trimmed and case-insensitively);
    - ``company_name`` is blank;
    - ``year_founded`` is not an integer, or not between 1900 and ``current_year`` inclusive;
    - a company appears more than once (names compared trimmed and case-insensitively); all its
      lines are named together.

    Returns ``company_name`` (trimmed), ``year_founded`` (int), ``pathway`` (trimmed), in file
    order; other columns are dropped.
    """
    columns = {}
    for column in raw.columns:
        columns.setdefault(_header_key(column), column)
    missing = [c for c in CCN_REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CcnValidationError(
            f"CCN companies file rejected: missing required column(s) {', '.join(missing)}; "
            f"expected {', '.join(CCN_REQUIRED_COLUMNS)}, "
            f"found {', '.join(map(str, raw.columns)) or 'no columns'}"
        )

    def text(column: str) -> pd.Series:
        values = raw[columns[column]].reset_index(drop=True)
        return values.astype("object").where(values.notna(), "").astype(str).str.strip()

    names, years_text, pathways = text("company_name"), text("year_founded"), text("pathway")
    line = pd.RangeIndex(FIRST_DATA_LINE, FIRST_DATA_LINE + len(raw))
    problems: list[CcnProblem] = []

    blank_name = names.eq("")
    for at in line[blank_name.to_numpy()]:
        problems.append(CcnProblem((int(at),), "company_name is blank"))

    is_integer = years_text.str.fullmatch(_INTEGER.pattern).astype(bool)
    years = pd.to_numeric(years_text.where(is_integer), errors="coerce")
    out_of_range = is_integer & ~years.between(CCN_MIN_YEAR, current_year)
    for at, value, ok in zip(line, years_text, is_integer, strict=True):
        if not ok:
            shown = f"{value!r} is not an integer" if value else "is blank"
            problems.append(CcnProblem((int(at),), f"year_founded {shown}"))
    for at, value in zip(line[out_of_range.to_numpy()], years_text[out_of_range], strict=True):
        reason = f"year_founded {value} is not between {CCN_MIN_YEAR} and {current_year}"
        problems.append(CcnProblem((int(at),), reason))

    key = names.str.casefold()
    repeated = key.duplicated(keep=False) & ~blank_name
    for _, group in line.to_series()[repeated.to_numpy()].groupby(key[repeated].to_numpy(), sort=False):
        lines = tuple(int(at) for at in group)
        problems.append(
            CcnProblem(
                lines,
                f"company {names.iloc[lines[0] - FIRST_DATA_LINE]!r} appears {len(lines)} times "
                "(names compared trimmed and case-insensitively)",
            )
        )

    if problems:
        problems.sort(key=lambda p: p.lines)
        listing = "\n".join(f"  {p}" for p in problems)
        raise CcnValidationError(
            f"CCN companies file rejected, nothing published: {len(problems)} problem(s); "
            f"fix them all and drop the file again:\n{listing}",
            tuple(problems),
        )
    return pd.DataFrame(
        {"company_name": names, "year_founded": years.astype("int64"), "pathway": pathways}
    )


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
