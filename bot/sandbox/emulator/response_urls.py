"""response_url: issued with each interaction, good for 5 POSTs within 30 minutes.

This module only keeps the book of issued URLs; `respond.py` applies what is POSTed to them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

MAX_USES = 5
TTL_SECONDS = 30 * 60


@dataclass(frozen=True)
class ResponseOrigin:
    """Where an interaction happened: which message (or ephemeral) `replace_original` edits.

    kind is "message", "ephemeral", "command" (slash command; nothing to replace) or "view".
    """

    kind: str
    user_id: str
    channel: str | None = None
    message_ts: str | None = None


@dataclass
class ResponseUrl:
    """One issued response_url."""

    id: str
    origin: ResponseOrigin
    issued_at: float
    uses: int = 0


class ResponseUrlRegistry:
    """Issued response_urls by id."""

    def __init__(self) -> None:
        self.urls: dict[str, ResponseUrl] = {}

    def issue(self, origin: ResponseOrigin, now: float) -> ResponseUrl:
        """A fresh response_url for this origin."""
        entry = ResponseUrl(secrets.token_hex(12), origin, now)
        self.urls[entry.id] = entry
        return entry
