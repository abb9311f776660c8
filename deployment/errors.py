"""The ways a deploy or a data roll-back stops, each with its exit code.

Every message is one or a few plain sentences naming what is wrong (a key, a file, a setting) and
what to do; none carries a secret. ``deployment/deploy.py`` prints it and exits with the code.
"""

from __future__ import annotations

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3


class DeployError(Exception):
    """A step failed; the message says which and why (never a secret)."""

    exit_code = EXIT_FAILED


class ConfigError(DeployError):
    """deployments.toml, the command line or the checkout is not usable."""

    exit_code = EXIT_USAGE


class Refused(DeployError):
    """A safety rule stopped the command before anything changed."""

    exit_code = EXIT_REFUSED
