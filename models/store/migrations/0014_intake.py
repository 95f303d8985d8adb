"""Mail stored raw before its ticket is made: `inbound_message.pending`.

The IMAP intake stores a whole FETCH batch of raw mails in one statement and makes
their tickets afterwards; the flag marks the mails whose ticket is still to be made.
A partial index keeps finding them cheap whatever the size of the table.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

CREATE = "CREATE INDEX IF NOT EXISTS inbound_pending ON inbound_message (id) WHERE pending"


async def add_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    await schema_editor.client.execute_script(CREATE)


async def drop_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    await schema_editor.client.execute_script("DROP INDEX IF EXISTS inbound_pending")


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0013_report_rollup")]

    initial = False

    operations = [
        ops.AddField(
            model_name="InboundMessage",
            name="pending",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunPython(add_index, drop_index),
    ]
