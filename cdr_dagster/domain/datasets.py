"""The datasets the public page reads: one spec each, the single home of their names and columns.

Everything that needs a dataset's columns (the transforms, the contract check, the publication,
the tests, and by a test also the presign Lambda's allowlist) reads them from here. The contract
with the page is written up in docs/dashboard-contract.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

#: how a column reads back from a CSV (domain/csv_format.py); a column not declared is text
ColumnType = Literal["text", "number", "date", "bool"]


@dataclass(frozen=True)
class DatasetSpec:
    """One CSV the page reads: its columns in order, the column rows are ordered by, and which
    columns are running totals (they must never go down)."""

    name: str
    columns: tuple[str, ...]
    order_by: str
    cumulative: tuple[str, ...] = ()
    #: "date" (one row per calendar day), "year" (one row per year) or "" (no time series)
    series: str = ""

    @property
    def descriptions(self) -> dict[str, str]:
        """What each column means, for the UI's column schema."""
        return {column: COLUMN_DESCRIPTIONS[column] for column in self.columns}


ORDERS_FOR_VIZ_COLUMNS: Final[tuple[str, ...]] = (
    "date",
    "tons_purchased_cum",
    "tons_delivered_cum",
    "dac_tons_purchased_cum",
    "dac_tons_delivered_cum",
    "price_usd_cum",
    "dac_price_usd_cum",
)
PURCHASERS_FOR_VIZ_COLUMNS: Final[tuple[str, ...]] = ("date", "purchasers_count_cum", "dac_purchasers_count_cum")
LATEST_DEALS_COLUMNS: Final[tuple[str, ...]] = (
    "announcement_date",
    "supplier_name",
    "purchaser_name",
    "tons_purchased",
    "method",
)
SUPPLIERS_FOR_VIZ_COLUMNS: Final[tuple[str, ...]] = ("year", "name", "is_dac", "tons_sold")
DOLLARS_SPENT_COLUMNS: Final[tuple[str, ...]] = ("metric", "value")
CCN_DATA_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "companies_founded",
    "dac_companies_founded",
    "companies_founded_cum",
    "dac_companies_founded_cum",
)
CARBON_PRICING_COLUMNS: Final[tuple[str, ...]] = ("year", "countries_count", "global_emissions_pct")

# The datasets' columns that are not text, by name (the same name has the same type everywhere).
COLUMN_TYPES: Final[dict[str, ColumnType]] = {
    "date": "date",
    "announcement_date": "date",
    **dict.fromkeys(ORDERS_FOR_VIZ_COLUMNS[1:] + PURCHASERS_FOR_VIZ_COLUMNS[1:], "number"),
    "tons_purchased": "number",
    "year": "number",
    "tons_sold": "number",
    "is_dac": "bool",
    "value": "number",
    **dict.fromkeys(CCN_DATA_COLUMNS + CARBON_PRICING_COLUMNS, "number"),
}


# What each column of the page's datasets means (a name means the same in every dataset).
# Running totals (``_cum``) sum every order announced up to and including the row's day or year.
COLUMN_DESCRIPTIONS: Final[dict[str, str]] = {
    "date": "Calendar day (UTC), one row per day from the first announced order.",
    "tons_purchased_cum": "Tonnes of CO2 removal purchased to date, all methods (running total, t).",
    "tons_delivered_cum": "Tonnes of CO2 removal delivered to date, all methods (running total, t).",
    "dac_tons_purchased_cum": "Tonnes purchased to date from direct air capture (DAC) only (running total, t).",
    "dac_tons_delivered_cum": "Tonnes delivered to date from DAC only (running total, t).",
    "price_usd_cum": "Publicly priced spending to date, all methods (running total, USD).",
    "dac_price_usd_cum": "Spending on DAC to date, unpriced DAC orders at the DAC average price (running total, USD).",
    "purchasers_count_cum": "Unique purchasers with an announced order to date (running count).",
    "dac_purchasers_count_cum": "Unique purchasers with an announced DAC order to date (running count).",
    "announcement_date": "Day the deal was announced (YYYY-MM-DD).",
    "supplier_name": "Company selling the removal.",
    "purchaser_name": "Company or organisation buying the removal.",
    "tons_purchased": "Tonnes of CO2 removal in the deal (t).",
    "method": "Removal method as cdr.fyi names it; a DAC method is flagged NEW DAC DEAL on the ticker.",
    "year": "Calendar year, one row per year from the first to the last.",
    "name": "Supplier name as cdr.fyi lists it.",
    "is_dac": "True when the supplier sells direct air capture.",
    "tons_sold": "Tonnes sold by the supplier in the year, credit sales (t).",
    "metric": "Name of the figure (dollars_spent).",
    "value": "Total dollars spent on durable CDR to date, as cdr.fyi reports it (USD).",
    "companies_founded": "CDR companies founded in the year (CCN list).",
    "dac_companies_founded": "DAC companies founded in the year (CCN list).",
    "companies_founded_cum": "CDR companies founded up to the year (running count).",
    "dac_companies_founded_cum": "DAC companies founded up to the year (running count).",
    "countries_count": "Countries with a carbon price in force in the year (World Bank).",
    "global_emissions_pct": "Share of global greenhouse-gas emissions covered by carbon prices (%, World Bank).",
}


def _cumulative(columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in columns if c.endswith("_cum"))


SPECS: Final[tuple[DatasetSpec, ...]] = (
    DatasetSpec("orders_for_viz", ORDERS_FOR_VIZ_COLUMNS, "date", _cumulative(ORDERS_FOR_VIZ_COLUMNS), "date"),
    DatasetSpec("purchasers_for_viz", PURCHASERS_FOR_VIZ_COLUMNS, "date", _cumulative(PURCHASERS_FOR_VIZ_COLUMNS), "date"),
    DatasetSpec("latest_deals", LATEST_DEALS_COLUMNS, "announcement_date"),
    DatasetSpec("suppliers_for_viz", SUPPLIERS_FOR_VIZ_COLUMNS, "year"),
    DatasetSpec("dollars_spent", DOLLARS_SPENT_COLUMNS, "metric"),
    DatasetSpec("ccn_data", CCN_DATA_COLUMNS, "year", _cumulative(CCN_DATA_COLUMNS), "year"),
    DatasetSpec("carbon_pricing", CARBON_PRICING_COLUMNS, "year", (), "year"),
)
DATASETS: Final[dict[str, DatasetSpec]] = {spec.name: spec for spec in SPECS}
DATASET_NAMES: Final[tuple[str, ...]] = tuple(DATASETS)
