"""What runs the assets: the weekly job and its schedule (jobs.py), the failure alert
(alerts.py) and the staleness alert (freshness.py). Loaded with the defs folder by
cdr_dagster/definitions.py."""
