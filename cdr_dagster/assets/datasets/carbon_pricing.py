"""The ``carbon_pricing`` dataset (group ``dashboard``): the World Bank's yearly carbon-pricing
figures, read straight from the file a person drops in (its observation is in
assets/sources/world_bank.py, group ``world_bank``)."""

import dagster as dg
import pandas as pd

from cdr_dagster.assets.datasets.assets import DATASET_OPTIONS, dataset_result
from cdr_dagster.assets.sources.raw_inputs import read_dropped_file
from cdr_dagster.domain.transforms.carbon_pricing import read_carbon_pricing_csv, validate_carbon_pricing
from cdr_dagster.domain.transforms.summary import carbon_pricing_headline
from cdr_dagster.resources.input_files import CarbonPricingFile


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
