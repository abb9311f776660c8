"""Bundled sample inputs, so a laptop without a token or dropped files runs end to end.

Everything built from them is labelled ``source: sample``; test and prod never use them.
"""

from importlib import resources

SNAPSHOT_FILE = "cdr_fyi_snapshot.json.gz"
FRONT_PAGE_FILE = "cdr_fyi_front_page.html"
CCN_COMPANIES_FILE = "ccn_companies.csv"
CARBON_PRICING_FILE = "world_bank_carbon_pricing.csv"


def sample_path(name: str) -> str:
    """Where a bundled sample file is on disk (shown in metadata when the sample stands in)."""
    return str(resources.files(__name__).joinpath(name))


def sample_bytes(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()
