"""cdr.fyi's four tables, pulled whole from the partner API each week (group ``cdr_fyi``).

They are stored as they came, flattened to columns, under ``raw/cdr_fyi_<table>_YYYYMMDD.csv``;
the dashboard datasets are built from them.
"""

from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.assets.common import (
    OWNERS,
    PASSING_FAULT_RETRIES,
    TABLE_KINDS,
    WEEKLY_FRESHNESS,
    check_result,
    gate,
    table_metadata,
)
from cdr_dagster.cdr_fyi.client import CdrFyiApiError, CdrFyiUnavailable
from cdr_dagster.cdr_fyi.schema import ID_COLUMNS, REQUIRED_COLUMNS, TABLES, records_to_frame
from cdr_dagster.domain import quality
from cdr_dagster.domain.layout import RAW_PREFIX
from cdr_dagster.domain.published import read_published
from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi
from cdr_dagster.resources.csv_io_manager import PREFIX_METADATA_KEY
from cdr_dagster.resources.quality_thresholds import QualityThresholds
from cdr_dagster.resources.storage import Storage

GROUP = "cdr_fyi"
RAW_ASSET_OPTIONS: dict[str, Any] = dict(
    group_name=GROUP,
    kinds=TABLE_KINDS,
    owners=OWNERS,
    code_version="1",
    metadata={PREFIX_METADATA_KEY: RAW_PREFIX},
    freshness_policy=WEEKLY_FRESHNESS,
    retry_policy=PASSING_FAULT_RETRIES,
)

# check names (shown in the UI, used by tests and alerts)
REQUIRED_COLUMNS_CHECK = "required_columns"
IDS_CHECK = "ids_present_and_unique"
SHRINK_CHECK = "row_count_not_shrunk"
NEGATIVE_TONS_CHECK = "tons_not_negative"
DATES_CHECK = "announcement_dates_parse"
FUTURE_DATES_CHECK = "announcement_dates_not_future"
ORDER_SIZE_CHECK = "order_sizes_plausible"
SCHEMA_DRIFT_CHECK = "schema_drift"
ROW_SWING_CHECK = "row_count_swing"


def pull_table(context: dg.AssetExecutionContext, api: CdrFyiApi, table: str) -> dg.MaterializeResult:
    """Pull one table, flatten it, drop repeated ids, and describe the pull in metadata."""
    try:
        pull = api.fetch_table(table, log=context.log.info)
    except CdrFyiUnavailable:
        raise  # a passing fault: the step's retry policy tries again later
    except CdrFyiApiError as error:  # 401, 400, a malformed answer: it will recur, so no retry
        raise dg.Failure(description=str(error), allow_retries=False) from None
    frame, duplicates = records_to_frame(table, pull.records)
    if duplicates:
        context.log.warning(f"{table}: {duplicates} records repeated an id already seen; kept once")
    if pull.source == "sample":
        context.log.warning(f"{table}: SAMPLE data (no CDR_FYI_API_TOKEN set), not cdr.fyi's")
    return dg.MaterializeResult(
        value=frame,
        metadata={
            **table_metadata(frame),
            "source": pull.source,
            "pages": pull.stats.pages,
            "requests": pull.stats.requests,
            "retries": pull.stats.retries,
            "rate_limit_wait_seconds": round(pull.stats.rate_limit_wait_seconds, 2),
            "duplicate_records_dropped": duplicates,
        },
    )


@dg.asset(**RAW_ASSET_OPTIONS)
def cdr_fyi_orders(context: dg.AssetExecutionContext, cdr_fyi_api: CdrFyiApi) -> dg.MaterializeResult[pd.DataFrame]:
    """Every CDR purchase recorded by cdr.fyi, one row per order: who bought from whom, the
    removal method, tons purchased and delivered, the price when public, the agreement type and
    when it was announced. The source of the tons, dollars and deals on the dashboard."""
    return pull_table(context, cdr_fyi_api, "orders")


@dg.asset(**RAW_ASSET_OPTIONS)
def cdr_fyi_purchasers(context: dg.AssetExecutionContext, cdr_fyi_api: CdrFyiApi) -> dg.MaterializeResult[pd.DataFrame]:
    """The companies and organisations buying CDR (one row per purchaser, with the date cdr.fyi
    first listed them); the dashboard counts unique purchasers over time from these."""
    return pull_table(context, cdr_fyi_api, "purchasers")


@dg.asset(**RAW_ASSET_OPTIONS)
def cdr_fyi_suppliers(context: dg.AssetExecutionContext, cdr_fyi_api: CdrFyiApi) -> dg.MaterializeResult[pd.DataFrame]:
    """The CDR project developers selling removals (one row per supplier, with their methods,
    country and founding year); names the sellers in the deals ticker and supplier totals."""
    return pull_table(context, cdr_fyi_api, "suppliers")


@dg.asset(**RAW_ASSET_OPTIONS)
def cdr_fyi_marketplaces(context: dg.AssetExecutionContext, cdr_fyi_api: CdrFyiApi) -> dg.MaterializeResult[pd.DataFrame]:
    """The marketplaces and brokers through which some orders were placed (one row each)."""
    return pull_table(context, cdr_fyi_api, "marketplaces")


# --- Quality gates on each raw table ----------------------------------------------------


def raw_table_checks(table: str) -> list[dg.AssetChecksDefinition]:
    asset = f"cdr_fyi_{table}"
    id_column = ID_COLUMNS[table]

    @gate(asset, REQUIRED_COLUMNS_CHECK, f"The columns the dashboard needs are in {asset}.")
    def required_columns(frame: pd.DataFrame) -> dg.AssetCheckResult:
        return check_result(quality.required_columns(frame, REQUIRED_COLUMNS[table], asset))

    @gate(asset, IDS_CHECK, f"Every {id_column} is present and appears once.")
    def ids(frame: pd.DataFrame) -> dg.AssetCheckResult:
        return check_result(quality.ids_present_and_unique(frame, id_column, asset))

    @gate(asset, SHRINK_CHECK, f"{asset} has not lost more rows than allowed since the last publication.")
    def shrink(frame: pd.DataFrame, storage: Storage, quality_thresholds: QualityThresholds) -> dg.AssetCheckResult:
        published = read_published(storage).input_rows(asset)
        return check_result(quality.row_count_not_shrunk(len(frame), published, quality_thresholds.max_row_drop_share, asset))

    @gate(asset, SCHEMA_DRIFT_CHECK, "Warns when cdr.fyi added or removed columns.", blocking=False)
    def drift(frame: pd.DataFrame, storage: Storage) -> dg.AssetCheckResult:
        published = read_published(storage).input_columns(asset)
        return check_result(quality.schema_drift([str(c) for c in frame.columns], published, asset), warning=True)

    @gate(asset, ROW_SWING_CHECK, "Warns on a large but allowed change in row count.", blocking=False)
    def row_swing(frame: pd.DataFrame, storage: Storage, quality_thresholds: QualityThresholds) -> dg.AssetCheckResult:
        published = read_published(storage).input_rows(asset)
        outcome = quality.swing(len(frame), published, quality_thresholds.row_count_warn_share, f"{asset} rows")
        return check_result(outcome, warning=True)

    checks = [required_columns, ids, shrink, drift, row_swing]
    if table == "orders":

        @gate(asset, NEGATIVE_TONS_CHECK, "No order has negative tons purchased or delivered.")
        def tons(frame: pd.DataFrame) -> dg.AssetCheckResult:
            return check_result(quality.not_negative(frame, ("tons_purchased", "tons_delivered"), id_column, asset))

        @gate(asset, DATES_CHECK, "Every announcement_date is a date.")
        def dates(frame: pd.DataFrame) -> dg.AssetCheckResult:
            return check_result(quality.dates_parse(frame, "announcement_date", id_column, asset))

        @gate(asset, FUTURE_DATES_CHECK, "No order is announced after today, beyond a small grace.")
        def not_future(frame: pd.DataFrame, quality_thresholds: QualityThresholds) -> dg.AssetCheckResult:
            latest = pd.Timestamp(datetime.now(UTC).date()) + pd.Timedelta(days=quality_thresholds.future_date_grace_days)
            return check_result(
                quality.dates_not_after(frame, "announcement_date", latest=latest, id_column=id_column, table=asset)
            )

        @gate(asset, ORDER_SIZE_CHECK, "No order has more tons or a higher price than any plausible single order.")
        def plausible_size(frame: pd.DataFrame, quality_thresholds: QualityThresholds) -> dg.AssetCheckResult:
            bounds = {
                "tons_purchased": quality_thresholds.max_order_tons,
                "tons_delivered": quality_thresholds.max_order_tons,
                "price_usd": quality_thresholds.max_order_price_usd,
            }
            return check_result(quality.values_at_most(frame, bounds, id_column, asset))

        checks += [tons, dates, not_future, plausible_size]
    return checks


raw_checks = [check for table in TABLES for check in raw_table_checks(table)]
