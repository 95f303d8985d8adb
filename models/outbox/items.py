"""The outbox: side effects written in the same transaction as the change that caused them.

A worker delivers them later with retries and backoff, so a crash between
commit and delivery loses nothing. Items of one `stream` (e.g. one ticket's
Slack thread) are delivered strictly in order; streams are independent, so a
stuck mail never delays a Slack card.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.clock import Clock, system_clock


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class OutboxItem(Model):
    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=64)
    stream = fields.CharField(max_length=100, db_index=True)
    payload: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    lease_owner = fields.CharField(max_length=200, default="")
    lease_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField()
    done_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox"
        indexes = (("status", "next_attempt_at"), ("status", "stream", "id"))

    def __str__(self) -> str:
        return f"outbox#{self.id} {self.kind} ({self.stream})"


async def enqueue(
    kind: str, payload: dict[str, Any], *, stream: str, clock: Clock = system_clock
) -> OutboxItem:
    """Record a side effect; call inside the transaction of the change that causes it."""
    now = clock()
    return await OutboxItem.create(
        kind=kind, stream=stream, payload=payload, next_attempt_at=now, created_at=now
    )


class RetryLater(Exception):
    """The delivery failed for now; try again after `after` seconds (or the usual backoff)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class PermanentFailure(Exception):
    """Retrying cannot help (e.g. the message was rejected as invalid)."""
