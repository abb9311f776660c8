"""The Circular Carbon Network's list of CDR companies, dropped in by hand (group ``ccn``)."""

import dagster as dg
import pandas as pd

from cdr_dagster.assets.options import table_metadata
from cdr_dagster.assets.sources.raw_inputs import (
    RAW_TABLE_OPTIONS,
    YEARLY_FILE_WINDOW,
    dropped_file_source,
    read_dropped_file,
)
from cdr_dagster.domain.layout import CCN_INPUT_KEY
from cdr_dagster.domain.transforms.ccn import ccn_pathway_counts, read_ccn_csv, validate_ccn_companies
from cdr_dagster.resources.input_files import CcnCompaniesFile

GROUP = "ccn"

ccn_companies_file = dropped_file_source(
    "ccn_companies_file",
    "ccn_input",
    GROUP,
    f"The CCN companies CSV as a person dropped it ({CCN_INPUT_KEY}). Observing it records "
    "when it was last replaced, so its freshness policy can say when it is over a year old and "
    "due for CCN's next annual report.",
    YEARLY_FILE_WINDOW,
)


@dg.asset(deps=["ccn_companies_file"], **RAW_TABLE_OPTIONS, group_name=GROUP, code_version="2")
def ccn_companies(context: dg.AssetExecutionContext, ccn_input: CcnCompaniesFile) -> dg.MaterializeResult[pd.DataFrame]:
    """CDR companies tracked by the Circular Carbon Network (an XPRIZE research initiative), with
    their founding year and removal pathway. CCN has no API: a person maintains
    ``raw/ccn_companies.csv``; this asset validates it hard (a bad row rejects the whole file,
    naming every offending line) and keeps a dated copy of what was accepted."""
    companies, source = read_dropped_file(context, ccn_input, read_ccn_csv, validate_ccn_companies)
    return dg.MaterializeResult(
        value=companies,
        metadata={
            **table_metadata(companies),
            "source": source,
            "input": dg.MetadataValue.path(ccn_input.read_from(source)),
            "companies_by_pathway": dg.MetadataValue.json(ccn_pathway_counts(companies)),
        },
    )
