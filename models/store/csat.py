"""Customer satisfaction requests: one row per close of a ticket that asked for a rating."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.store.ticket import Ticket


class CsatRequest(Model):
    """The rating asked for on one close. The token in the mail names this row; `rating`
    set means it was used (a compare-and-set, so two clicks at once record one rating);
    a later close of the same ticket marks the older rows `superseded` (their links are
    spent). `queue` and `agent` are kept as they were at the close, for the report."""

    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "ticketbot.Ticket", related_name="csat_requests", on_delete=fields.CASCADE
    )
    ticket_id: int
    queue = fields.CharField(max_length=100)
    agent = fields.CharField(max_length=32, default="")  # the ticket's owner at the close
    locale = fields.CharField(max_length=8, default="en")  # the mail's, for the page
    rating = fields.CharField(max_length=8, null=True)
    comment = fields.TextField(null=True)
    superseded = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()  # the close
    expires_at = fields.DatetimeField()
    rated_at = fields.DatetimeField(null=True)
    commented_at = fields.DatetimeField(null=True)

    class Meta:
        table = "csat_request"
        table_description = "A rating asked for on one close of a ticket, and its use."
        # (rated_at, queue, agent, rating): the report's count reads the index only
        indexes = (("ticket_id", "superseded"), ("rated_at", "queue", "agent", "rating"))

    def __str__(self) -> str:
        return f"csat#{self.id} of ticket {self.ticket_id}"
