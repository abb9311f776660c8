"""Reading a CSV file that a person dropped in by hand (the CCN list, the World Bank figures).

People save these from Excel, Numbers or a text editor, so the reader is forgiving about how the
file is encoded and strict about what it holds: every cell is read as text, each data row keeps
the line number it has in the file, and a row with the wrong number of fields (an unquoted comma
in a name) is a problem to report, never a silent split.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from dataclasses import dataclass

import pandas as pd

from cdr_dagster.domain.numbers import number, ranges

#: Files larger than this are not a hand-maintained list: refuse them before parsing.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: How many problems the error message lists (the exception carries them all), and how many
#: line ranges one problem names: an alert and a terminal summary stay short.
LISTED_PROBLEMS = 10


@dataclass(frozen=True)
class LineProblem:
    """One reason to reject the file, with the file line(s) it concerns."""

    lines: tuple[int, ...]
    reason: str

    def __str__(self) -> str:
        if not self.lines:
            return self.reason
        if len(self.lines) == 1:
            return f"line {self.lines[0]}: {self.reason}"
        return f"lines {ranges(self.lines)}: {self.reason}"


class FileRejected(ValueError):
    """The dropped file is rejected as a whole; ``problems`` lists every offending line."""

    def __init__(self, message: str, problems: tuple[LineProblem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


def reject(what: str, problems: list[LineProblem]) -> FileRejected:
    """One error naming every problem (the first :data:`LISTED_PROBLEMS` in the message)."""
    problems = sorted(problems, key=lambda p: p.lines)
    listed = "\n".join(f"  {p}" for p in problems[:LISTED_PROBLEMS])
    more = len(problems) - LISTED_PROBLEMS
    if more > 0:
        listed += f"\n  +{number(more)} more"
    return FileRejected(
        f"{what} rejected, nothing published: {number(len(problems))} problem(s); fix them all and drop the file again:\n{listed}",
        tuple(problems),
    )


def decode(data: bytes, what: str) -> tuple[str, str | None]:
    """The file's text and a warning when its encoding had to be guessed.

    UTF-8 (with or without Excel's byte order mark) and UTF-16 with a byte order mark are read as
    such; anything else that is not valid UTF-8 is read as Windows-1252 (Excel's "CSV" on
    Windows), with a warning so a person can check the accents."""
    if len(data) > MAX_FILE_BYTES:
        raise FileRejected(f"{what} rejected: {len(data)} bytes, more than the {MAX_FILE_BYTES} a hand-kept list may have")
    if not data.strip():
        raise FileRejected(f"{what} rejected: the file is empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as error:
            raise FileRejected(f"{what} rejected: it starts like UTF-16 but is not valid UTF-16 ({error.reason})") from None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise FileRejected(f"{what} rejected: not UTF-8, UTF-16 or Windows-1252 text ({error.reason})") from None
    return text, f"{what} is not UTF-8: read as Windows-1252; check that accented names look right"


def read_dropped_csv(source: bytes | str | os.PathLike[str], what: str) -> pd.DataFrame:
    """Every cell as text, in file order; ``attrs["lines"]`` holds each row's line in the file,
    ``attrs["problems"]`` rows whose field count differs from the header's, and
    ``attrs["warning"]`` a note about a guessed encoding (or None)."""
    data = source if isinstance(source, bytes) else open(source, "rb").read()  # noqa: SIM115
    text, warning = decode(data, what)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FileRejected(f"{what} rejected: the file is empty") from None
    except csv.Error as error:
        raise FileRejected(f"{what} rejected: line 1 is not CSV ({error})") from None
    header = [h.removeprefix("\ufeff") for h in header]
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[LineProblem] = []
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(LineProblem((start,), f"not readable as CSV ({error})"))
            break
        if row and len(row) != len(header):
            problems.append(
                LineProblem(
                    (start,), f"has {len(row)} fields, the header has {len(header)} (a comma in a name must be inside quotes)"
                )
            )
        else:
            rows.append(row or [""] * len(header))
            lines.append(start)
        start = reader.line_num + 1
    frame = pd.DataFrame(rows, columns=header, dtype=str) if header else pd.DataFrame()
    frame.attrs.update(lines=lines, problems=problems, warning=warning)
    return frame


def header_key(name: object) -> str:
    """Header names compared trimmed and case-insensitively (people edit these files by hand)."""
    return str(name).removeprefix("\ufeff").strip().lower()


def find_columns(raw: pd.DataFrame, required: tuple[str, ...], what: str) -> dict[str, str]:
    """The file's column for each required name, or a rejection naming what is missing."""
    columns: dict[str, str] = {}
    repeated: set[str] = set()
    for column in raw.columns:
        if header_key(column) in columns:
            repeated.add(header_key(column))
        columns.setdefault(header_key(column), column)
    repeated &= set(required)
    if repeated:
        raise reject(what, [LineProblem((1,), f"the header names column {name!r} more than once") for name in sorted(repeated)])
    missing = [c for c in required if c not in columns]
    if missing:
        raise FileRejected(
            f"{what} rejected: missing required column(s) {', '.join(missing)}; "
            f"expected {', '.join(required)}, found {', '.join(map(str, raw.columns)) or 'no columns'}"
        )
    return columns


def row_lines(raw: pd.DataFrame, first_data_line: int = 2) -> pd.Index:
    """The file line of each row (as read by :func:`read_dropped_csv`, else header + position)."""
    lines = raw.attrs.get("lines")
    if lines is not None and len(lines) == len(raw):
        return pd.Index(lines)
    return pd.RangeIndex(first_data_line, first_data_line + len(raw))


def text_column(raw: pd.DataFrame, column: str) -> pd.Series:
    values = raw[column].reset_index(drop=True)
    return values.astype("object").where(values.notna(), "").astype(str).str.strip()
