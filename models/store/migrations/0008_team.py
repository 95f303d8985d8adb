"""Working as a team (issue 12): a ticket's priority (existing tickets are `normal`) and,
for a merged ticket, the ticket it was merged into (its number keeps leading there)."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from models.priority import Priority


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0007_report_fast")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Ticket",
            name="merged_into",
            field=fields.ForeignKeyField(
                "ticketbot.Ticket",
                source_field="merged_into_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name=False,
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name="Ticket",
            name="priority",
            field=fields.CharEnumField(
                default=Priority.NORMAL,
                description="LOW: low\nNORMAL: normal\nHIGH: high\nURGENT: urgent",
                db_default="normal",
                enum_type=Priority,
                max_length=16,
            ),
        ),
    ]
