"""The CDR market data platform: the Dagster code location (definitions.py) and what it is built on."""

import warnings

# The platform relies on these on purpose; one line here (the package root, which every
# entry point imports: the code location, operate.py, the tests) instead of a warning at every load.
warnings.filterwarnings("ignore", message=r".*(`include_sources`|`multi_observable_source_asset`).*is currently in beta")
warnings.filterwarnings("ignore", message=r"Function `load_definitions_from_modules` is currently in preview")
