"""The datasets the public page reads (group ``dashboard``).

Each is a plain transformation from cdr_dagster/domain/transforms/ wrapped in an asset that reports the
week's headline figures. They are first written to ``staging/``; the publication step copies them
to ``processed/`` once every check has passed.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd

from cdr_dagster.assets.options import OWNERS, PASSING_FAULT_RETRIES, TABLE_KINDS, WEEKLY_FRESHNESS, table_metadata
from cdr_dagster.domain import transforms
from cdr_dagster.domain.datasets import DATASETS
from cdr_dagster.domain.layout import STAGING_PREFIX
from cdr_dagster.domain.transforms.dollars_spent import DollarsSpentError
from cdr_dagster.domain.transforms.summary import (
    ccn_headline,
    orders_headline,
    published_frame,
    purchasers_headline,
)
from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi
from cdr_dagster.resources.cdr_fyi_site import DollarsSpentSource
from cdr_dagster.resources.csv_io_manager import PREFIX_METADATA_KEY
from cdr_dagster.resources.input_files import CcnCompaniesFile

# Every dataset the page reads: written to staging/ first, published only once checked.
DATASET_OPTIONS: dict[str, Any] = dict(
    group_name="dashboard",
    kinds=TABLE_KINDS,
    owners=OWNERS,
    metadata={PREFIX_METADATA_KEY: STAGING_PREFIX},
    freshness_policy=WEEKLY_FRESHNESS,
)


def dataset_result(name: str, frame: pd.DataFrame, source: str, figures: Mapping[str, Any]) -> dg.MaterializeResult[pd.DataFrame]:
    """A dataset as materialized: the frame, its row count, described columns and a preview
    (newest rows first for a time series), its source and its headline figures (numbers kept
    numeric, for plots; a figure that is undefined this week is left out)."""
    spec = DATASETS[name]
    return dg.MaterializeResult(
        value=frame,
        metadata={
            **table_metadata(frame, newest_first_by=spec.series or None, descriptions=spec.descriptions),
            "source": source,
            **{
                k: v for k, v in figures.items() if isinstance(v, (int, float, str, dg.MetadataValue)) and not isinstance(v, bool)
            },
        },
    )


@dg.asset(**DATASET_OPTIONS, code_version="1")
def orders_for_viz(cdr_fyi_orders: pd.DataFrame, cdr_fyi_api: CdrFyiApi) -> dg.MaterializeResult[pd.DataFrame]:
    """Cumulative tons of durable CDR purchased and delivered, and dollars paid, one row per day
    since the first announced credit sale: the page's main line chart and its "% tons
    delivered" and DAC "total spent" stats, for all CDR and DAC only."""
    frame, stats = transforms.orders_for_viz(cdr_fyi_orders)
    frame = published_frame(frame)
    return dataset_result("orders_for_viz", frame, cdr_fyi_api.source, {**orders_headline(frame), **stats})


@dg.asset(**DATASET_OPTIONS, code_version="1")
def purchasers_for_viz(
    cdr_fyi_orders: pd.DataFrame, cdr_fyi_purchasers: pd.DataFrame, cdr_fyi_api: CdrFyiApi
) -> dg.MaterializeResult[pd.DataFrame]:
    """Cumulative number of unique CDR purchasers, one row per day, each counted from its first
    announced order: the page's "unique purchasers" chart and stat, for all CDR and DAC only."""
    frame, stats = transforms.purchasers_for_viz(cdr_fyi_orders, cdr_fyi_purchasers)
    return dataset_result("purchasers_for_viz", frame, cdr_fyi_api.source, {**purchasers_headline(frame), **stats})


@dg.asset(**DATASET_OPTIONS, code_version="1")
def latest_deals(
    cdr_fyi_orders: pd.DataFrame,
    cdr_fyi_purchasers: pd.DataFrame,
    cdr_fyi_suppliers: pd.DataFrame,
    cdr_fyi_api: CdrFyiApi,
) -> dg.MaterializeResult[pd.DataFrame]:
    """The ten most recently announced CDR deals (who sold how many tons to whom, by which
    method): the page's scrolling ticker, DAC deals flagged "NEW DAC DEAL"."""
    frame = published_frame(transforms.latest_deals(cdr_fyi_orders, cdr_fyi_purchasers, cdr_fyi_suppliers))
    return dataset_result(
        "latest_deals", frame, cdr_fyi_api.source, {"newest_deal": str(frame["announcement_date"].iloc[0]) if len(frame) else ""}
    )


@dg.asset(**DATASET_OPTIONS, code_version="1")
def suppliers_for_viz(
    cdr_fyi_orders: pd.DataFrame, cdr_fyi_suppliers: pd.DataFrame, cdr_fyi_api: CdrFyiApi
) -> dg.MaterializeResult[pd.DataFrame]:
    """Tons of CDR sold per supplier and year (credit sales), with a DAC flag: the supplier
    leaderboard data (computed for the page, not yet charted)."""
    frame = published_frame(transforms.suppliers_for_viz(cdr_fyi_orders, cdr_fyi_suppliers))
    return dataset_result(
        "suppliers_for_viz",
        frame,
        cdr_fyi_api.source,
        {"suppliers_with_sales": int(frame["name"].nunique()), "tons_sold_t": round(float(frame["tons_sold"].sum()), 1)},
    )


@dg.asset(**DATASET_OPTIONS, code_version="1", retry_policy=PASSING_FAULT_RETRIES)
def dollars_spent(dollars_spent_source: DollarsSpentSource) -> dg.MaterializeResult[pd.DataFrame]:
    """The total dollars spent on durable CDR to date, as cdr.fyi reports it (it includes
    private prices, so it cannot be rebuilt from the orders): the page's ALL CDR "total spent"
    stat. Scraped from cdr.fyi's front page until cdr.fyi ships a metrics endpoint."""
    try:
        value = dollars_spent_source.total_dollars_spent()
    except DollarsSpentError as error:
        raise dg.Failure(description=f"dollars_spent not published: {error}", allow_retries=False) from None
    frame = transforms.dollars_spent_frame(value)
    return dataset_result(
        "dollars_spent",
        frame,
        dollars_spent_source.source,
        {"scraped_from": dollars_spent_source.describe(), "dollars_spent_usd": round(value)},
    )


@dg.asset(**DATASET_OPTIONS, code_version="1")
def ccn_data(ccn_companies: pd.DataFrame, ccn_input: CcnCompaniesFile) -> dg.MaterializeResult[pd.DataFrame]:
    """CDR companies founded per year, and cumulatively, from the CCN list (years without a
    founding included as 0): the page's "companies founded" bar chart and stat."""
    frame = transforms.ccn_data(ccn_companies)
    return dataset_result("ccn_data", frame, ccn_input.current_source(), ccn_headline(frame))
