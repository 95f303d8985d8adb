"""Who has a ticket's Reply form open (issue 12, the collision warning)."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0008_team")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Replying",
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
                        related_name="replying",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("user_id", fields.CharField(max_length=32)),
                ("user_name", fields.CharField(default="", max_length=200)),
                (
                    "since",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "ticket_replying",
                "app": "ticketbot",
                "unique_together": (("ticket", "user_id"),),
                "pk_attr": "id",
                "table_description": (
                    "An agent who has the Reply form of a ticket open, since when (the"
                    " collision warning)."
                ),
            },
            bases=["Model"],
        ),
    ]
