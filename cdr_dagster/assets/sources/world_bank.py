"""The World Bank's yearly carbon-pricing file, dropped in by hand (group ``world_bank``, as the CCN
file is in ``ccn``). The ``carbon_pricing`` dataset built from it is in assets/datasets/."""

from cdr_dagster.assets.sources.raw_inputs import YEARLY_LATE_FILE_WINDOW, dropped_file_source
from cdr_dagster.domain.layout import CARBON_PRICING_INPUT_KEY

world_bank_carbon_pricing_file = dropped_file_source(
    "world_bank_carbon_pricing_file",
    "carbon_pricing_input",
    "world_bank",
    f"The World Bank carbon-pricing CSV as a person dropped it ({CARBON_PRICING_INPUT_KEY}), "
    "from the yearly State and Trends of Carbon Pricing report. Observing it records when it was "
    "last replaced; its freshness policy says when it is over a year and a month old, past the "
    "report's usual release.",
    YEARLY_LATE_FILE_WINDOW,
)
