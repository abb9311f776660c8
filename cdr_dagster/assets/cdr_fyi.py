"""cdr.fyi's four tables, pulled whole from the partner API each week (group ``cdr_fyi``).

They are stored as they came, flattened to columns, under ``raw/cdr_fyi_<table>_YYYYMMDD.csv``;
the dashboard datasets are built from them.
"""

import dagster as dg
import pandas as pd

from cdr_dagster.cdr_fyi_schema import records_to_frame
from cdr_dagster.metadata import table_metadata
from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi
from cdr_dagster.resources.csv_io_manager import PREFIX_METADATA_KEY

GROUP = "cdr_fyi"
OWNERS = ["team:data-platform"]
RAW_ASSET_OPTIONS = dict(
    group_name=GROUP,
    kinds={"python", "pandas", "csv"},
    owners=OWNERS,
    code_version="1",
    metadata={PREFIX_METADATA_KEY: "raw"},
)


def pull_table(
    context: dg.AssetExecutionContext, api: CdrFyiApi, table: str
) -> dg.MaterializeResult:
    """Pull one table, flatten it, drop repeated ids, and describe the pull in metadata."""
    pull = api.fetch_table(table, log=context.log.info)
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
