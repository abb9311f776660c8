"""The datasets the public page reads (group ``dashboard``).

Each is a plain transformation from cdr_dagster/transforms/ wrapped in an asset that reports the
week's headline figures. They are first written to ``staging/``; the publication step copies them
to ``processed/`` once every check has passed.
"""

import dagster as dg
import pandas as pd

from cdr_dagster.metadata import table_metadata
from cdr_dagster.resources.ccn_input import CcnCompaniesFile
from cdr_dagster.resources.cdr_fyi_api import CdrFyiApi
from cdr_dagster.resources.cdr_fyi_site import DollarsSpentSource
from cdr_dagster.resources.csv_io_manager import PREFIX_METADATA_KEY
from cdr_dagster import transforms
from cdr_dagster.transforms.dollars_spent import DollarsSpentError

GROUP = "dashboard"
DATASETS: tuple[str, ...] = (
    "orders_for_viz",
    "purchasers_for_viz",
    "latest_deals",
    "suppliers_for_viz",
    "dollars_spent",
    "ccn_data",
)
DATASET_OPTIONS = dict(
    group_name=GROUP,
    kinds={"python", "pandas", "csv"},
    owners=["team:data-platform"],
    metadata={PREFIX_METADATA_KEY: "staging"},
)


# Cumulative sums of floats pick up noise (117383851.29999998); a thousandth of a ton or dollar
# is far below what the page shows, and rounding keeps cumulative series non-decreasing.
PUBLISHED_DECIMALS = 3


def _published(frame: pd.DataFrame) -> pd.DataFrame:
    floats = frame.select_dtypes("float").columns
    return frame.assign(**{c: frame[c].round(PUBLISHED_DECIMALS) for c in floats})


def _last(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].iloc[-1]) if len(frame) else 0.0


def _share(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


@dg.asset(**DATASET_OPTIONS, code_version="1")
def orders_for_viz(
    cdr_fyi_orders: pd.DataFrame, cdr_fyi_api: CdrFyiApi
) -> dg.MaterializeResult[pd.DataFrame]:
    """Cumulative tons of durable CDR purchased and delivered, and dollars paid, one row per day
    since the first announced credit sale: the page's main line chart and its "% tons
    delivered" and DAC "total spent" stats, for all CDR and DAC only."""
    frame, stats = transforms.orders_for_viz(cdr_fyi_orders)
    frame = _published(frame)
    purchased = _last(frame, "tons_purchased_cum")
    delivered = _last(frame, "tons_delivered_cum")
    dac_purchased = _last(frame, "dac_tons_purchased_cum")
    return dg.MaterializeResult(
        value=frame,
        metadata={
            **table_metadata(frame),
            "source": cdr_fyi_api.source,
            "tons_purchased": purchased,
            "tons_delivered": delivered,
            "percent_delivered": _share(delivered, purchased),
            "dac_tons_purchased": dac_purchased,
            "dac_share_percent": _share(dac_purchased, purchased),
            "dac_dollars_spent": _last(frame, "dac_price_usd_cum"),
            **{k: v for k, v in stats.items() if isinstance(v, (int, float, str))},
        },
    )


@dg.asset(**DATASET_OPTIONS, code_version="1")
def purchasers_for_viz(
    cdr_fyi_orders: pd.DataFrame, cdr_fyi_purchasers: pd.DataFrame, cdr_fyi_api: CdrFyiApi
) -> dg.MaterializeResult[pd.DataFrame]:
    """Cumulative number of unique CDR purchasers, one row per day, each counted from its first
    announced order: the page's "unique purchasers" chart and stat, for all CDR and DAC only."""
    frame, stats = transforms.purchasers_for_viz(cdr_fyi_orders, cdr_fyi_purchasers)
    return dg.MaterializeResult(
        value=frame,
        metadata={
            **table_metadata(frame),
            "source": cdr_fyi_api.source,
            "unique_purchasers": int(_last(frame, "purchasers_count_cum")),
            "dac_unique_purchasers": int(_last(frame, "dac_purchasers_count_cum")),
            **{k: v for k, v in stats.items() if isinstance(v, (int, float, str))},
        },
    )


@dg.asset(**DATASET_OPTIONS, code_version="1")
def latest_deals(
    cdr_fyi_orders: pd.DataFrame,
    cdr_fyi_purchasers: pd.DataFrame,
    cdr_fyi_suppliers: pd.DataFrame,
    cdr_fyi_api: CdrFyiApi,
) -> dg.MaterializeResult[pd.DataFrame]:
    """The ten most recently announced CDR deals (who sold how many tons to whom, by which
    method): the page's scrolling ticker, DAC deals flagged "NEW DAC DEAL"."""
    frame = _published(transforms.latest_deals(cdr_fyi_orders, cdr_fyi_purchasers, cdr_fyi_suppliers))
    return dg.MaterializeResult(
        value=frame,
        metadata={
            **table_metadata(frame),
            "source": cdr_fyi_api.source,
            "newest_deal": str(frame["announcement_date"].iloc[0]) if len(frame) else "",
        },
    )


@dg.asset(**DATASET_OPTIONS, code_version="1")
def suppliers_for_viz(
    cdr_fyi_orders: pd.DataFrame, cdr_fyi_suppliers: pd.DataFrame, cdr_fyi_api: CdrFyiApi
) -> dg.MaterializeResult[pd.DataFrame]:
    """Tons of CDR sold per supplier and year (credit sales), with a DAC flag: the supplier
    leaderboard data (computed for the page, not yet charted)."""
    frame = _published(transforms.suppliers_for_viz(cdr_fyi_orders, cdr_fyi_suppliers))
    return dg.MaterializeResult(
        value=frame,
        metadata={
            **table_metadata(frame),
            "source": cdr_fyi_api.source,
            "suppliers_with_sales": int(frame["name"].nunique()),
            "tons_sold": float(frame["tons_sold"].sum()),
        },
    )


@dg.asset(**DATASET_OPTIONS, code_version="1")
def dollars_spent(dollars_spent_source: DollarsSpentSource) -> dg.MaterializeResult[pd.DataFrame]:
    """The total dollars spent on durable CDR to date, as cdr.fyi reports it (it includes
    private prices, so it cannot be rebuilt from the orders): the page's ALL CDR "total spent"
    stat. Scraped from cdr.fyi's front page until cdr.fyi ships a metrics endpoint."""
    try:
        value = dollars_spent_source.total_dollars_spent()
    except DollarsSpentError as error:
        raise dg.Failure(description=f"dollars_spent not published: {error}", allow_retries=False) from None
    frame = transforms.dollars_spent_frame(value)
    return dg.MaterializeResult(
        value=frame,
        metadata={
            **table_metadata(frame),
            "source": dollars_spent_source.source,
            "scraped_from": dollars_spent_source.describe(),
            "dollars_spent": value,
        },
    )


@dg.asset(**DATASET_OPTIONS, code_version="1")
def ccn_data(
    ccn_companies: pd.DataFrame, ccn_input: CcnCompaniesFile
) -> dg.MaterializeResult[pd.DataFrame]:
    """CDR companies founded per year, and cumulatively, from the CCN list (years without a
    founding included as 0): the page's "companies founded" bar chart and stat."""
    frame = transforms.ccn_data(ccn_companies)
    return dg.MaterializeResult(
        value=frame,
        metadata={
            **table_metadata(frame),
            "source": ccn_input.current_source(),
            "companies_founded": int(_last(frame, "companies_founded_cum")),
            "dac_companies_founded": int(_last(frame, "dac_companies_founded_cum")),
        },
    )
