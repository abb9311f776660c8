"""Freshness: staleness made visible. Every weekly asset must have been updated within a week
plus a grace period; the hand-dropped CCN file within a year. A sensor, on by default,
evaluates the checks, which show as pass/fail beside each asset in the UI."""

import warnings
from datetime import timedelta

import dagster as dg

from cdr_dagster.assets.dashboard import DATASETS
from cdr_dagster.cdr_fyi_schema import TABLES

WEEKLY_GRACE = timedelta(hours=12)  # the run, a retry or two, and a person's look
WEEKLY_WINDOW = timedelta(days=7) + WEEKLY_GRACE
CCN_FILE_WINDOW = timedelta(days=365)  # CCN's report is annual

WEEKLY_ASSETS: tuple[str, ...] = (
    *(f"cdr_fyi_{t}" for t in TABLES),
    "ccn_companies",
    *DATASETS,
    "dashboard_publication",
)

# Dagster now prefers FreshnessPolicy, evaluated inside the daemon; these checks are kept
# because they are ordinary asset checks: executable in tests, and listed with the quality gates.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    weekly_freshness_checks = dg.build_last_update_freshness_checks(
        assets=list(WEEKLY_ASSETS), lower_bound_delta=WEEKLY_WINDOW
    )
    ccn_file_freshness_checks = dg.build_last_update_freshness_checks(
        assets=["ccn_companies_file"], lower_bound_delta=CCN_FILE_WINDOW
    )
    freshness_checks = [*weekly_freshness_checks, *ccn_file_freshness_checks]
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=freshness_checks,
        name="freshness_checks_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
