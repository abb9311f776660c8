"""CCN companies: validating the hand-dropped file, and ccn_data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdr_dagster.domain.datasets import CCN_DATA_COLUMNS
from cdr_dagster.domain.transforms.ccn import (
    CcnProblem,
    CcnValidationError,
    ccn_data,
    ccn_pathway_counts,
    read_ccn_csv,
    validate_ccn_companies,
)
from cdr_dagster.domain.transforms.dropped_file import FileRejected

from .builders import records

YEAR = 2026
HEADER = "company_name,year_founded,pathway\n"


def _read(body: str, header: str = HEADER) -> pd.DataFrame:
    return read_ccn_csv((header + body).encode("utf-8"))


def _rejection(body: str, header: str = HEADER) -> CcnValidationError:
    with pytest.raises(CcnValidationError) as caught:
        validate_ccn_companies(_read(body, header), current_year=YEAR)
    return caught.value


def test_years_without_foundings_and_dac_pathways() -> None:
    companies = validate_ccn_companies(
        _read(
            "Alpha,2015,DAC\n"
            "Beta,2015,Biochar\n"
            "Gamma,2018,Direct Air Carbon Capture and Storage (DACCS)\n"
            "Delta,2017, dac \n"  # typed by hand: trimmed, case-insensitive
            "Epsilon,2018,Direct Air Carbon Capture and Sequestration (DACCS)\n"
            "Zeta,2018,Direct Air Capture\n"  # not one of the DAC names
        ),
        current_year=YEAR,
    )
    result = ccn_data(companies)
    # 2015: Alpha (DAC), Beta -> 2 / 1; 2016: none; 2017: Delta (DAC); 2018: Gamma, Epsilon (DAC), Zeta
    assert list(result.columns) == list(CCN_DATA_COLUMNS)
    assert records(result) == [
        (2015, 2, 1, 2, 1),
        (2016, 0, 0, 2, 1),
        (2017, 1, 1, 3, 2),
        (2018, 3, 2, 6, 4),
    ]
    assert all(result[c].dtype == "int64" for c in CCN_DATA_COLUMNS)


def test_valid_file_returns_trimmed_companies_and_ignores_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "ccn_companies.csv"
    # Excel's "CSV UTF-8" starts with a byte order mark; header padding and case are tolerated.
    path.write_bytes(
        "\ufeffCompany_Name , year_founded,pathway,country\n"
        '"Carbon, Inc.",1900,Biochar,CA\n'
        f"  Société Ørsted  ,{YEAR},DAC,DK\n".encode()
    )
    companies = validate_ccn_companies(read_ccn_csv(path), current_year=YEAR)
    assert list(companies.columns) == ["company_name", "year_founded", "pathway"]
    assert records(companies) == [("Carbon, Inc.", 1900, "Biochar"), ("Société Ørsted", YEAR, "DAC")]
    assert ccn_pathway_counts(companies) == {"Biochar": 1, "DAC": 1}


def test_blank_name_is_rejected_naming_the_line() -> None:
    error = _rejection("Alpha,2015,DAC\n   ,2016,Biochar\n")
    assert error.problems == (CcnProblem((3,), "company_name is blank"),)
    assert "line 3: company_name is blank" in str(error)


@pytest.mark.parametrize(
    ("year", "reason"),
    [
        ("20x5", "year_founded '20x5' is not an integer"),
        ("2015.0", "year_founded '2015.0' is not an integer"),
        ("", "year_founded is blank"),
        ("1899", "year_founded 1899 is not between 1900 and 2026"),
        ("2027", "year_founded 2027 is not between 1900 and 2026"),  # next year
    ],
)
def test_bad_year_is_rejected_naming_the_line(year: str, reason: str) -> None:
    error = _rejection(f"Alpha,2015,DAC\nBeta,2016,DAC\nGamma,{year},Biochar\n")
    assert error.problems == (CcnProblem((4,), reason),)
    assert f"line 4: {reason}" in str(error)


def test_duplicate_company_is_rejected_naming_both_lines() -> None:
    error = _rejection("Climeworks,2009,DAC\nBeta,2016,Biochar\n  CLIMEWORKS ,2009,DAC\n")
    reason = "company 'Climeworks' appears 2 times (names compared trimmed and case-insensitively)"
    assert error.problems == (CcnProblem((2, 4), reason),)
    assert f"lines 2, 4: {reason}" in str(error)


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    error = _rejection(
        "Alpha,2015,DAC\n"  # 2
        ",2016,Biochar\n"  # 3
        "Beta,soon,Biochar\n"  # 4
        "alpha,2015,DAC\n"  # 5
        "\n"  # 6: blank line
        "Gamma,2027,DAC\n"  # 7
    )
    assert [str(p) for p in error.problems] == [
        "lines 2, 5: company 'Alpha' appears 2 times (names compared trimmed and case-insensitively)",
        "line 3: company_name is blank",
        "line 4: year_founded 'soon' is not an integer",
        "line 6: company_name is blank",
        "line 6: year_founded is blank",
        "line 7: year_founded 2027 is not between 1900 and 2026",
    ]
    assert str(error).startswith("CCN companies file rejected, nothing published: 6 problem(s)")
    assert isinstance(error, ValueError)


def test_missing_required_column_is_named() -> None:
    with pytest.raises(CcnValidationError) as caught:
        validate_ccn_companies(_read("Alpha,2015\n", header="company_name,founded\n"), current_year=YEAR)
    message = str(caught.value)
    assert "missing required column(s) year_founded, pathway" in message
    assert "found company_name, founded" in message


def test_header_only_file_is_rejected_not_published_empty() -> None:
    with pytest.raises(CcnValidationError, match="it has a header but no company"):
        validate_ccn_companies(_read(""), current_year=YEAR)


def test_empty_ccn_data_keeps_the_contract_columns() -> None:
    empty = pd.DataFrame({"company_name": [], "year_founded": [], "pathway": []})
    result = ccn_data(empty)
    assert list(result.columns) == list(CCN_DATA_COLUMNS)
    assert len(result) == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"   \n", "the file is empty"),
    ],
)
def test_empty_bytes_are_rejected_with_one_sentence(data: bytes, expected: str) -> None:
    with pytest.raises(CcnValidationError, match=expected):
        read_ccn_csv(data)


def test_windows_1252_and_utf16_files_are_read_with_their_accents() -> None:
    text = "company_name,year_founded,pathway\nCarbon Québec,2019,DAC\n"
    cp1252 = read_ccn_csv(text.encode("cp1252"))
    assert cp1252.attrs["warning"] and "Windows-1252" in cp1252.attrs["warning"]
    utf16 = read_ccn_csv(text.encode("utf-16"))
    assert utf16.attrs["warning"] is None
    for raw in (cp1252, utf16):
        companies = validate_ccn_companies(raw, current_year=YEAR)
        assert companies["company_name"].tolist() == ["Carbon Québec"]


def test_an_unquoted_comma_is_a_named_problem_not_a_silent_split() -> None:
    error = _rejection("Alpha,2015,DAC\nBeta, Inc.,2016,Biochar\nGamma,2017\n")
    assert [str(p) for p in error.problems] == [
        "line 3: has 4 fields, the header has 3 (a comma in a name must be inside quotes)",
        "line 4: has 2 fields, the header has 3 (a comma in a name must be inside quotes)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "company_name,year_founded,Pathway,pathway\nAlpha,2020,DAC,DAC\n",
            "line 1: the header names column 'pathway' more than once",
        ),
        (
            "company_name,year_founded,pathway\nAlpha,100000000000000000000,DAC\n",
            "line 2: year_founded 100000000000000000000 is not between 1900 and 2026",
        ),
    ],
)
def test_a_malformed_ccn_file_is_rejected_with_one_sentence_not_a_crash(text: str, expected: str) -> None:
    with pytest.raises(FileRejected) as caught:
        validate_ccn_companies(read_ccn_csv(text.encode()), current_year=2026)
    assert [str(p) for p in caught.value.problems] == [expected]
    assert str(caught.value).startswith("CCN companies file rejected, nothing published: 1 problem(s)")
