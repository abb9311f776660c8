"""Files a person drops in by hand: the CCN companies list and the World Bank carbon-pricing
figures.

Neither source has an API, so a person maintains a CSV in the deployment's storage (the bucket in
test and prod, the data folder locally) at a fixed key. On a laptop with nothing dropped in, the
bundled sample is used instead (labelled as such); test and prod never fall back to a sample.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from cdr_dagster.domain.layout import CARBON_PRICING_INPUT_KEY, CCN_INPUT_KEY
from cdr_dagster.resources.storage import Storage
from cdr_dagster.sample_data import CARBON_PRICING_FILE, CCN_COMPANIES_FILE, sample_bytes, sample_path

CCN_FORMAT = (
    "a UTF-8 CSV with a header row and the columns company_name, year_founded, pathway "
    "(one row per company; year_founded a whole year 1900..this year; other columns are ignored)"
)
CARBON_PRICING_FORMAT = (
    "a UTF-8 CSV with a header row and the columns year, countries_count, global_emissions_pct "
    "(one row per year with no gap, year 1990..this year; countries_count a whole number from 0 to 250; "
    "global_emissions_pct a percentage 0..100; other columns are ignored)"
)


class DroppedFile(dg.ConfigurableResource):
    """A hand-dropped CSV in the deployment's storage, with an optional bundled sample."""

    storage: Storage
    key: str
    sample_fallback: bool = Field(default=False, description="Use the bundled sample when no file was dropped (local only).")

    # set by each kind of file
    title: str = ""
    file_format: str = ""
    sample_name: str = ""

    def read(self) -> tuple[bytes, str]:
        """The file's bytes and their source: ``dropped`` or ``sample``."""
        if self.storage.exists(self.key):
            return self.storage.read_bytes(self.key), "dropped"
        if self.sample_fallback:
            return sample_bytes(self.sample_name), "sample"
        raise dg.Failure(
            f"The {self.title} is missing: put it at {self.storage.location(self.key)}, as {self.file_format}.",
            allow_retries=False,
        )

    def current_source(self) -> str:
        """``dropped`` when a person's file is in place, else ``sample`` (or missing)."""
        if self.storage.exists(self.key):
            return "dropped"
        return "sample" if self.sample_fallback else "missing"

    def location(self) -> str:
        return self.storage.location(self.key)

    def read_from(self, source: str) -> str:
        """Where the bytes of ``source`` (``dropped`` or ``sample``) were read: a path that exists."""
        return sample_path(self.sample_name) if source == "sample" else self.location()


class CcnCompaniesFile(DroppedFile):
    """The Circular Carbon Network's list of CDR companies (``raw/ccn_companies.csv``)."""

    key: str = Field(default=CCN_INPUT_KEY, description="Where the file is dropped.")
    title: str = "CCN companies file"
    file_format: str = CCN_FORMAT
    sample_name: str = CCN_COMPANIES_FILE


class CarbonPricingFile(DroppedFile):
    """The World Bank's yearly carbon-pricing figures (``raw/world_bank_carbon_pricing.csv``)."""

    key: str = Field(default=CARBON_PRICING_INPUT_KEY, description="Where the file is dropped.")
    title: str = "World Bank carbon-pricing file"
    file_format: str = CARBON_PRICING_FORMAT
    sample_name: str = CARBON_PRICING_FILE
