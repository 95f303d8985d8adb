"""Covering indexes for the report's biggest range scans on PostgreSQL (index-only scans
instead of reading the history and article tables; issue 11's 1,000,000-ticket bench):

- history (event, created_at) INCLUDE (ticket_id, actor): closes per day, the resolution
  times, the agents' claims, replies and closes;
- article (created_at) INCLUDE (author, minutes_spent, ticket_id) WHERE minutes_spent > 0:
  the minutes booked per agent.

Not on SQLite (no INCLUDE; its reports meet their targets without them).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

PG_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ticket_history_event_created_covering "
    "ON ticket_history (event, created_at) INCLUDE (ticket_id, actor)",
    "CREATE INDEX IF NOT EXISTS article_minutes_booked "
    "ON article (created_at) INCLUDE (author, minutes_spent, ticket_id) WHERE minutes_spent > 0",
)


async def add_indexes(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for statement in PG_INDEXES:
            await client.execute_script(statement)


async def drop_indexes(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(
            "DROP INDEX IF EXISTS ticket_history_event_created_covering; "
            "DROP INDEX IF EXISTS article_minutes_booked"
        )


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0005_search")]

    initial = False

    operations = [ops.RunPython(add_indexes, drop_indexes)]
