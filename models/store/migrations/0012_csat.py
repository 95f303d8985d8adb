"""Customer satisfaction (issue 13): the rating asked for on each close of a ticket, its
use (rating, comment) and whether a later close spent its link; an index covering the
report's count of ratings per period, queue, agent and rating."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0011_sla")]

    initial = False

    operations = [
        ops.CreateModel(
            name="CsatRequest",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "ticket",
                    fields.ForeignKeyField(
                        "ticketbot.Ticket",
                        source_field="ticket_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="csat_requests",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("queue", fields.CharField(max_length=100)),
                ("agent", fields.CharField(default="", max_length=32)),
                ("locale", fields.CharField(default="en", max_length=8)),
                ("rating", fields.CharField(null=True, max_length=8)),
                ("comment", fields.TextField(null=True, unique=False)),
                ("superseded", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("rated_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "commented_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "csat_request",
                "app": "ticketbot",
                "indexes": [
                    Index(fields=["ticket_id", "superseded"]),
                    # the report's count of ratings reads this index only
                    Index(fields=["rated_at", "queue", "agent", "rating"]),
                ],
                "pk_attr": "id",
                "table_description": "A rating asked for on one close of a ticket, and its use.",
            },
            bases=["Model"],
        ),
    ]
