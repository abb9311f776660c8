"""The Circular Carbon Network companies file, dropped in by hand.

CCN publishes its company list only in a PDF report, so a person maintains
``raw/ccn_companies.csv`` (columns ``company_name, year_founded, pathway``) in the deployment's
storage: the bucket in test and prod, the data folder locally. On a laptop with nothing dropped in,
the bundled sample is used instead (labelled as such).
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from cdr_dagster.resources.sample_data import CCN_COMPANIES_FILE, sample_bytes
from cdr_dagster.resources.storage import Storage

CCN_INPUT_KEY = "raw/ccn_companies.csv"
CCN_FORMAT = (
    "a UTF-8 CSV with a header row and the columns company_name, year_founded, pathway "
    "(one row per company; year_founded a whole year 1900..this year; other columns are ignored)"
)


class CcnCompaniesFile(dg.ConfigurableResource):
    """Reads the hand-dropped CCN companies CSV from the deployment's storage."""

    storage: Storage
    key: str = Field(default=CCN_INPUT_KEY, description="Where the file is dropped.")
    sample_fallback: bool = Field(
        default=False, description="Use the bundled sample when no file was dropped (local only)."
    )

    def read(self) -> tuple[bytes, str]:
        """The file's bytes and their source: ``dropped`` or ``sample``."""
        if self.storage.exists(self.key):
            return self.storage.read_bytes(self.key), "dropped"
        if self.sample_fallback:
            return sample_bytes(CCN_COMPANIES_FILE), "sample"
        raise dg.Failure(
            f"The CCN companies file is missing: put it at {self.storage.location(self.key)}, "
            f"as {CCN_FORMAT}."
        )

    def current_source(self) -> str:
        """``dropped`` when a person's file is in place, else ``sample`` (or missing)."""
        if self.storage.exists(self.key):
            return "dropped"
        return "sample" if self.sample_fallback else "missing"
