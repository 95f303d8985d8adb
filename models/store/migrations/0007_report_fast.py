"""Issue 11's year report at 1,000,000 tickets: the resolution times without the history.

- `ticket.last_closed_at`: the time of the ticket's latest close, kept across reopenings
  (`closed_at` is cleared by them), written by the close itself (models/work.py); filled
  here from the history for the tickets that exist. A ticket's last close in a period is
  this time when it falls in the period; only tickets closed again after the period's end
  still need their history rows (models/report_queries.py, `_resolution`).
- Indexes: ticket (last_closed_at, created_at) for that range (index-only on PostgreSQL
  when no queue is asked for), history (ticket_id, event, created_at) for one ticket's closes,
  ticket (subject_key, created_at, id) for the first ticket of each of the most frequent
  subjects; on PostgreSQL ticket (created_at) INCLUDE (first_response_at, queue, subject_key,
  customer_email): the first responses, breaches, top customers and subjects of a period
  read only that index (the bench's tickets are not stored in created_at order, so each of
  these read the whole table); ticket (queue) WHERE state <> 'closed' (both databases): the
  backlog now, of all queues or some, counts a small index; on PostgreSQL ticket (queue, id):
  the ids of a queue's tickets, which a queue report's history and minutes are limited to,
  from the index alone.
"""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

PG_FILL = (
    "UPDATE ticket t SET last_closed_at = c.last FROM ("
    "SELECT ticket_id, max(created_at) AS last FROM ticket_history WHERE event = 'closed' "
    "GROUP BY ticket_id) c WHERE t.id = c.ticket_id"
)
SQLITE_FILL = (
    "UPDATE ticket SET last_closed_at = (SELECT max(h.created_at) FROM ticket_history h "
    "WHERE h.ticket_id = ticket.id AND h.event = 'closed') "
    "WHERE id IN (SELECT ticket_id FROM ticket_history WHERE event = 'closed')"
)


PG_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ticket_created_covering ON ticket (created_at) "
    "INCLUDE (first_response_at, queue, subject_key, customer_email)",
    "CREATE INDEX IF NOT EXISTS ticket_queue_id ON ticket (queue, id)",
)
OPEN_INDEX = "CREATE INDEX IF NOT EXISTS ticket_not_closed ON ticket (queue) WHERE state <> 'closed'"


async def add_indexes(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for statement in (*PG_INDEXES, OPEN_INDEX):
            await client.execute_script(statement)
    else:
        await client.execute_query(OPEN_INDEX)


async def drop_indexes(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    for name in ("ticket_created_covering", "ticket_queue_id", "ticket_not_closed"):
        await client.execute_query(f"DROP INDEX IF EXISTS {name}")


async def fill_last_closed(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """Every ticket's newest "closed" history row (the value the close writes from now on)."""
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(PG_FILL)
    else:
        await client.execute_query(SQLITE_FILL)


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0006_report_covering")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Ticket",
            name="last_closed_at",
            field=fields.DatetimeField(null=True),
        ),
        ops.RunPython(fill_last_closed, ops.RunPython.noop),
        ops.AddIndex(model_name="Ticket", index=Index(fields=["last_closed_at", "created_at"])),
        ops.AddIndex(
            model_name="History", index=Index(fields=["ticket_id", "event", "created_at"])
        ),
        ops.AddIndex(model_name="Ticket", index=Index(fields=["subject_key", "created_at", "id"])),
        ops.RunPython(add_indexes, drop_indexes),
    ]
