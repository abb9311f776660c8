"""Staleness alerts: when an asset is older than its freshness policy allows, say so once a day.

Each weekly asset carries a ``FreshnessPolicy`` (a week plus a grace period), each hand-dropped
file one of about a year (cdr_dagster/assets/options.py, assets/sources/raw_inputs.py); the daemon shows their state in the UI.
This sensor reads the same policies and posts one Slack message (or log line without a webhook)
per late asset per day, naming the asset and how late it is. Before the first publication every
asset is "never updated": it then says once that no data is published yet, instead.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg

from cdr_dagster.resources.slack import SlackWebhook

PUBLICATION_ASSET = "dashboard_publication"
NO_DATA_CURSOR_KEY = "no data published yet"  # in the cursor: the day the "no data" message went out


@dataclass(frozen=True)
class Late:
    asset: str
    last_update: datetime | None  # None: never materialized or observed
    window: timedelta
    late_by: timedelta | None


def late_assets(windows: dict[str, timedelta], last_updates: dict[str, datetime | None], now: datetime) -> list[Late]:
    """The assets whose last update is older than their window (or that never had one)."""
    late = []
    for asset, window in sorted(windows.items()):
        last = last_updates.get(asset)
        if last is None:
            late.append(Late(asset, None, window, None))
        elif now - last > window:
            late.append(Late(asset, last, window, now - last - window))
    return late


def _duration(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h"


def staleness_text(item: Late, deployment: str) -> str:
    allowed = _duration(item.window)
    if item.last_update is None or item.late_by is None:
        return (
            f":hourglass: *{item.asset}* on *{deployment}* has never been updated "
            f"(it must be updated every {allowed}). Materialize it, or drop its input file."
        )
    return (
        f":hourglass: *{item.asset}* on *{deployment}* is {_duration(item.late_by)} late: "
        f"last updated {item.last_update:%Y-%m-%d %H:%M} UTC, allowed age {allowed}. "
        "Check the weekly run (or the dropped file) and re-run it."
    )


def no_data_text(deployment: str) -> str:
    return (
        f":hourglass: *{deployment}*: no data published yet. The freshness alerts start after the first "
        "successful weekly_refresh (run `python3 dev.py refresh`, or wait for the Monday schedule)."
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def _last_update(instance: dg.DagsterInstance, key: dg.AssetKey) -> datetime | None:
    """When the asset was last materialized (a hand-dropped file: when a run first saw its current
    version), the event the freshness policies judge in the UI too."""
    record = instance.get_latest_materialization_event(key)
    return datetime.fromtimestamp(record.timestamp, UTC) if record else None


@dg.sensor(
    name="staleness_alert",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts to Slack (or logs) once a day for each asset older than its freshness policy allows.",
)
def staleness_alert(context: dg.SensorEvaluationContext, slack: SlackWebhook, deployment: dg.ResourceParam[str]) -> dg.SkipReason:
    now = utc_now()
    assert context.repository_def is not None, "the sensor runs inside its code location"
    windows = {
        node.key.to_user_string(): node.freshness_policy.fail_window.to_timedelta()
        for node in context.repository_def.asset_graph.asset_nodes
        if node.freshness_policy is not None and hasattr(node.freshness_policy, "fail_window")
    }
    alerted: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    today = now.strftime("%Y-%m-%d")
    if context.instance.get_latest_materialization_event(dg.AssetKey(PUBLICATION_ASSET)) is None:
        if NO_DATA_CURSOR_KEY not in alerted:
            slack.post(no_data_text(deployment), log=context.log.warning)
            alerted[NO_DATA_CURSOR_KEY] = today
            context.update_cursor(json.dumps(alerted, sort_keys=True))
        return dg.SkipReason("no data published yet: freshness alerts start after the first publication")
    last = {name: _last_update(context.instance, dg.AssetKey(name)) for name in windows}
    posted = []
    for item in late_assets(windows, last, now):
        if alerted.get(item.asset) == today:
            continue
        slack.post(staleness_text(item, deployment), log=context.log.warning)
        alerted[item.asset] = today
        posted.append(item.asset)
    context.update_cursor(json.dumps(alerted, sort_keys=True))
    return dg.SkipReason(f"stale: {', '.join(posted)}" if posted else "every asset is fresh, or was already reported today")
