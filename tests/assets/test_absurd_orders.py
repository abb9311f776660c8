"""Absurd orders never reach the page: real weekly_refresh runs against the fake cdr.fyi after a
good week was published (the `world` of test_quality_gates)."""

from __future__ import annotations

import pytest

from cdr_dagster.assets.datasets import checks
from cdr_dagster.assets.sources import cdr_fyi as raw_checks
from tests.assets import test_quality_gates as gates
from tests.assets.test_quality_gates import World, failed_checks, publish_a_good_week

pytestmark = pytest.mark.e2e
world = gates.world  # the fixture: a data folder, the fake cdr.fyi and front page, an instance


def test_an_order_from_2099_or_of_absurd_size_or_moving_a_total_too_far_publishes_nothing(world: World) -> None:
    before = publish_a_good_week(world)
    template = dict(world.api.tables["orders"][0], type_of_agreement="Credit Sale", tons_delivered=0.0)

    # one order dated 2099 with 1e12 tons: both blocking checks on the raw table name it
    world.api.tables["orders"].append(
        dict(template, order_id="absurd-2099", announcement_date="2099-01-01", tons_purchased=1e12, price_usd=None)
    )
    result = world.run()
    assert not result.success
    failed = failed_checks(result)
    assert sorted(failed) == [
        f"cdr_fyi_orders:{raw_checks.FUTURE_DATES_CHECK}",
        f"cdr_fyi_orders:{raw_checks.ORDER_SIZE_CHECK}",
    ]
    assert "absurd-2099 (2099-01-01)" in failed[f"cdr_fyi_orders:{raw_checks.FUTURE_DATES_CHECK}"].description
    size = failed[f"cdr_fyi_orders:{raw_checks.ORDER_SIZE_CHECK}"]
    assert "tons_purchased > 1e+07: absurd-2099 (1e+12)" in size.description
    assert size.metadata["ids_by_column"].value == {"tons_purchased": ["absurd-2099"]}
    assert world.published() == before

    # a plausible single order that still moves the DAC dollars total by +40%: $2.5B at the DAC
    # weighted average price ($883.02/t, so the imputed unpriced DAC orders do not move) takes it
    # from 6,226,179,384 to 8,726,179,384; the swing is blocking now and names the order
    world.api.tables["orders"].pop()
    huge = dict(template, order_id="huge-dac", announcement_date="2026-11-23", method="DAC")
    world.api.tables["orders"].append(dict(huge, tons_purchased=2831185.2, price_usd=2.5e9))
    result = world.run()
    assert not result.success
    failed = failed_checks(result)
    assert list(failed) == [f"orders_for_viz:{checks.TOTALS_SWING_CHECK}"]  # 2.8 Mt: +2.4% of tons, allowed
    swing = failed[f"orders_for_viz:{checks.TOTALS_SWING_CHECK}"]
    assert "DAC dollars moved +40.2% since published (6.22618e+09 -> 8.72618e+09)" in swing.description
    assert "DAC dollars: huge-dac (2,500,000,000 USD)" in swing.description
    assert swing.metadata["largest_new_orders"].value["DAC dollars"] == ["huge-dac (2,500,000,000 USD)"]
    assert world.published() == before
