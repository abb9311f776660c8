"""The thresholds of the quality gates, editable per run from the Dagster launchpad."""

import dagster as dg
from pydantic import Field


class QualityThresholds(dg.ConfigurableResource):
    """How far a week may move from what is published before a gate stops it or a warning shows."""

    max_row_drop_share: float = Field(
        default=0.20, description="Blocking: a raw table may lose at most this share of its published rows."
    )
    dollars_spent_band: float = Field(
        default=0.50, description="Blocking: dollars spent must stay within ± this share of the published value."
    )
    row_count_warn_share: float = Field(default=0.10, description="Warning: a raw table's row count moved more than this share.")
    totals_warn_share: float = Field(default=0.25, description="Warning: total tons or dollars moved more than this share.")
