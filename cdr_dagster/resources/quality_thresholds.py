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
    totals_max_swing_share: float = Field(
        default=0.25,
        description="Blocking: total tons purchased and DAC dollars may move at most this share since published "
        "(raise it for one run when a real, very large week is named).",
    )
    future_date_grace_days: int = Field(
        default=2,
        description="Blocking: an order may be announced at most this many days after today (time zones, early entries).",
    )
    max_order_tons: float = Field(
        default=10_000_000.0, description="Blocking: the most tons (purchased or delivered) one order may have (10 Mt)."
    )
    max_order_price_usd: float = Field(
        default=10_000_000_000.0, description="Blocking: the highest price one order may have ($10B)."
    )
    row_count_warn_share: float = Field(default=0.10, description="Warning: a raw table's row count moved more than this share.")
