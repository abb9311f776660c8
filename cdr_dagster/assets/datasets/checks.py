"""The quality gates on the datasets: blocking checks that stop a bad week before it reaches the
page, and warnings for changes a person should look at.

When a blocking check fails nothing downstream runs, so the publication step never copies
anything and the page keeps serving the last good week. Each check is a thin wrapper over a rule
in cdr_dagster/domain/quality.py; the columns come from cdr_dagster/domain/datasets.py.
"""

import dagster as dg
import pandas as pd

from cdr_dagster.assets.common import check_result, gate
from cdr_dagster.domain import quality
from cdr_dagster.domain.datasets import DATASETS, DatasetSpec
from cdr_dagster.domain.published import read_published
from cdr_dagster.domain.transforms import rules
from cdr_dagster.resources.quality_thresholds import QualityThresholds
from cdr_dagster.resources.storage import Storage

# check names (shown in the UI, used by tests and alerts)
CONTRACT_COLUMNS_CHECK = "contract_columns"
NOT_EMPTY_CHECK = "not_empty"
CUMULATIVE_CHECK = "cumulative_never_decrease"
DAILY_CHECK = "one_row_per_day"
YEARS_CHECK = "consecutive_years"
DEALS_CHECK = "ten_newest_deals"
DOLLARS_CHECK = "dollars_spent_plausible"
TOTALS_SWING_CHECK = "totals_swing"


def dataset_checks(spec: DatasetSpec) -> list[dg.AssetChecksDefinition]:
    """The gates every dataset gets from its spec: exact columns, not empty, and for a time
    series: running totals that never go down and no missing day or year."""
    dataset = spec.name

    @gate(dataset, CONTRACT_COLUMNS_CHECK, "Exactly the columns the page reads, in order.")
    def columns(frame: pd.DataFrame) -> dg.AssetCheckResult:
        return check_result(quality.exact_columns(frame, spec.columns, dataset))

    @gate(dataset, NOT_EMPTY_CHECK, "The page never gets an empty dataset.")
    def not_empty(frame: pd.DataFrame) -> dg.AssetCheckResult:
        return check_result(quality.not_empty(len(frame), dataset))

    checks = [columns, not_empty]
    if spec.cumulative:

        @gate(dataset, CUMULATIVE_CHECK, "Cumulative series never go down.")
        def cumulative(frame: pd.DataFrame) -> dg.AssetCheckResult:
            return check_result(quality.never_decreasing(frame, spec.cumulative, spec.order_by, dataset))

        checks.append(cumulative)
    if spec.series == "date":

        @gate(dataset, DAILY_CHECK, "One row per calendar day, none missing.")
        def daily(frame: pd.DataFrame) -> dg.AssetCheckResult:
            return check_result(quality.contiguous_days(frame, "date", dataset))

        checks.append(daily)
    elif spec.series == "year":

        @gate(dataset, YEARS_CHECK, "One row per year from the first to the last, none missing.")
        def years(frame: pd.DataFrame) -> dg.AssetCheckResult:
            return check_result(quality.contiguous_years(frame, "year", dataset))

        checks.append(years)
    return checks


spec_checks = [check for spec in DATASETS.values() for check in dataset_checks(spec)]


@gate(
    "latest_deals",
    DEALS_CHECK,
    "The ticker has the 10 newest deals (fewer only if fewer dated orders exist).",
    additional_ins={"cdr_fyi_orders": dg.AssetIn("cdr_fyi_orders")},
)
def ten_newest_deals(latest_deals: pd.DataFrame, cdr_fyi_orders: pd.DataFrame) -> dg.AssetCheckResult:
    orders = rules.clean_orders(cdr_fyi_orders)
    dated = int(pd.to_datetime(orders["announcement_date"], errors="coerce").notna().sum())
    return check_result(quality.deal_count(len(latest_deals), dated, rules.LATEST_DEALS_COUNT))


@gate("dollars_spent", DOLLARS_CHECK, "Positive, and within the allowed band of the published value.")
def dollars_spent_plausible(
    dollars_spent: pd.DataFrame, storage: Storage, quality_thresholds: QualityThresholds
) -> dg.AssetCheckResult:
    value = float(dollars_spent["value"].iloc[0]) if len(dollars_spent) else 0.0
    published = read_published(storage).dollars_spent()
    return check_result(quality.within_band(value, published, quality_thresholds.dollars_spent_band, "dollars_spent"))


@gate(
    "orders_for_viz",
    TOTALS_SWING_CHECK,
    "Total tons purchased and DAC dollars moved no more than the allowed share since published.",
    additional_ins={"cdr_fyi_orders": dg.AssetIn("cdr_fyi_orders")},
)
def orders_totals_swing(
    orders_for_viz: pd.DataFrame, cdr_fyi_orders: pd.DataFrame, storage: Storage, quality_thresholds: QualityThresholds
) -> dg.AssetCheckResult:
    def last(frame: pd.DataFrame | None, column: str) -> float | None:
        return None if frame is None or frame.empty else float(frame[column].iloc[-1])

    published = read_published(storage)
    before = published.dataset_frame("orders_for_viz")
    totals = {
        "tons purchased": (last(orders_for_viz, "tons_purchased_cum") or 0.0, last(before, "tons_purchased_cum")),
        "DAC dollars": (last(orders_for_viz, "dac_price_usd_cum") or 0.0, last(before, "dac_price_usd_cum")),
    }
    movers = quality.largest_new_orders(rules.clean_orders(cdr_fyi_orders), published.input_frame("cdr_fyi_orders"))
    return check_result(quality.totals_within_swing(totals, quality_thresholds.totals_max_swing_share, movers, "orders_for_viz"))
