"""The outbox: side effects written in the same transaction as the change that caused them.

A worker delivers them later with retries and backoff, so a crash between
commit and delivery loses nothing. Items of one `stream` (e.g. one ticket's
Slack thread) are delivered strictly in order; streams are independent, so a
stuck mail never delays a Slack card.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.clock import Clock, system_clock
from models.errors import PermanentFailure as PermanentFailure  # noqa: PLC0414 (re-exported)
from models.errors import RetryLater as RetryLater  # noqa: PLC0414 (re-exported)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class Outcome(StrEnum):
    """How the last attempt to deliver an item ended; the worker writes it with every attempt
    (`last_error` keeps the words, for people).

    PENDING: not attempted yet (and rows last attempted before this column existed).
    DELIVERED: done.
    RETRY: failed, and certainly not done: the other side answered with a refusal or a rate
    limit, or the attempt failed before it sent anything.
    MAYBE_DELIVERED: failed after the call may have happened: a 5xx, a timeout, a dropped
    connection, our own failure after the call. (A worker that dies mid-call writes nothing:
    the lease it leaves behind says the same.)
    DEAD: given up: a permanent failure, or out of attempts.
    """

    PENDING = "pending"
    DELIVERED = "delivered"
    RETRY = "retry"
    MAYBE_DELIVERED = "maybe_delivered"
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
    outcome = fields.CharEnumField(
        Outcome, max_length=16, default=Outcome.PENDING, db_default=Outcome.PENDING.value
    )
    created_at = fields.DatetimeField()
    done_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox"
        indexes = (("status", "next_attempt_at"), ("status", "stream", "id"))

    def __str__(self) -> str:
        return f"outbox#{self.id} {self.kind} ({self.stream})"


_held: ContextVar[list[OutboxItem] | None] = ContextVar("outbox_held", default=None)


async def enqueue(
    kind: str, payload: dict[str, Any], *, stream: str, clock: Clock = system_clock
) -> OutboxItem:
    """Record a side effect; call inside the transaction of the change that causes it.
    Inside `written_together()` the row is written when that block ends (it has no id
    until then)."""
    now = clock()
    item = OutboxItem(
        kind=kind, stream=stream, payload=payload, next_attempt_at=now, created_at=now
    )
    held = _held.get()
    if held is None:
        await item.save()
    else:
        held.append(item)
    return item


@asynccontextmanager
async def written_together() -> AsyncIterator[None]:
    """The side effects recorded inside are written in one statement, in the order they
    were recorded (a stream's order is its ids' order), when the block ends without an
    error; use it inside the transaction, which then commits them with the rest. For
    work that records many (tickets made from a batch of stored mail)."""
    held: list[OutboxItem] = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    if held:
        await OutboxItem.bulk_create(held)


async def remember(item: OutboxItem, facts: dict[str, Any]) -> None:
    """Keep `facts` in the item's payload for its next attempts (e.g. what Slack already has)."""
    item.payload = {**item.payload, **facts}
    await OutboxItem.filter(id=item.id).update(payload=item.payload)
