"""Slack incoming webhook for alerts and the weekly summary (``SLACK_WEBHOOK_URL``).

Without a webhook the message goes to the Dagster log instead, so nothing is lost on a laptop.
Messages are plain text; Slack's markup characters are escaped only in what is posted, so the
log and the terminal read plainly. The webhook URL is a secret: it is never logged, not even
when posting fails.
"""

from collections.abc import Callable

import dagster as dg
import requests
from pydantic import Field

from cdr_dagster.config import WEBHOOK_MISSING
from cdr_dagster.domain.slack_text import escape_slack


class SlackWebhook(dg.ConfigurableResource):
    """Posts plain-text messages to one Slack channel through an incoming webhook."""

    webhook_url: str = Field(default="", description="Incoming webhook URL, SLACK_WEBHOOK_URL (secret).")
    timeout_seconds: float = Field(default=10.0, description="Timeout for one post.")

    def post(self, text: str, log: Callable[[str], None]) -> bool:
        """Post ``text``; log it instead when no webhook is set. True when Slack accepted it."""
        if not self.webhook_url:
            log(f"{WEBHOOK_MISSING}:\n{text}")
            return False
        try:
            response = requests.post(self.webhook_url, json={"text": escape_slack(text)}, timeout=self.timeout_seconds)
        except requests.RequestException as error:
            log(f"Slack post failed ({type(error).__name__}); message was:\n{text}")
            return False
        if response.status_code != 200:
            log(f"Slack answered HTTP {response.status_code}; message was:\n{text}")
            return False
        return True
