"""Service levels (issue 13): a ticket's due instants, how its clocks ended, the pauses
and the once-only markers of the escalation notices; all null for existing tickets
(they were created without `sla:`, so nothing is measured for them).

The escalation job looks for running clocks whose warning or due instant has passed:
one partial index per instant holds only the tickets whose clock runs (the columns are
nulled when a clock stops or is held), so the job never reads the closed past.
"""

from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops

INSTANTS = (
    "sla_first_warn_at",
    "sla_first_due_at",
    "sla_resolution_warn_at",
    "sla_resolution_due_at",
)


async def add_indexes(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    for column in INSTANTS:
        await schema_editor.client.execute_script(
            f"CREATE INDEX IF NOT EXISTS ticket_{column} ON ticket ({column}) "
            f"WHERE {column} IS NOT NULL"
        )


async def drop_indexes(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    for column in INSTANTS:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS ticket_{column}")


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0010_waiting_cards")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Ticket",
            name="sla_first_breached_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Ticket",
            name="sla_first_due_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Ticket",
            name="sla_first_met",
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name="Ticket",
            name="sla_first_warn_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Ticket",
            name="sla_first_warned_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Ticket",
            name="sla_pauses",
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name="Ticket",
            name="sla_resolution_breached_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Ticket",
            name="sla_resolution_due_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Ticket",
            name="sla_resolution_met",
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name="Ticket",
            name="sla_resolution_warn_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Ticket",
            name="sla_resolution_warned_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunPython(add_indexes, drop_indexes),
    ]
