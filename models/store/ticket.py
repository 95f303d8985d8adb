"""Tickets, their states and their history."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.priority import Priority

if TYPE_CHECKING:
    from models.store.article import Article


class TicketState(StrEnum):
    """new → open (claimed) → pending (answered) → closed; a customer reply reopens."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"


class Ticket(Model):
    id = fields.BigIntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)
    queue = fields.CharField(max_length=100, db_index=True)
    subject = fields.TextField()
    customer_email = fields.CharField(max_length=320, db_index=True)
    customer_name = fields.CharField(max_length=200, default="")
    # Where agents' replies go when not to customer_email: the first mail's single Reply-To.
    reply_address = fields.CharField(max_length=320, default="", db_default="")
    state = fields.CharEnumField(TicketState, max_length=16, default=TicketState.NEW, db_index=True)
    priority = fields.CharEnumField(
        Priority, max_length=16, default=Priority.NORMAL, db_default=Priority.NORMAL.value
    )
    owner_id = fields.CharField(max_length=32, null=True)
    claimed_at = fields.DatetimeField(null=True)
    owner_active_at = fields.DatetimeField(null=True)
    last_activity_at = fields.DatetimeField()
    first_response_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)  # cleared by a reopening
    # The time of its latest close, kept across reopenings (the newest "closed" history row):
    # the report's resolution times read it instead of the history (models/report_queries.py).
    last_closed_at = fields.DatetimeField(null=True)
    escalated_at = fields.DatetimeField(null=True)
    slack_channel = fields.CharField(max_length=32, default="")
    slack_ts = fields.CharField(max_length=32, null=True)
    linked_ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "ticketbot.Ticket", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    linked_ticket_id: int | None
    link_reason = fields.CharField(max_length=40, default="", db_default="")
    # Set when this ticket was merged into another (then closed): its number leads there.
    merged_into: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "ticketbot.Ticket", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    merged_into_id: int | None
    # Service levels (models/sla_state.py), all null without `sla:`. The running clocks'
    # due and warning instants (null once the clock stopped, or while a pause holds it
    # before its due instant): the escalation job finds its candidates by them.
    sla_first_due_at = fields.DatetimeField(null=True)
    sla_first_warn_at = fields.DatetimeField(null=True)
    sla_resolution_due_at = fields.DatetimeField(null=True)
    sla_resolution_warn_at = fields.DatetimeField(null=True)
    # How a stopped clock ended: True in time, False late; null while running/unmeasured.
    sla_first_met = fields.BooleanField(null=True)
    sla_resolution_met = fields.BooleanField(null=True)
    # Once-only markers of the escalation notices (compare-and-set in models/escalation.py).
    sla_first_warned_at = fields.DatetimeField(null=True)
    sla_first_breached_at = fields.DatetimeField(null=True)
    sla_resolution_warned_at = fields.DatetimeField(null=True)
    sla_resolution_breached_at = fields.DatetimeField(null=True)
    # The time that does not count (pending, closed): [[start, end or null], …] as ISO text.
    sla_pauses: fields.Field[list[list[str | None]] | None] = fields.JSONField(null=True)
    # normalise_subject(subject, hook) when it was created: reports group subjects by it
    subject_key = fields.CharField(max_length=200, default="", db_default="")
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    articles: fields.ReverseRelation[Article]
    history: fields.ReverseRelation[History]

    class Meta:
        table = "ticket"
        indexes = (
            ("state", "created_at"),
            ("queue", "created_at"),
            ("created_at", "id"),
            ("last_closed_at", "created_at"),
            ("subject_key", "created_at", "id"),
        )

    def __str__(self) -> str:
        return f"Ticket#{self.number}"


class History(Model):
    """What happened to a ticket, by whom and when. Rows are never updated or deleted."""

    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "ticketbot.Ticket", related_name="history", on_delete=fields.CASCADE
    )
    ticket_id: int
    event = fields.CharField(max_length=40, db_index=True)
    actor = fields.CharField(max_length=320, default="system")
    detail: fields.Field[dict[str, object]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "ticket_history"
        # (ticket_id, event, created_at): one ticket's rows of a kind, e.g. its closes
        indexes = (("event", "created_at"), ("ticket_id", "event", "created_at"))


class TicketCounter(Model):
    """The daily counter behind ticket numbers, bumped atomically in SQL."""

    day = fields.CharField(max_length=8, primary_key=True)
    value = fields.IntField(default=0)

    class Meta:
        table = "ticket_counter"


class Replying(Model):
    """An agent who has the Reply form of a ticket open, since when (the collision warning).
    One row per agent and ticket; rows go when the form is sent or closed, or go stale."""

    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "ticketbot.Ticket", related_name="replying", on_delete=fields.CASCADE
    )
    user_id = fields.CharField(max_length=32)
    user_name = fields.CharField(max_length=200, default="")
    since = fields.DatetimeField(db_index=True)

    class Meta:
        table = "ticket_replying"
        unique_together = (("ticket", "user_id"),)
