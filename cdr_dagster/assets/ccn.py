"""The Circular Carbon Network's list of CDR companies, dropped in by hand (group ``ccn``)."""

import hashlib
from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from cdr_dagster.metadata import table_metadata
from cdr_dagster.resources.ccn_input import CCN_FORMAT, CcnCompaniesFile
from cdr_dagster.resources.csv_io_manager import PREFIX_METADATA_KEY
from cdr_dagster.transforms.ccn import (
    CcnValidationError,
    ccn_pathway_counts,
    read_ccn_csv,
    validate_ccn_companies,
)


CCN_FILE_DESCRIPTION = (
    "The CCN companies CSV as a person dropped it (raw/ccn_companies.csv). Observing it records "
    "when it was last replaced, so its freshness check can say when it is over a year old and "
    "due for CCN's next annual report."
)


@dg.observable_source_asset(group_name="ccn", owners=["team:data-platform"], description=CCN_FILE_DESCRIPTION)
def ccn_companies_file(ccn_input: CcnCompaniesFile) -> dg.ObserveResult:
    if not ccn_input.storage.exists(ccn_input.key):
        return dg.ObserveResult(
            metadata={"location": ccn_input.storage.location(ccn_input.key), "present": False}
        )
    data = ccn_input.storage.read_bytes(ccn_input.key)
    return dg.ObserveResult(
        data_version=dg.DataVersion(hashlib.sha256(data).hexdigest()[:16]),
        metadata={
            "location": ccn_input.storage.location(ccn_input.key),
            "present": True,
            "bytes": len(data),
            "dagster/last_updated_timestamp": dg.MetadataValue.timestamp(
                ccn_input.storage.last_modified(ccn_input.key)
            ),
        },
    )


@dg.asset(
    deps=[ccn_companies_file],
    group_name="ccn",
    kinds={"python", "pandas", "csv"},
    owners=["team:data-platform"],
    code_version="1",
    metadata={PREFIX_METADATA_KEY: "raw"},
)
def ccn_companies(
    context: dg.AssetExecutionContext, ccn_input: CcnCompaniesFile
) -> dg.MaterializeResult[pd.DataFrame]:
    """CDR companies tracked by the Circular Carbon Network (an XPRIZE research initiative), with
    their founding year and removal pathway. CCN has no API: a person maintains
    ``raw/ccn_companies.csv``; this asset validates it hard (a bad row rejects the whole file,
    naming every offending line) and keeps a dated copy of what was accepted."""
    data, source = ccn_input.read()
    try:
        companies = validate_ccn_companies(read_ccn_csv(data), current_year=datetime.now(UTC).year)
    except CcnValidationError as error:
        raise dg.Failure(
            description=f"{ccn_input.storage.location(ccn_input.key)} was rejected, nothing "
            f"published: {error}. Expected {CCN_FORMAT}.",
            metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in error.problems))},
            allow_retries=False,
        ) from None
    if source == "sample":
        context.log.warning("ccn_companies: no file dropped in; using the bundled SAMPLE")
    return dg.MaterializeResult(
        value=companies,
        metadata={
            **table_metadata(companies),
            "source": source,
            "input": dg.MetadataValue.path(ccn_input.storage.location(ccn_input.key)),
            "companies_by_pathway": dg.MetadataValue.json(ccn_pathway_counts(companies)),
        },
    )
