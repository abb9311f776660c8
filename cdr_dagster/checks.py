"""The quality gates: blocking asset checks that stop a bad week before it reaches the page,
and warnings for changes a person should look at.

Blocking checks run on the stored raw tables and staged datasets; when one fails, nothing
downstream runs, so the publication step never copies anything and the page keeps serving the
last good week. Each check is a thin wrapper over a rule in cdr_dagster/quality.py.
"""

from collections.abc import Callable, Sequence

import dagster as dg
import pandas as pd

from cdr_dagster import quality
from cdr_dagster.cdr_fyi_schema import ID_COLUMNS, REQUIRED_COLUMNS, TABLES
from cdr_dagster.published import read_published
from cdr_dagster.resources.quality_thresholds import QualityThresholds
from cdr_dagster.resources.storage import Storage
from cdr_dagster.transforms import rules

# check names (shown in the UI, used by tests and alerts)
REQUIRED_COLUMNS_CHECK = "required_columns"
IDS_CHECK = "ids_present_and_unique"
SHRINK_CHECK = "row_count_not_shrunk"
NEGATIVE_TONS_CHECK = "tons_not_negative"
DATES_CHECK = "announcement_dates_parse"
SCHEMA_DRIFT_CHECK = "schema_drift"
ROW_SWING_CHECK = "row_count_swing"
CONTRACT_COLUMNS_CHECK = "contract_columns"
CUMULATIVE_CHECK = "cumulative_never_decrease"
DAILY_CHECK = "one_row_per_day"
DEALS_CHECK = "ten_newest_deals"
DOLLARS_CHECK = "dollars_spent_plausible"
YEARS_CHECK = "consecutive_years"
TOTALS_SWING_CHECK = "totals_swing"

DATASET_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders_for_viz": rules.ORDERS_FOR_VIZ_COLUMNS,
    "purchasers_for_viz": rules.PURCHASERS_FOR_VIZ_COLUMNS,
    "latest_deals": rules.LATEST_DEALS_COLUMNS,
    "suppliers_for_viz": rules.SUPPLIERS_FOR_VIZ_COLUMNS,
    "dollars_spent": rules.DOLLARS_SPENT_COLUMNS,
    "ccn_data": rules.CCN_DATA_COLUMNS,
}
CUMULATIVE_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "orders_for_viz": ("date", tuple(c for c in rules.ORDERS_FOR_VIZ_COLUMNS if c.endswith("_cum"))),
    "purchasers_for_viz": ("date", tuple(c for c in rules.PURCHASERS_FOR_VIZ_COLUMNS if c.endswith("_cum"))),
    "ccn_data": ("year", tuple(c for c in rules.CCN_DATA_COLUMNS if c.endswith("_cum"))),
}


def _result(outcome: quality.Outcome, warning: bool = False) -> dg.AssetCheckResult:
    metadata = {
        k: dg.MetadataValue.json(v) if isinstance(v, (list, dict)) else v
        for k, v in outcome.metadata.items()
        if v is not None
    }
    return dg.AssetCheckResult(
        passed=outcome.passed,
        description=outcome.description,
        metadata=metadata,
        severity=dg.AssetCheckSeverity.WARN if warning else dg.AssetCheckSeverity.ERROR,
    )


def _check(asset: str, name: str, description: str, blocking: bool = True, **kwargs) -> Callable:
    return dg.asset_check(asset=asset, name=name, description=description, blocking=blocking, **kwargs)


def raw_table_checks(table: str) -> list[dg.AssetChecksDefinition]:
    asset = f"cdr_fyi_{table}"
    id_column = ID_COLUMNS[table]

    @_check(asset, REQUIRED_COLUMNS_CHECK, f"The columns the dashboard needs are in {asset}.")
    def required_columns(frame: pd.DataFrame) -> dg.AssetCheckResult:
        return _result(quality.required_columns(frame, REQUIRED_COLUMNS[table], asset))

    @_check(asset, IDS_CHECK, f"Every {id_column} is present and appears once.")
    def ids(frame: pd.DataFrame) -> dg.AssetCheckResult:
        return _result(quality.ids_present_and_unique(frame, id_column, asset))

    @_check(asset, SHRINK_CHECK, f"{asset} has not lost more rows than allowed since the last publication.")
    def shrink(frame: pd.DataFrame, storage: Storage, quality_thresholds: QualityThresholds) -> dg.AssetCheckResult:
        published = read_published(storage).input_rows(asset)
        return _result(quality.row_count_not_shrunk(len(frame), published, quality_thresholds.max_row_drop_share, asset))

    @_check(asset, SCHEMA_DRIFT_CHECK, "Warns when cdr.fyi added or removed columns.", blocking=False)
    def drift(frame: pd.DataFrame, storage: Storage) -> dg.AssetCheckResult:
        published = read_published(storage).input_columns(asset)
        return _result(quality.schema_drift([str(c) for c in frame.columns], published, asset), warning=True)

    @_check(asset, ROW_SWING_CHECK, "Warns on a large but allowed change in row count.", blocking=False)
    def row_swing(frame: pd.DataFrame, storage: Storage, quality_thresholds: QualityThresholds) -> dg.AssetCheckResult:
        published = read_published(storage).input_rows(asset)
        outcome = quality.swing(len(frame), published, quality_thresholds.row_count_warn_share, f"{asset} rows")
        return _result(outcome, warning=True)

    checks = [required_columns, ids, shrink, drift, row_swing]
    if table == "orders":

        @_check(asset, NEGATIVE_TONS_CHECK, "No order has negative tons purchased or delivered.")
        def tons(frame: pd.DataFrame) -> dg.AssetCheckResult:
            return _result(quality.not_negative(frame, ("tons_purchased", "tons_delivered"), id_column, asset))

        @_check(asset, DATES_CHECK, "Every announcement_date is a date.")
        def dates(frame: pd.DataFrame) -> dg.AssetCheckResult:
            return _result(quality.dates_parse(frame, "announcement_date", id_column, asset))

        checks += [tons, dates]
    return checks


def dataset_checks(dataset: str) -> list[dg.AssetChecksDefinition]:
    @_check(dataset, CONTRACT_COLUMNS_CHECK, "Exactly the columns the page reads, in order.")
    def columns(frame: pd.DataFrame) -> dg.AssetCheckResult:
        return _result(quality.exact_columns(frame, DATASET_COLUMNS[dataset], dataset))

    checks = [columns]
    if dataset in CUMULATIVE_COLUMNS:
        key, cumulative = CUMULATIVE_COLUMNS[dataset]

        @_check(dataset, CUMULATIVE_CHECK, "Cumulative series never go down.")
        def cumulative_check(frame: pd.DataFrame) -> dg.AssetCheckResult:
            return _result(quality.never_decreasing(frame, cumulative, key, dataset))

        checks.append(cumulative_check)
        if key == "date":

            @_check(dataset, DAILY_CHECK, "One row per calendar day, none missing.")
            def daily(frame: pd.DataFrame) -> dg.AssetCheckResult:
                return _result(quality.contiguous_days(frame, "date", dataset))

            checks.append(daily)
        else:

            @_check(dataset, YEARS_CHECK, "One row per year from the first founding to the last.")
            def years(frame: pd.DataFrame) -> dg.AssetCheckResult:
                return _result(quality.contiguous_years(frame, "year", dataset))

            checks.append(years)
    return checks


@_check(
    "latest_deals",
    DEALS_CHECK,
    "The ticker has the 10 newest deals (fewer only if fewer dated orders exist).",
    additional_ins={"cdr_fyi_orders": dg.AssetIn("cdr_fyi_orders")},
)
def ten_newest_deals(latest_deals: pd.DataFrame, cdr_fyi_orders: pd.DataFrame) -> dg.AssetCheckResult:
    orders = rules.clean_orders(cdr_fyi_orders)
    dated = int(pd.to_datetime(orders["announcement_date"], errors="coerce").notna().sum())
    return _result(quality.deal_count(len(latest_deals), dated, rules.LATEST_DEALS_COUNT))


@_check("dollars_spent", DOLLARS_CHECK, "Positive, and within the allowed band of the published value.")
def dollars_spent_plausible(
    dollars_spent: pd.DataFrame, storage: Storage, quality_thresholds: QualityThresholds
) -> dg.AssetCheckResult:
    value = float(dollars_spent["value"].iloc[0]) if len(dollars_spent) else 0.0
    published = read_published(storage).dollars_spent()
    return _result(quality.within_band(value, published, quality_thresholds.dollars_spent_band, "dollars_spent"))


@_check("orders_for_viz", TOTALS_SWING_CHECK, "Warns on a large but allowed change in total tons purchased.", blocking=False)
def orders_totals_swing(
    orders_for_viz: pd.DataFrame, storage: Storage, quality_thresholds: QualityThresholds
) -> dg.AssetCheckResult:
    def total(frame: pd.DataFrame | None) -> float | None:
        return None if frame is None or frame.empty else float(frame["tons_purchased_cum"].iloc[-1])

    published = total(read_published(storage).dataset_frame("orders_for_viz"))
    outcome = quality.swing(total(orders_for_viz) or 0.0, published, quality_thresholds.totals_warn_share, "tons purchased")
    return _result(outcome, warning=True)


def all_checks(datasets: Sequence[str]) -> list[dg.AssetChecksDefinition]:
    checks = [c for table in TABLES for c in raw_table_checks(table)]
    checks += [c for dataset in datasets for c in dataset_checks(dataset)]
    return checks + [ten_newest_deals, dollars_spent_plausible, orders_totals_swing]
