"""Absurd orders never reach the page: real weekly_refresh runs against the fake cdr.fyi after a
good week was published (the `world` of test_quality_gates)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pytest

from cdr_dagster.assets.datasets import checks
from cdr_dagster.assets.gates import REJECTED_ROWS
from cdr_dagster.assets.sources import cdr_fyi as raw_checks
from cdr_dagster.automation.alerts import checks_not_run, weekly_refresh_failure_alert
from cdr_dagster.definitions import build_definitions
from cdr_dagster.resources.slack import SlackWebhook
from devtools.static_site import serving
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
    assert "tons_purchased above 10,000,000 t: absurd-2099 (1,000,000,000,000 t)" in size.description
    assert size.metadata["ids_by_column"].value == {"tons_purchased": ["absurd-2099"]}
    table = size.metadata[REJECTED_ROWS].value
    assert "| absurd-2099 " in table and "1,000,000,000,000" in table and "2099-01-01" in table
    assert "e+" not in size.description + table
    assert world.published() == before

    # the failure alert: one post naming the asset, the check, the order, its tons and date,
    # and that the page still serves the good week
    alerts = failure_alerts(world, result.run_id)
    assert len(alerts) == 1
    [alert] = alerts
    published_on = datetime.now(UTC).strftime("%Y-%m-%d")
    assert f"Nothing was published: the page keeps serving the week published on {published_on}." in alert
    assert "`cdr_fyi_orders` check `order_sizes_plausible`" in alert
    assert "absurd-2099 (1,000,000,000,000 t)" in alert and "absurd-2099 (2099-01-01)" in alert
    assert "e+1" not in alert and "python3 dev.py rerun" in alert and "rejected_rows" in alert
    assert "no automatic retry" in alert and "retry 1 of 2" not in alert  # a failed gate fails again
    assert len(alert) < 4000
    # the publication asset says nothing was published
    [note] = world.instance.fetch_observations(dg.AssetKey("dashboard_publication"), limit=1).records
    assert note.asset_observation is not None
    assert note.asset_observation.metadata["status"].value.startswith("nothing published: the page keeps serving the week")
    # the checks of what the failed gates kept from being built did not run: said so, not as failures
    # (every check of the four datasets built from the orders; the dropped files' datasets ran)
    not_run = checks_not_run(world.instance, result.run_id)
    built_from_orders = {"orders_for_viz", "purchasers_for_viz", "latest_deals", "suppliers_for_viz"}
    graph = build_definitions("local").resolve_asset_graph()
    expected = {
        f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys if k.asset_key.path[0] in built_from_orders
    }
    assert sorted(not_run) == sorted(expected) and "orders_for_viz:totals_swing" in not_run
    assert f"- {len(expected)} checks not run (a check upstream failed, so their assets were not built;" in alert
    assert note.asset_observation.metadata["checks_not_run"].value.count("\n- `") == len(expected)

    # a plausible single order that still moves the DAC dollars total by +40%: $2.5B at the DAC
    # weighted average price ($883.02/t, so the imputed unpriced DAC orders do not move) takes it
    # from 6,226,179,384 to about 8,726,179,384 (8,726,179,409: the new order nudges the DAC average
    # price the unpriced DAC orders are imputed at); the swing is blocking now and names the order
    world.api.tables["orders"].pop()
    huge = dict(template, order_id="huge-dac", announcement_date="2026-11-23", method="DAC")
    world.api.tables["orders"].append(dict(huge, tons_purchased=2831185.2, price_usd=2.5e9))
    result = world.run()
    assert not result.success
    failed = failed_checks(result)
    assert list(failed) == [f"orders_for_viz:{checks.TOTALS_SWING_CHECK}"]  # 2.8 Mt: +2.4% of tons, allowed
    swing = failed[f"orders_for_viz:{checks.TOTALS_SWING_CHECK}"]
    assert "DAC dollars moved +40.2% since published (6,226,179,384 USD -> 8,726,179,409 USD)" in swing.description
    assert "DAC dollars: huge-dac (2,500,000,000 USD)" in swing.description
    assert swing.metadata["largest_new_orders"].value["DAC dollars"] == ["huge-dac (2,500,000,000 USD)"]
    assert world.published() == before


def failure_alerts(world: World, run_id: str) -> list[str]:
    """What the failure-alert sensor posts for the run, caught by a local webhook server."""
    run = world.instance.get_run_by_id(run_id)
    assert run is not None
    records = world.instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    failure = records[0].event_log_entry.dagster_event
    assert failure is not None
    definitions = build_definitions("local")
    with serving({"/hook": (200, b"ok")}) as slack:
        context = dg.build_run_status_sensor_context(
            sensor_name="weekly_refresh_failure_alert",
            dagster_event=failure,
            dagster_instance=world.instance,
            dagster_run=run,
            repository_def=definitions.get_repository_def(),
        ).for_run_failure()
        weekly_refresh_failure_alert(
            context, slack=SlackWebhook(webhook_url=slack.url("/hook")), storage=world.storage, deployment="local"
        )
        return [json.loads(body)["text"] for method, _, body in slack.received if method == "POST"]
