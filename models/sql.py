"""Hand-written SQL for both databases (search and reports): placeholders, times, rows.

Values always travel as parameters. Times go to the database in UTC: SQLite keeps Tortoise's
`isoformat(" ")` text and compares it as text, so a Berlin time would compare wrongly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from tortoise.transactions import in_transaction

from models.store.ticket import Ticket

Dialect = Literal["postgres", "sqlite"]


def dialect_of() -> Dialect:
    return "postgres" if Ticket._meta.db.capabilities.dialect == "postgres" else "sqlite"


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times for the database must be aware")
    return moment.astimezone(UTC)


class Query:
    """Collects parameters while a statement is written: `value()` returns the placeholder."""

    def __init__(self, dialect: Dialect, *, serial: bool = False, work_mem_mb: int = 0) -> None:
        self.dialect = dialect
        self.params: list[Any] = []
        # PostgreSQL plans it without parallel workers: for statements that already run
        # side by side (a report's), whose workers would only take each other's cores.
        self.serial = serial
        # PostgreSQL's work_mem for this statement alone (0: the server's): for a grouping
        # whose hash table would spill to disk at the default 4 MB.
        self.work_mem_mb = work_mem_mb

    def value(self, value: Any) -> str:
        if isinstance(value, datetime):
            value = utc(value)
        self.params.append(value)
        return f"${len(self.params)}" if self.dialect == "postgres" else "?"

    def values(self, values: Iterable[Any]) -> str:
        marks = [self.value(v) for v in values]
        return "(" + (", ".join(marks) or "NULL") + ")"

    def timestamp(self, value: datetime) -> str:
        """A time parameter usable where PostgreSQL cannot infer the type (VALUES lists)."""
        mark = self.value(value)
        return f"{mark}::timestamptz" if self.dialect == "postgres" else mark

    async def fetch(self, text: str) -> list[dict[str, Any]]:
        settings = []
        if self.dialect == "postgres":
            if self.serial:
                settings.append("SET LOCAL max_parallel_workers_per_gather = 0")
            if self.work_mem_mb:
                settings.append(f"SET LOCAL work_mem = '{int(self.work_mem_mb)}MB'")
        if settings:
            async with in_transaction() as local:
                await local.execute_script("; ".join(settings))
                return list(await local.execute_query_dict(text, self.params))
        return list(await Ticket._meta.db.execute_query_dict(text, self.params))

    def datetime(self, value: Any) -> datetime:
        """A time read back: PostgreSQL gives datetimes, SQLite the stored text."""
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        parsed = datetime.fromisoformat(str(value))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)

    def duration(self, later: str, earlier: str) -> str:
        """`later - earlier` to order and pick from: an interval on PostgreSQL (exact, and
        cheap to compare; EXTRACT(EPOCH …) of the picked ones gives their seconds), the
        seconds (`seconds`) on SQLite."""
        if self.dialect == "postgres":
            return f"({later} - {earlier})"
        return self.seconds(later, earlier)

    def seconds(self, later: str, earlier: str) -> str:
        """`later - earlier` in seconds as a float, to the microsecond on both databases (the
        same value Python's `timedelta.total_seconds()` gives)."""
        if self.dialect == "postgres":
            return f"EXTRACT(EPOCH FROM ({later} - {earlier}))::float8"
        return (
            f"(((unixepoch({later}) - unixepoch({earlier})) * 1000000 "
            f"+ {_micros(later)} - {_micros(earlier)}) / 1000000.0)"
        )


def _micros(column: str) -> str:
    """The microseconds of a time stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00'."""
    return (
        f"(CASE WHEN substr({column}, 20, 1) = '.' "
        f"THEN CAST(substr({column}, 21, 6) AS INTEGER) ELSE 0 END)"
    )
