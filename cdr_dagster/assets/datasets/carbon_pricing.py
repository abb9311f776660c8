"""The World Bank's yearly carbon-pricing figures, dropped in by hand: the file in group
``world_bank`` (its source, as the CCN file is in ``ccn``), the dataset in ``dashboard``."""

import dagster as dg
import pandas as pd

from cdr_dagster.assets.datasets.assets import dataset_result
from cdr_dagster.assets.sources.raw_inputs import (
    DATASET_OPTIONS,
    YEARLY_LATE_FILE_WINDOW,
    dropped_file_source,
    read_dropped_file,
)
from cdr_dagster.domain.transforms.carbon_pricing import read_carbon_pricing_csv, validate_carbon_pricing
from cdr_dagster.domain.transforms.summary import carbon_pricing_headline
from cdr_dagster.resources.input_files import CarbonPricingFile

world_bank_carbon_pricing_file = dropped_file_source(
    "world_bank_carbon_pricing_file",
    "carbon_pricing_input",
    "world_bank",
    "The World Bank carbon-pricing CSV as a person dropped it (raw/world_bank_carbon_pricing.csv), "
    "from the yearly State and Trends of Carbon Pricing report. Observing it records when it was "
    "last replaced; its freshness policy says when it is over a year and a month old, past the "
    "report's usual release.",
    YEARLY_LATE_FILE_WINDOW,
)


@dg.asset(deps=["world_bank_carbon_pricing_file"], **DATASET_OPTIONS, code_version="1")
def carbon_pricing(
    context: dg.AssetExecutionContext, carbon_pricing_input: CarbonPricingFile
) -> dg.MaterializeResult[pd.DataFrame]:
    """How many countries put a price on carbon each year, and what share of global greenhouse
    gas emissions those prices cover (World Bank, State and Trends of Carbon Pricing): the page's
    "Governments are pricing carbon" chart and its "countries" and "emissions covered" stats.
    A person drops the yearly figures in ``raw/world_bank_carbon_pricing.csv``; a bad row
    rejects the whole file, naming every offending line."""
    frame, source = read_dropped_file(context, carbon_pricing_input, read_carbon_pricing_csv, validate_carbon_pricing)
    return dataset_result(
        "carbon_pricing",
        frame,
        source,
        {"input": dg.MetadataValue.path(carbon_pricing_input.read_from(source)), **carbon_pricing_headline(frame)},
    )
