"""cdr.fyi's four tables, pulled whole from the partner API each week (group ``cdr_fyi``).

They are stored as they came, flattened to columns, under ``raw/cdr_fyi_<table>_YYYYMMDD.csv``;
the dashboard datasets are built from them.
"""

from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.assets.gates import Gate, GateInputs, asset_gates
from cdr_dagster.assets.options import PASSING_FAULT_RETRIES, table_metadata
from cdr_dagster.assets.sources.raw_inputs import RAW_TABLE_OPTIONS
from cdr_dagster.cdr_fyi.client import CdrFyiApiError, CdrFyiUnavailable
from cdr_dagster.cdr_fyi.schema import ID_COLUMNS, REQUIRED_COLUMNS, TABLES, records_to_frame
from cdr_dagster.domain import quality
from cdr_dagster.domain.quality import Outcome
from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi

GROUP = "cdr_fyi"
# The four pulls share one token's rate limit: the pool (limit 1 in the instance's
# `concurrency: pools: default_limit`) runs them one at a time, in any run and across runs.
POOL = "cdr_fyi_api"
RAW_ASSET_OPTIONS: dict[str, Any] = dict(
    **RAW_TABLE_OPTIONS, group_name=GROUP, code_version="1", retry_policy=PASSING_FAULT_RETRIES, pool=POOL
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


def raw_table_gates(table: str) -> list[Gate]:
    """The gates on one raw table: what the dashboard needs is there, ids are usable, the table
    has not shrunk, and warnings for a changed schema or a large change in rows; for orders, no
    negative tons, no unreadable, future or absurd order."""
    asset = f"cdr_fyi_{table}"
    id_column = ID_COLUMNS[table]

    def required_columns(t: GateInputs) -> Outcome:
        return quality.required_columns(t.frame, REQUIRED_COLUMNS[table], asset)

    def ids(t: GateInputs) -> Outcome:
        return quality.ids_present_and_unique(t.frame, id_column, asset)

    def shrink(t: GateInputs) -> Outcome:
        published = t.published.input_rows(asset)
        return quality.row_count_not_shrunk(len(t.frame), published, t.thresholds.max_row_drop_share, asset)

    def drift(t: GateInputs) -> Outcome:
        return quality.schema_drift([str(c) for c in t.frame.columns], t.published.input_columns(asset), asset)

    def row_swing(t: GateInputs) -> Outcome:
        published = t.published.input_rows(asset)
        return quality.swing(len(t.frame), published, t.thresholds.row_count_warn_share, f"{asset} rows")

    gates = [
        Gate(REQUIRED_COLUMNS_CHECK, f"The columns the dashboard needs are in {asset}.", required_columns),
        Gate(IDS_CHECK, f"Every {id_column} is present and appears once.", ids),
        Gate(SHRINK_CHECK, f"{asset} has not lost more rows than allowed since the last publication.", shrink),
        Gate(SCHEMA_DRIFT_CHECK, "Warns when cdr.fyi added or removed columns.", drift, blocking=False),
        Gate(ROW_SWING_CHECK, "Warns on a large but allowed change in row count.", row_swing, blocking=False),
    ]
    if table == "orders":

        def tons(t: GateInputs) -> Outcome:
            return quality.not_negative(t.frame, ("tons_purchased", "tons_delivered"), id_column, asset)

        def dates(t: GateInputs) -> Outcome:
            return quality.dates_parse(t.frame, "announcement_date", id_column, asset)

        def not_future(t: GateInputs) -> Outcome:
            latest = pd.Timestamp(datetime.now(UTC).date()) + pd.Timedelta(days=t.thresholds.future_date_grace_days)
            return quality.dates_not_after(t.frame, "announcement_date", latest=latest, id_column=id_column, table=asset)

        def plausible_size(t: GateInputs) -> Outcome:
            bounds = {
                "tons_purchased": t.thresholds.max_order_tons,
                "tons_delivered": t.thresholds.max_order_tons,
                "price_usd": t.thresholds.max_order_price_usd,
            }
            units = {"tons_purchased": "t", "tons_delivered": "t", "price_usd": "USD"}
            return quality.values_at_most(t.frame, bounds, id_column, asset, units)

        gates += [
            Gate(NEGATIVE_TONS_CHECK, "No order has negative tons purchased or delivered.", tons),
            Gate(DATES_CHECK, "Every announcement_date is a date.", dates),
            Gate(FUTURE_DATES_CHECK, "No order is announced after today, beyond a small grace.", not_future),
            Gate(ORDER_SIZE_CHECK, "No order has more tons or a higher price than any plausible single order.", plausible_size),
        ]
    return gates


raw_checks = [asset_gates(f"cdr_fyi_{table}", raw_table_gates(table)) for table in TABLES]
