"""Text from the data (names, ids, error messages) made safe for Slack's markup."""


def escape_slack(text: str) -> str:
    """``&``, ``<`` and ``>`` escaped as Slack asks, so a name such as ``<!channel>`` or
    ``<http://x|click>`` is shown literally: it pings nobody and links nowhere."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
