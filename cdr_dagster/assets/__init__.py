"""The Dagster layer of the platform (the defs folder): assets, checks, the job, the schedule and
sensors, by stage. Everything here is thin glue over cdr_dagster/domain/ and cdr_dagster/cdr_fyi/.

    sources/      the inputs: cdr.fyi's tables, the CCN list, the World Bank carbon-pricing file
    datasets/     the CSVs the page reads (staged), and their quality gates
    publication/  the step that makes a checked week visible to the page
    automation/   the weekly job and schedule, the failure alert, the staleness alert
    common.py     owners, kinds, freshness policies, metadata shared by every asset
"""

import warnings

# The platform relies on these on purpose; one line here instead of a warning at every load.
warnings.filterwarnings("ignore", message=r".*(`include_sources`|`multi_observable_source_asset`).*is currently in beta")
warnings.filterwarnings("ignore", message=r"Function `load_definitions_from_modules` is currently in preview")
