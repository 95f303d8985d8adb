"""trigger_id bookkeeping: issued with each interactive delivery, good once and for 3 s.

Slack's docs name the errors trigger_expired / trigger_exchanged, but the live API answers
`expired_trigger_id` (SLACK.md §2); reuse answers `exchanged_trigger_id` (UNVERIFIED), and an
id Slack never issued gets `invalid_arguments` with the message slack-api-ref records.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.emulator.errors import ApiError

TRIGGER_TTL_SECONDS = 3.0


@dataclass
class Trigger:
    """One issued trigger_id and what it was issued for."""

    id: str
    user_id: str
    issued_at: float
    context: dict[str, Any] = field(default_factory=dict)
    used_at: float | None = None


class TriggerRegistry:
    """Issues and exchanges trigger_ids; `ttl` is settable so tests need not sleep."""

    def __init__(self, ttl: float = TRIGGER_TTL_SECONDS) -> None:
        self.ttl = ttl
        self.triggers: dict[str, Trigger] = {}
        self._serial = 398_738_663_015

    def issue(self, user_id: str, now: float, **context: Any) -> str:
        """A fresh trigger_id shaped like Slack's ('398738663015.47445629121.803a…')."""
        self._serial += 1
        trigger_id = f"{self._serial}.47445629121.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(trigger_id, user_id, now, dict(context))
        return trigger_id

    def exchange(self, trigger_id: str, now: float) -> Trigger:
        """Use a trigger once, or raise the error Slack answers views.open with."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise ApiError("invalid_arguments", messages=["invalid `trigger_id`"])
        if trigger.used_at is not None:
            raise ApiError("exchanged_trigger_id")
        if now - trigger.issued_at > self.ttl:
            raise ApiError("expired_trigger_id")
        trigger.used_at = now
        return trigger
