"""A partial index for the tickets whose card is not posted yet.

The flood digest counts them per channel before every card post; without an index that
count read the whole ticket table each time (a full scan per card on a big helpdesk).
The index holds only the few rows still waiting, so it stays tiny. Both dialects
support partial indexes.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

CREATE = (
    "CREATE INDEX IF NOT EXISTS ticket_card_waiting "
    "ON ticket (slack_channel) WHERE slack_ts IS NULL"
)


async def add_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    await schema_editor.client.execute_script(CREATE)


async def drop_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    await schema_editor.client.execute_script("DROP INDEX IF EXISTS ticket_card_waiting")


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0009_replying")]

    initial = False

    operations = [ops.RunPython(add_index, drop_index)]
