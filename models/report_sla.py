"""The report's service levels: for tickets created in the period, per queue and priority,
how many met and how many breached each clock (models/sla_state.py stores the outcome on
the ticket, so this is one cheap statement over ticket columns).

- met: the clock stopped (first reply, close) at or before its due instant.
- breached: it stopped later, or it still runs and its due instant has passed when the
  report is made (a ticket waiting for the customer after its deadline is breached too).
- Tickets without a target for a clock (or created without `sla:`) count in neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models.priority import PRIORITY_ORDER, Priority
from models.sql import Query, dialect_of

__all__ = ["SlaCount", "sla_counts"]


@dataclass(frozen=True, slots=True)
class SlaCount:
    queue: str
    priority: Priority
    first_met: int
    first_breached: int
    resolution_met: int
    resolution_breached: int


def _met(sql: Query, prefix: str) -> str:
    true = "TRUE" if sql.dialect == "postgres" else "1"
    return f"sum(CASE WHEN t.{prefix}_met = {true} THEN 1 ELSE 0 END)"


def _breached(sql: Query, prefix: str, now: datetime) -> str:
    false = "FALSE" if sql.dialect == "postgres" else "0"
    met, due = f"t.{prefix}_met", f"t.{prefix}_due_at"
    return (
        f"sum(CASE WHEN {met} = {false} OR ({met} IS NULL AND {due} < {sql.value(now)}) "
        "THEN 1 ELSE 0 END)"
    )


async def sla_counts(
    start: datetime, end: datetime, *, queues: Sequence[str] | None, now: datetime
) -> list[SlaCount]:
    """Met and breached per queue and priority, queues by name, priorities most pressing
    first; only the lines with something to count."""
    sql = Query(dialect_of(), serial=True)
    # written in reading order: SQLite's placeholders are positional
    text = "SELECT t.queue AS queue, t.priority AS priority, "
    text += f"{_met(sql, 'sla_first')} AS fm, {_breached(sql, 'sla_first', now)} AS fb, "
    text += f"{_met(sql, 'sla_resolution')} AS rm, {_breached(sql, 'sla_resolution', now)} AS rb "
    text += f"FROM ticket t WHERE t.created_at >= {sql.value(start)} "
    text += f"AND t.created_at < {sql.value(end)}"
    if queues is not None:
        text += f" AND t.queue IN {sql.values(queues)}"
    rows = await sql.fetch(text + " GROUP BY t.queue, t.priority")
    order = {p.value: i for i, p in enumerate(PRIORITY_ORDER)}
    lines = [
        SlaCount(
            str(row["queue"]),
            Priority(row["priority"]),
            int(row["fm"] or 0),
            int(row["fb"] or 0),
            int(row["rm"] or 0),
            int(row["rb"] or 0),
        )
        for row in rows
        if any(row[key] for key in ("fm", "fb", "rm", "rb"))
    ]
    return sorted(lines, key=lambda line: (line.queue, order[line.priority.value]))
