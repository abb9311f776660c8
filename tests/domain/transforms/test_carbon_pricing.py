"""The World Bank carbon-pricing file: validated as a whole, every bad line named."""

from __future__ import annotations

import pytest

from cdr_dagster.domain.datasets import CARBON_PRICING_COLUMNS
from cdr_dagster.domain.transforms.carbon_pricing import read_carbon_pricing_csv, validate_carbon_pricing
from cdr_dagster.domain.transforms.dropped_file import FileRejected
from cdr_dagster.sample_data import CARBON_PRICING_FILE, sample_bytes

YEAR = 2026
HEADER = "year,countries_count,global_emissions_pct\n"


def _validate(body: str, header: str = HEADER):
    return validate_carbon_pricing(read_carbon_pricing_csv((header + body).encode("utf-8")), current_year=YEAR)


def _problems(body: str, header: str = HEADER) -> list[str]:
    with pytest.raises(FileRejected) as caught:
        _validate(body, header)
    return [str(p) for p in caught.value.problems]


def test_a_good_file_gives_one_row_per_year_oldest_first_with_the_contract_columns() -> None:
    frame = _validate("2024,55,24.1\n2022,51,23.1\n2023,53,23.9\n", header="Year, Countries_Count ,global_emissions_pct\n")
    assert tuple(frame.columns) == CARBON_PRICING_COLUMNS
    assert frame.to_dict("records") == [
        {"year": 2022, "countries_count": 51, "global_emissions_pct": 23.1},
        {"year": 2023, "countries_count": 53, "global_emissions_pct": 23.9},
        {"year": 2024, "countries_count": 55, "global_emissions_pct": 24.1},
    ]
    assert frame["year"].dtype == "int64" and frame["countries_count"].dtype == "int64"


def test_extra_columns_are_ignored() -> None:
    frame = _validate("2025,59,27.9,from the 2025 report\n", header="year,countries_count,global_emissions_pct,source\n")
    assert frame.to_dict("records") == [{"year": 2025, "countries_count": 59, "global_emissions_pct": 27.9}]


def test_every_bad_line_is_named_at_once() -> None:
    problems = _problems(
        "2020,47,15.8\n"  # 2: fine
        "2021,-1,21.6\n"  # 3: negative count
        "2022,51.5,23.1\n"  # 4: not a whole number
        "2023,53,100.5\n"  # 5: share above 100
        "twenty,55,24\n"  # 6: year not an integer
        "2027,60,30\n"  # 7: in the future
        "2022,51,23.1\n"  # 8: 2022 again
    )
    assert problems == [
        "line 3: countries_count '-1' is not a whole number from 0 to 250",
        "line 4: countries_count '51.5' is not a whole number from 0 to 250",
        "lines 4, 8: year 2022 appears 2 times",  # problems sort by their lines
        "line 5: global_emissions_pct '100.5' is not a number from 0 to 100",
        "line 6: year 'twenty' is not an integer",
        "line 7: year 2027 is not between 1990 and 2026",
    ]


def test_a_missing_year_is_an_error_not_a_zero() -> None:
    assert _problems("2019,46,15.4\n2021,49,21.6\n2022,51,23.1\n") == [
        "year(s) 2020 missing between 2019 and 2022: every year needs a row"
    ]


def test_a_year_before_1990_and_a_blank_share_are_named() -> None:
    assert _problems("1989,1,0.1\n1990,1,\n") == [
        "line 2: year 1989 is not between 1990 and 2026",
        "line 3: global_emissions_pct is blank",
    ]


def test_header_only_and_missing_columns_are_rejected_with_one_sentence() -> None:
    with pytest.raises(FileRejected, match="it has a header but no year"):
        _validate("")
    with pytest.raises(FileRejected, match="missing required column\\(s\\) global_emissions_pct"):
        _validate("2020,47\n", header="year,countries_count\n")


def test_the_bundled_sample_is_valid_and_labelled_as_sample() -> None:
    data = sample_bytes(CARBON_PRICING_FILE)
    frame = validate_carbon_pricing(read_carbon_pricing_csv(data), current_year=YEAR)
    assert frame["year"].tolist() == list(range(2005, 2027))
    assert frame["global_emissions_pct"].between(0, 100).all()
    assert b"SAMPLE" in data.splitlines()[1]


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        (
            "year,year,countries_count,global_emissions_pct\n",
            "2020,2020,47,15.8\n",
            "line 1: the header names column 'year' more than once",
        ),
        (
            HEADER,
            "2020,100000000000000000000,15.8\n",
            "line 2: countries_count '100000000000000000000' is not a whole number from 0 to 250",
        ),
        (HEADER, "100000000000000000000,47,15.8\n", "line 2: year 100000000000000000000 is not between 1990 and 2026"),
        (HEADER, "2020,47,1e400\n", "line 2: global_emissions_pct '1e400' is not a number from 0 to 100"),
    ],
)
def test_a_malformed_file_is_rejected_with_the_same_one_sentence(header: str, body: str, expected: str) -> None:
    with pytest.raises(FileRejected) as caught:
        _validate(body, header)
    assert [str(p) for p in caught.value.problems] == [expected]
    assert str(caught.value).startswith("World Bank carbon-pricing file rejected, nothing published: 1 problem(s)")


def test_a_year_repeated_400000_times_is_one_short_problem() -> None:
    with pytest.raises(FileRejected) as caught:
        _validate("2020,47,15.8\n" * 400_000)
    message = str(caught.value)
    # lines 2 to 400,001 as one range, not 400,000 numbers
    assert message.endswith("lines 2-400001: year 2020 appears 400,000 times") and len(message) < 300
