"""Formula prefixes: neutralised in the raw CSVs people open in spreadsheets, restored exactly
when the pipeline reads them back; the page's datasets keep the text as it is. (Names in Slack
texts are escaped by escape_slack: tests/domain/test_quality_rules.py.)"""

from __future__ import annotations

import pandas as pd

from cdr_dagster.domain.csv_format import csv_bytes_to_frame, frame_to_csv_bytes, neutralise, restore

NAMES = [
    '=HYPERLINK("http://x","click")',
    "@SUM(A1)",
    "+1234",  # a number: a spreadsheet reads it as one, nothing to neutralise
    "-2.5",
    "-cmd|' /C calc'!A0",
    "\tTabbed",
    "'quoted already",
    "'=already neutral",
    "Plain Name",
    None,
]


def test_raw_csvs_neutralise_formula_prefixes_and_read_back_exactly() -> None:
    frame = pd.DataFrame({"name": NAMES, "tons_purchased": [-1.0] * len(NAMES)})
    data = frame_to_csv_bytes(frame, spreadsheet_safe=True)
    cells = pd.read_csv(pd.io.common.BytesIO(data), dtype=str, keep_default_na=False)["name"].tolist()
    assert cells == [
        """'=HYPERLINK("http://x","click")""",
        "'@SUM(A1)",
        "+1234",
        "-2.5",
        "'-cmd|' /C calc'!A0",
        "'\tTabbed",
        "''quoted already",
        "''=already neutral",
        "Plain Name",
        "",
    ]
    assert b"-1.0" in data  # numbers are numbers
    back = csv_bytes_to_frame(data, spreadsheet_safe=True)
    assert back["name"].tolist()[:-1] == NAMES[:-1] and pd.isna(back["name"].iloc[-1])


def test_a_carriage_return_prefix_is_neutralised_too() -> None:
    # (a lone carriage return is not quoted by the CSV writer, so it is tested cell by cell)
    assert neutralise("\rReturn") == "'\rReturn" and restore("'\rReturn") == "\rReturn"
    assert neutralise(-2.5) == -2.5 and restore("'plain") == "'plain"


def test_the_pages_datasets_keep_names_as_they_are() -> None:
    frame = pd.DataFrame({"supplier_name": ['=HYPERLINK("http://x","click")', "@Home"]})
    assert frame_to_csv_bytes(frame) == b'supplier_name\n"=HYPERLINK(""http://x"",""click"")"\n@Home\n'
