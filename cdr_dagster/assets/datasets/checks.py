"""The quality gates on the datasets: blocking checks that stop a bad week before it reaches the
page, and warnings for changes a person should look at.

When a blocking check fails nothing downstream runs, so the publication step never copies
anything and the page keeps serving the last good week. Each gate is a thin wrapper over a rule
in cdr_dagster/domain/quality.py; the columns come from cdr_dagster/domain/datasets.py. All the
gates on one dataset run in one step, ``<dataset>_checks`` (see cdr_dagster/assets/gates.py).
"""

import pandas as pd

from cdr_dagster.assets.gates import Gate, GateInputs, asset_gates
from cdr_dagster.domain import quality
from cdr_dagster.domain.datasets import DATASETS, DatasetSpec
from cdr_dagster.domain.quality import Outcome
from cdr_dagster.domain.transforms import rules
from cdr_dagster.domain.transforms.summary import last

# check names (shown in the UI, used by tests and alerts)
CONTRACT_COLUMNS_CHECK = "contract_columns"
NOT_EMPTY_CHECK = "not_empty"
CUMULATIVE_CHECK = "cumulative_never_decrease"
DAILY_CHECK = "one_row_per_day"
YEARS_CHECK = "consecutive_years"
DEALS_CHECK = "ten_newest_deals"
DOLLARS_CHECK = "dollars_spent_plausible"
TOTALS_SWING_CHECK = "totals_swing"
SHARE_CHECK = "emissions_share_is_a_percentage"
COUNTS_CHECK = "counts_not_negative"


def spec_gates(spec: DatasetSpec) -> list[Gate]:
    """The gates every dataset gets from its spec: exact columns, not empty, and for a time
    series: running totals that never go down and no missing day or year."""
    dataset = spec.name

    def columns(t: GateInputs) -> Outcome:
        return quality.exact_columns(t.frame, spec.columns, dataset)

    def not_empty(t: GateInputs) -> Outcome:
        return quality.not_empty(len(t.frame), dataset)

    def cumulative(t: GateInputs) -> Outcome:
        return quality.never_decreasing(t.frame, spec.cumulative, spec.order_by, dataset)

    def daily(t: GateInputs) -> Outcome:
        return quality.contiguous_days(t.frame, "date", dataset)

    def years(t: GateInputs) -> Outcome:
        return quality.contiguous_years(t.frame, "year", dataset)

    gates = [
        Gate(CONTRACT_COLUMNS_CHECK, "Exactly the columns the page reads, in order.", columns),
        Gate(NOT_EMPTY_CHECK, "The page never gets an empty dataset.", not_empty),
    ]
    if spec.cumulative:
        gates.append(Gate(CUMULATIVE_CHECK, "Cumulative series never go down.", cumulative))
    if spec.series == "date":
        gates.append(Gate(DAILY_CHECK, "One row per calendar day, none missing.", daily))
    elif spec.series == "year":
        gates.append(Gate(YEARS_CHECK, "One row per year from the first to the last, none missing.", years))
    return gates


def ten_newest_deals(t: GateInputs) -> Outcome:
    orders = rules.clean_orders(t.reads["cdr_fyi_orders"])
    dated = int(pd.to_datetime(orders["announcement_date"], errors="coerce").notna().sum())
    return quality.deal_count(len(t.frame), dated, rules.LATEST_DEALS_COUNT)


def dollars_spent_plausible(t: GateInputs) -> Outcome:
    value = float(t.frame["value"].iloc[0]) if len(t.frame) else 0.0
    return quality.within_band(value, t.published.dollars_spent(), t.thresholds.dollars_spent_band, "dollars_spent", "USD")


def orders_totals_swing(t: GateInputs) -> Outcome:
    before = t.published.dataset_frame("orders_for_viz")
    totals = {
        "tons purchased": (last(t.frame, "tons_purchased_cum") or 0.0, last(before, "tons_purchased_cum"), "t"),
        "DAC dollars": (last(t.frame, "dac_price_usd_cum") or 0.0, last(before, "dac_price_usd_cum"), "USD"),
    }
    orders = t.reads["cdr_fyi_orders"]
    movers = quality.largest_new_orders(rules.clean_orders(orders), t.published.input_frame("cdr_fyi_orders"))
    return quality.totals_within_swing(totals, t.thresholds.totals_max_swing_share, movers, "orders_for_viz")


def emissions_share_is_a_percentage(t: GateInputs) -> Outcome:
    return quality.within_range(t.frame, "global_emissions_pct", 0, 100, "year", "carbon_pricing")


def counts_not_negative(t: GateInputs) -> Outcome:
    return quality.within_range(t.frame, "countries_count", 0, None, "year", "carbon_pricing")


# The gates a dataset has beyond those of its spec.
DATASET_GATES: dict[str, list[Gate]] = {
    "latest_deals": [
        Gate(
            DEALS_CHECK,
            "The ticker has the 10 newest deals (fewer only if fewer dated orders exist).",
            ten_newest_deals,
            reads=("cdr_fyi_orders",),
        )
    ],
    "dollars_spent": [
        Gate(DOLLARS_CHECK, "Positive, and within the allowed band of the published value.", dollars_spent_plausible)
    ],
    "orders_for_viz": [
        Gate(
            TOTALS_SWING_CHECK,
            "Total tons purchased and DAC dollars moved no more than the allowed share since published.",
            orders_totals_swing,
            reads=("cdr_fyi_orders",),
        )
    ],
    "carbon_pricing": [
        Gate(SHARE_CHECK, "The share of global emissions covered is a percentage (0 to 100).", emissions_share_is_a_percentage),
        Gate(COUNTS_CHECK, "The number of countries pricing carbon is never negative.", counts_not_negative),
    ],
}

dataset_checks = [asset_gates(name, spec_gates(spec) + DATASET_GATES.get(name, [])) for name, spec in DATASETS.items()]
