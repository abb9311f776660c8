"""The quality rules that guard publication, as plain functions (DataFrames in, an Outcome out).

Each rule says whether the data may go to the public page and, when not, exactly what is wrong:
which ids, rows, columns or values. The Dagster checks in cdr_dagster/assets/datasets/checks.py are a thin layer
over these; the thresholds live in the ``QualityThresholds`` resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cdr_dagster.domain.numbers import change, few, number, share
from cdr_dagster.domain.transforms.coerce import to_utc_day
from cdr_dagster.domain.transforms.rules import is_dac_method

SHOWN = 20  # offending ids/values kept in a failure's metadata; the count says how many in all
#: Columns of a rejected order that explain it, when the table has them.
ORDER_CONTEXT = ("order_id", "supplier_id", "purchaser_id", "tons_purchased", "tons_delivered", "price_usd", "announcement_date")


@dataclass(frozen=True)
class Outcome:
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)
    #: every row the rule rejects, with the columns that explain it (shown capped, with the count)
    rejected: pd.DataFrame | None = None


def _context(frame: pd.DataFrame, mask: pd.Series, first: Sequence[str] = ()) -> pd.DataFrame:
    """The rejected rows, ``first`` columns then those of :data:`ORDER_CONTEXT` the table has."""
    columns = list(dict.fromkeys([*first, *(c for c in ORDER_CONTEXT if c in frame.columns)]))
    return frame.loc[mask, [c for c in columns if c in frame.columns]]


def _show(value: Any) -> str:
    """Dates as the CSV writes them (2026-11-23), everything else as text."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.strftime("%Y-%m-%d")
    return str(value)


def _listed(values: Sequence[Any]) -> list[str]:
    return [_show(v) for v in list(values)[:SHOWN]]


def required_columns(frame: pd.DataFrame, required: Sequence[str], table: str) -> Outcome:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        return Outcome(False, f"{table} lacks required columns {missing}", {"missing_columns": missing})
    return Outcome(True, f"{table} has all {len(required)} required columns")


def ids_present_and_unique(frame: pd.DataFrame, id_column: str, table: str) -> Outcome:
    if id_column not in frame.columns:
        return Outcome(False, f"{table} has no {id_column} column", {"missing_columns": [id_column]})
    ids = frame[id_column].astype("string").str.strip()
    blank_rows = [int(i) + 2 for i in ids.index[ids.isna() | (ids == "")]]  # CSV line numbers
    duplicated = sorted(ids[ids.duplicated(keep=False) & ids.notna() & (ids != "")].unique())
    if blank_rows or duplicated:
        bad = ids.isna() | (ids == "") | ids.isin(duplicated)
        rejected = _context(frame, bad, [id_column]).assign(csv_line=[int(i) + 2 for i in frame.index[bad]])
        return Outcome(
            False,
            f"{table}: {number(len(blank_rows))} rows without {id_column} (CSV lines {few(blank_rows) or 'none'}), "
            f"{number(len(duplicated))} ids repeated ({few(duplicated) or 'none'})",
            {"rows_without_id (CSV lines)": _listed(blank_rows), "duplicated_ids": _listed(duplicated)},
            rejected,
        )
    return Outcome(True, f"{table}: {number(len(ids))} ids, all present and unique")


def row_count_not_shrunk(rows: int, published_rows: int | None, max_drop_share: float, table: str) -> Outcome:
    """Fails when the table lost more than ``max_drop_share`` of the rows last published."""
    meta: dict[str, Any] = {"rows": rows, "published_rows": published_rows, "max_drop_share": max_drop_share}
    if published_rows is None:
        return Outcome(True, f"{table}: {number(rows)} rows; nothing published yet to compare with", meta)
    floor = published_rows * (1 - max_drop_share)
    if rows < floor:
        return Outcome(
            False,
            f"{table} shrank from {number(published_rows)} published rows to {number(rows)} "
            f"(more than {share(max_drop_share)} fewer; at least {number(floor, decimals=0)} expected)",
            meta,
        )
    return Outcome(True, f"{table}: {number(rows)} rows vs {number(published_rows)} published", meta)


def not_negative(frame: pd.DataFrame, columns: Sequence[str], id_column: str, table: str) -> Outcome:
    offenders: dict[str, list[str]] = {}
    bad = pd.Series(False, index=frame.index)
    for column in columns:
        if column in frame.columns:
            negative = pd.to_numeric(frame[column], errors="coerce") < 0
            bad |= negative
            offenders.update({column: _listed(frame.loc[negative, id_column])} if negative.any() else {})
    if offenders:
        ids = list(frame.loc[bad, id_column])
        return Outcome(
            False,
            f"{table}: {number(len(ids))} rows with a negative value in {', '.join(sorted(offenders))} (must be >= 0): {few(ids)}",
            {"ids_by_column": offenders},
            _context(frame, bad, [id_column]),
        )
    return Outcome(True, f"{table}: no negative values in {list(columns)}")


def dates_parse(frame: pd.DataFrame, column: str, id_column: str, table: str) -> Outcome:
    """Dates arrive parsed from CSV; a column left as text holds values that are not dates."""
    if column not in frame.columns:
        return Outcome(False, f"{table} has no {column} column", {"missing_columns": [column]})
    values = frame[column]
    if pd.api.types.is_datetime64_any_dtype(values):
        return Outcome(True, f"{table}: every {column} is a date ({int(values.isna().sum())} empty)")
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    bad = frame.loc[values.notna() & parsed.isna(), [id_column, column]]
    if bad.empty:
        return Outcome(True, f"{table}: every {column} is a date")
    return Outcome(
        False,
        f"{table}: {number(len(bad))} {column} values are not dates: {few(list(bad[id_column]))}",
        {"offending": _rows(bad)},
        _context(frame, values.notna() & parsed.isna(), [id_column, column]),
    )


def _rows(frame: pd.DataFrame) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in row.items()} for row in frame.head(SHOWN).to_dict("records")]


def schema_drift(columns: Sequence[str], published_columns: Sequence[str] | None, table: str) -> Outcome:
    """A warning when cdr.fyi added or removed columns since the last publication."""
    if published_columns is None:
        return Outcome(True, f"{table}: nothing published yet to compare columns with")
    added = [c for c in columns if c not in published_columns]
    removed = [c for c in published_columns if c not in columns]
    meta = {"new_columns": added, "vanished_columns": removed}
    if added or removed:
        return Outcome(False, f"{table} columns changed: new {added}, vanished {removed}", meta)
    return Outcome(True, f"{table}: same {len(columns)} columns as published", meta)


def swing(value: float, published: float | None, warn_share: float, what: str) -> Outcome:
    """A warning when a figure moved more than ``warn_share`` since the last publication."""
    meta = {"value": value, "published": published, "warn_share": warn_share}
    if published in (None, 0):
        return Outcome(True, f"{what}: {number(value)}; nothing published to compare with", meta)
    moved = (value - published) / published
    meta["change_share"] = round(moved, 4)
    if abs(moved) > warn_share:
        return Outcome(
            False,
            f"{what} moved {change(moved)} since published ({number(published)} -> {number(value)}; "
            f"more than ±{share(warn_share)} is worth a look)",
            meta,
        )
    return Outcome(True, f"{what} moved {change(moved)} since published", meta)


def exact_columns(frame: pd.DataFrame, expected: Sequence[str], dataset: str) -> Outcome:
    actual = [str(c) for c in frame.columns]
    if actual != list(expected):
        return Outcome(
            False,
            f"{dataset} columns {actual} differ from the contract's {list(expected)}",
            {"actual": actual, "expected": list(expected)},
        )
    return Outcome(True, f"{dataset} has exactly the contract's columns")


def never_decreasing(frame: pd.DataFrame, columns: Sequence[str], key: str, dataset: str) -> Outcome:
    drops: list[dict[str, str]] = []
    count = 0
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        falling = values.diff() < 0
        count += int(falling.sum())
        for position in list(frame.index[falling])[:SHOWN]:
            before = frame.index.get_loc(position) - 1
            drops.append(
                {
                    "column": column,
                    key: _show(frame.at[position, key]),
                    "from": number(values.iloc[before]),
                    "to": number(values.at[position]),
                }
            )
    if drops:
        shown = [f"{d['column']} at {d[key]} ({d['from']} -> {d['to']})" for d in drops]
        return Outcome(
            False,
            f"{dataset}: cumulative values decrease {number(count)} times (a running total never goes down): {few(shown)}",
            {"drops": drops},
            pd.DataFrame(drops),
        )
    return Outcome(True, f"{dataset}: {len(columns)} cumulative columns never decrease")


def contiguous_days(frame: pd.DataFrame, column: str, dataset: str) -> Outcome:
    days = pd.to_datetime(frame[column], errors="coerce")
    if days.isna().any():
        return Outcome(False, f"{dataset}: {int(days.isna().sum())} {column} values are not dates")
    steps = days.diff().dt.days.iloc[1:]
    wrong = frame.loc[steps.index[steps != 1], column]
    if len(wrong):
        return Outcome(
            False,
            f"{dataset}: dates are not one per day ({number(len(wrong))} breaks, at {few(_listed(wrong))})",
            {"breaks_at": _listed(wrong)},
            pd.DataFrame({column: _listed(wrong), "days since the row before": list(steps[steps != 1].astype("Int64"))[:SHOWN]}),
        )
    return Outcome(True, f"{dataset}: {len(days)} consecutive days")


def contiguous_years(frame: pd.DataFrame, column: str, dataset: str) -> Outcome:
    years = pd.to_numeric(frame[column], errors="coerce")
    steps = years.diff().iloc[1:]
    wrong = frame.loc[steps.index[steps != 1], column]
    if years.isna().any() or len(wrong):
        return Outcome(
            False,
            f"{dataset}: years are not consecutive (breaks at {few(_listed(wrong)) or 'a year that is not a number'})",
            {"breaks_at": _listed(wrong)},
        )
    return Outcome(True, f"{dataset}: {len(years)} consecutive years")


def deal_count(rows: int, dated_orders: int, wanted: int) -> Outcome:
    expected = min(wanted, dated_orders)
    meta = {"rows": rows, "expected": expected, "dated_orders": dated_orders}
    if rows != expected:
        return Outcome(False, f"latest_deals has {rows} rows; {expected} expected", meta)
    return Outcome(True, f"latest_deals has {rows} rows", meta)


def within_band(value: float, published: float | None, band: float, what: str, unit: str = "") -> Outcome:
    """Positive and, once something is published, within ``band`` (a share) of it."""
    meta = {"value": value, "published": published, "band": band}
    if not value > 0:
        return Outcome(False, f"{what} is {number(value, unit)}, not a positive amount", meta)
    if published is None:
        return Outcome(True, f"{what} is {number(value, unit)}; nothing published yet to compare with", meta)
    low, high = published * (1 - band), published * (1 + band)
    if not low <= value <= high:
        return Outcome(
            False,
            f"{what} is {number(value, unit)}, outside ±{share(band)} of the published {number(published, unit)} "
            f"({number(low)} to {number(high, unit)})",
            meta,
        )
    return Outcome(
        True, f"{what} is {number(value, unit)}, within ±{share(band)} of the published {number(published, unit)}", meta
    )


def within_range(frame: pd.DataFrame, column: str, low: float, high: float | None, key: str, dataset: str) -> Outcome:
    """Every value of ``column`` is a number from ``low`` to ``high`` (no upper bound when None);
    a failure names the rows by ``key``."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | (values < low)
    if high is not None:
        bad |= values > high
    if bad.any():
        shown = [f"{_show(k)}: {number(v)}" for k, v in zip(frame.loc[bad, key], frame.loc[bad, column], strict=True)]
        bounds = f"from {number(low)} to {number(high)}" if high is not None else f">= {number(low)}"
        return Outcome(
            False,
            f"{dataset}: {number(int(bad.sum()))} {column} values not {bounds}: {few(shown)}",
            {"offending_rows": _listed(shown)},
            frame.loc[bad, [key, column]],
        )
    return Outcome(True, f"{dataset}: every {column} within bounds")


def not_empty(rows: int, dataset: str) -> Outcome:
    """A dataset the page charts must never be published empty."""
    if rows == 0:
        return Outcome(False, f"{dataset} has no rows: the page would show an empty chart")
    return Outcome(True, f"{dataset} has {number(rows)} rows")


def dates_not_after(frame: pd.DataFrame, column: str, id_column: str, latest: pd.Timestamp, table: str) -> Outcome:
    """Fails on rows dated after ``latest`` (today plus a small grace): an order dated 2099 would
    top the ticker and stretch the daily series for decades. Values that are not dates are left
    to :func:`dates_parse`."""
    if column not in frame.columns:
        return Outcome(False, f"{table} has no {column} column", {"missing_columns": [column]})
    days = to_utc_day(frame[column])
    late = frame.loc[days > latest, [id_column]].assign(day=days[days > latest])
    limit = _show(latest.normalize())
    if late.empty:
        return Outcome(True, f"{table}: no {column} after {limit}")
    shown = [f"{_show(i)} ({_show(d)})" for i, d in zip(late[id_column], late["day"], strict=True)]
    return Outcome(
        False,
        f"{table}: {number(len(late))} {column} values are after {limit} (today plus the grace): {few(shown)}",
        {"offending": [f"{_show(i)}: {_show(d)}" for i, d in zip(late[id_column], late["day"], strict=True)][:SHOWN]},
        _context(frame, days > latest, [id_column, column]).assign(latest_allowed=limit),
    )


def values_at_most(
    frame: pd.DataFrame, bounds: Mapping[str, float], id_column: str, table: str, units: Mapping[str, str] | None = None
) -> Outcome:
    """Fails on rows whose value of a column exceeds that column's bound (the largest plausible
    single order): one order of 1e12 tons would make every total absurd. ``units`` names each
    column's unit (``t``, ``USD``) for the message."""
    units = units or {}
    offenders: dict[str, list[str]] = {}
    parts: list[str] = []
    bad = pd.Series(False, index=frame.index)
    for column, bound in bounds.items():
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        over = values > bound
        if over.any():
            bad |= over
            offenders[column] = _listed(frame.loc[over, id_column])
            unit = units.get(column, "")
            shown = [f"{_show(i)} ({number(v, unit)})" for i, v in zip(frame.loc[over, id_column], values[over], strict=True)]
            parts.append(f"{column} above {number(bound, unit)}: {few(shown)}")
    if offenders:
        return Outcome(
            False,
            f"{table}: {number(int(bad.sum()))} orders beyond a plausible single order: {'; '.join(parts)}",
            {"ids_by_column": offenders},
            _context(frame, bad, [id_column]),
        )
    within = ", ".join(f"{c} <= {number(b, units.get(c, ''))}" for c, b in bounds.items())
    return Outcome(True, f"{table}: every order within {within}")


def largest_new_orders(now: pd.DataFrame, published: pd.DataFrame | None, shown: int = 5) -> dict[str, list[str]]:
    """The new orders (ids not in the published week's) that move each total most: by tons
    purchased, and the DAC ones by price. Named when a total moves more than allowed."""
    known = set() if published is None else set(published["order_id"].dropna().astype(str).str.strip())
    orders = now.assign(order_id=now["order_id"].astype("string").str.strip())
    new = orders.loc[~orders["order_id"].isin(known)]
    tons = pd.to_numeric(new["tons_purchased"], errors="coerce").fillna(0.0)
    prices = pd.to_numeric(new["price_usd"], errors="coerce").fillna(0.0)
    dac = is_dac_method(new["method"]) & (prices > 0)
    by_tons = new.assign(v=tons).loc[tons > 0].sort_values("v", ascending=False, kind="stable").head(shown)
    by_price = new.assign(v=prices).loc[dac].sort_values("v", ascending=False, kind="stable").head(shown)
    return {
        "tons purchased": [f"{i} ({number(v, 't')})" for i, v in zip(by_tons["order_id"], by_tons["v"], strict=True)],
        "DAC dollars": [f"{i} ({number(v, 'USD')})" for i, v in zip(by_price["order_id"], by_price["v"], strict=True)],
    }


def totals_within_swing(
    totals: Mapping[str, tuple[float, float | None, str]], max_share: float, movers: Mapping[str, list[str]], dataset: str
) -> Outcome:
    """Fails when a headline total (``{name: (value, published, unit)}``) moved more than
    ``max_share`` since the last publication, either way, naming the new orders behind the move."""
    changes: dict[str, float] = {}
    moved: list[str] = []
    for what, (value, published, unit) in totals.items():
        if published in (None, 0):
            continue
        ratio = (value - published) / published
        changes[what] = round(ratio, 4)
        if abs(ratio) > max_share:
            moved.append(f"{what} moved {change(ratio)} since published ({number(published, unit)} -> {number(value, unit)})")
    meta: dict[str, Any] = {"changes": changes, "max_swing_share": max_share, "largest_new_orders": dict(movers)}
    if not moved:
        return Outcome(True, f"{dataset}: totals within ±{share(max_share)} of the published ones", meta)
    named = "; ".join(f"{what}: {', '.join(ids)}" for what, ids in movers.items() if ids) or "none"
    rows = [{"total": what, "order": order} for what, ids in movers.items() for order in ids]
    return Outcome(
        False,
        f"{dataset}: {', '.join(moved)}, beyond the allowed ±{share(max_share)}; largest new orders: {named}",
        meta,
        pd.DataFrame(rows, columns=["total", "order"]),
    )
