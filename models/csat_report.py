"""Customer satisfaction in the report: the ratings given in the period, overall and per
agent (the ticket's owner when it was closed), counted by the database in one statement
of its own over `csat_request` (its `rated_at` index), beside the report's others.

A rating counts in the period it was given (not the one its ticket was closed in), in
the queue the ticket was in when it was closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.sql import Query, dialect_of

RATINGS = ("good", "okay", "bad")  # models.csat.Rating's values, best first


def _zeros() -> dict[str, int]:
    return dict.fromkeys(RATINGS, 0)


@dataclass(frozen=True)
class CsatCounts:
    """Ratings per rating (every one of `RATINGS`, zeros too), overall and per agent."""

    overall: dict[str, int] = field(default_factory=_zeros)
    #: (agent's user id, counts), most ratings first; "" is a ticket closed unowned.
    agents: list[tuple[str, dict[str, int]]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.overall.values())

    def share(self, rating: str, counts: dict[str, int] | None = None) -> float | None:
        """`rating`'s share of the ratings (0..1); None when there are none."""
        of = self.overall if counts is None else counts
        total = sum(of.values())
        return of[rating] / total if total else None

    @staticmethod
    def of(rows: list[tuple[str, str, int]]) -> CsatCounts:
        """From (agent, rating, count) rows; unknown ratings are left out."""
        overall = _zeros()
        agents: dict[str, dict[str, int]] = {}
        for agent, rating, count in rows:
            if rating not in overall:
                continue
            overall[rating] += count
            agents.setdefault(agent, _zeros())[rating] += count
        ranked = sorted(agents.items(), key=lambda item: (-sum(item[1].values()), item[0]))
        return CsatCounts(overall, ranked)


async def count_ratings(start: datetime, end: datetime, queues: list[str] | None) -> CsatCounts:
    """The ratings given in [start, end), of `queues` (None: all)."""
    sql = Query(dialect_of(), serial=True)
    where = f"c.rated_at >= {sql.value(start)} AND c.rated_at < {sql.value(end)}"
    if queues is not None:
        where += f" AND c.queue IN {sql.values(queues)}"
    rows = await sql.fetch(
        "SELECT c.agent AS agent, c.rating AS rating, count(*) AS n FROM csat_request c "
        f"WHERE {where} GROUP BY c.agent, c.rating"
    )
    return CsatCounts.of([(str(r["agent"]), str(r["rating"]), int(r["n"])) for r in rows])
