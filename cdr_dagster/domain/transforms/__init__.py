"""Pure data transformations behind the CDR market dashboard (DataFrames in, DataFrames out).

Each module builds one dataset of the dashboard contract (``docs/dashboard-contract.md``); the
rules they share live in :mod:`cdr_dagster.domain.transforms.rules`. Nothing here does I/O: the Dagster
assets read the raw tables, call these functions and publish the results.
"""

from cdr_dagster.domain.transforms.carbon_pricing import read_carbon_pricing_csv, validate_carbon_pricing
from cdr_dagster.domain.transforms.ccn import (
    CcnProblem,
    CcnValidationError,
    ccn_data,
    ccn_pathway_counts,
    read_ccn_csv,
    validate_ccn_companies,
)
from cdr_dagster.domain.transforms.coerce import InputSchemaError
from cdr_dagster.domain.transforms.dollars_spent import (
    DollarsSpentError,
    dollars_spent_frame,
    extract_dollars_spent,
    parse_dollar_amount,
)
from cdr_dagster.domain.transforms.dropped_file import FileRejected
from cdr_dagster.domain.transforms.latest_deals import latest_deals
from cdr_dagster.domain.transforms.orders import orders_for_viz
from cdr_dagster.domain.transforms.purchasers import purchasers_for_viz
from cdr_dagster.domain.transforms.rules import clean_orders
from cdr_dagster.domain.transforms.suppliers import suppliers_for_viz

__all__ = [
    "CcnProblem",
    "CcnValidationError",
    "DollarsSpentError",
    "FileRejected",
    "InputSchemaError",
    "ccn_data",
    "ccn_pathway_counts",
    "clean_orders",
    "dollars_spent_frame",
    "extract_dollars_spent",
    "latest_deals",
    "orders_for_viz",
    "parse_dollar_amount",
    "purchasers_for_viz",
    "read_carbon_pricing_csv",
    "read_ccn_csv",
    "suppliers_for_viz",
    "validate_carbon_pricing",
    "validate_ccn_companies",
]
