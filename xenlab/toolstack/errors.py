"""The toolstack's errors (one module both xend and its device controllers import, so neither
imports the other)."""
from __future__ import annotations

from xenlab.toolstack.domain_config import DomainCreateError


class ToolstackError(DomainCreateError):
    """A toolstack operation failed; the message says which call and why."""


class ConfigValueError(ToolstackError):
    """A config value that parses but cannot be honoured; ``key`` names the config key."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)
