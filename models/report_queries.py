"""The report's SQL (models/report.py says what each number means): every number is counted
by the database, one statement per kind of number; nothing reads a row per ticket.

The per-ticket rows of the CSV export are read here too, in pages (`ticket_rows`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models.events import HistoryEvent
from models.priority import Priority
from models.sql import Query, dialect_of, utc

TOP = 5
CANDIDATES = 4 * TOP  # ranked by the database; exact ties past these are not told apart
AGENT_EVENTS = (HistoryEvent.CLAIMED, HistoryEvent.REPLIED, HistoryEvent.CLOSED)
ROWS_PAGE = 5000
GROUPING_MEMORY_MB = 96  # the top customers' and subjects' hash tables (see _ranked)


@dataclass(frozen=True)
class Percentiles:
    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Counted:
    created: list[int]  # per day
    closed: list[int]
    reopened: list[int]
    backlog: int
    first_response: Percentiles
    resolution: Percentiles
    breaches: int | None
    agents: dict[str, tuple[int, int, int]]  # claims, replies, closes
    minutes: dict[str, int]
    customers: list[tuple[str, int]]
    subjects: list[tuple[str, int]]
    by_priority: dict[str, int] = field(default_factory=dict)  # created, per priority


class _Scope:
    """The period and queue conditions, written afresh into each statement (SQLite's
    placeholders are positional, so each use adds its parameters again)."""

    def __init__(self, start: datetime, end: datetime, queues: list[str] | None) -> None:
        self.start, self.end, self.queues = start, end, queues

    def tickets(self, sql: Query, t: str = "t") -> str:
        return "" if self.queues is None else f" AND {t}.queue IN {sql.values(self.queues)}"

    def of_ticket(self, sql: Query, column: str) -> str:
        if self.queues is None:
            return ""
        return f" AND {column} IN (SELECT id FROM ticket WHERE queue IN {sql.values(self.queues)})"

    def within(self, sql: Query, column: str) -> str:
        return f"{column} >= {sql.value(self.start)} AND {column} < {sql.value(self.end)}"


def _query() -> Query:
    """A report statement: they run side by side (count_report), so each without parallel
    workers on PostgreSQL (they would only take the cores the others use)."""
    return Query(dialect_of(), serial=True)


def _from_closed(sql: Query) -> str:
    """A reopening that counts: of a closed ticket (older rows name no state)."""
    if sql.dialect == "postgres":
        return (
            "jsonb_typeof(h.detail) = 'object' AND coalesce(h.detail->>'from', 'closed') = 'closed'"
        )
    return (
        "json_type(h.detail) = 'object' "
        "AND coalesce(json_extract(h.detail, '$.from'), 'closed') = 'closed'"
    )


def _days(sql: Query, bounds: list[tuple[datetime, datetime]]) -> str:
    rows = ", ".join(
        f"({i}, {sql.timestamp(start)}, {sql.timestamp(end)})"
        for i, (start, end) in enumerate(bounds)
    )
    return f"days(i, lo, hi) AS (VALUES {rows})"


async def count_report(
    start: datetime,
    end: datetime,
    bounds: list[tuple[datetime, datetime]],
    *,
    queues: list[str] | None,
    backlog_now: bool,
    breach_minutes: int | None,
    now: datetime,
) -> Counted:
    scope = _Scope(start, end, queues)
    # The statements are independent: run at once, on as many pooled connections (on
    # PostgreSQL each uses a core; SQLite's one connection takes them in turn).
    (
        daily,
        (agents, minutes),
        (customers, subjects),
        backlog,
        durations,
        created_numbers,
    ) = await asyncio.gather(
        _daily(scope, bounds),
        _agents(scope),
        _top(scope),
        _backlog(scope, backlog_now),
        _resolution(scope),
        _of_created(scope, breach_minutes, now),
    )
    created, closed, reopened = daily
    resolution = durations
    first_response, breaches, by_priority = created_numbers
    return Counted(
        created=created,
        closed=closed,
        reopened=reopened,
        backlog=backlog,
        first_response=first_response,
        resolution=resolution,
        breaches=breaches,
        agents=agents,
        minutes=minutes,
        customers=customers,
        subjects=subjects,
        by_priority=by_priority,
    )


async def _of_created(
    scope: _Scope, breach_minutes: int | None, now: datetime
) -> tuple[Percentiles, int | None, dict[str, int]]:
    """First responses, breaches and priorities of the tickets created in the period: on
    PostgreSQL one scan of the covering index (migration 0013), on SQLite three statements."""
    if dialect_of() == "sqlite":
        return await asyncio.gather(
            _first_response(scope), _breaches(scope, breach_minutes, now), _by_priority(scope)
        )
    sql = _query()
    breach = (
        "false"
        if breach_minutes is None
        else _breach(
            sql,
            f"t.first_response_at - t.created_at > interval '{breach_minutes * 60} seconds'",
            breach_minutes,
            now,
        )
    )
    per_priority = ", ".join(
        f"count(*) FILTER (WHERE p = '{priority.value}') AS p_{priority.value}"
        for priority in Priority
    )
    [row] = await sql.fetch(
        f"SELECT {_pg_percentiles()}, count(*) FILTER (WHERE breach) AS breaches, "
        f"{per_priority} FROM (SELECT {sql.duration('t.first_response_at', 't.created_at')} "
        f"AS v, {breach} AS breach, t.priority AS p FROM ticket t "
        f"WHERE {scope.within(sql, 't.created_at')}{scope.tickets(sql)}) x"
    )
    count = int(row["n"] or 0)
    first = (
        Percentiles(count, float(row["p50"]), float(row["p90"]))
        if count
        else Percentiles(0, None, None)
    )
    by_priority = {p.value: int(row[f"p_{p.value}"]) for p in Priority if row[f"p_{p.value}"]}
    return first, None if breach_minutes is None else int(row["breaches"]), by_priority


def _breach(sql: Query, late: str, minutes: int, now: datetime) -> str:
    """A ticket answered later than `minutes` after creation (`late`: that condition), or
    unanswered that long before `now`."""
    return (
        f"((t.first_response_at IS NOT NULL AND {late}) OR "
        "(t.first_response_at IS NULL AND "
        f"t.created_at < {sql.value(now - timedelta(minutes=minutes))}))"
    )


async def _by_priority(scope: _Scope) -> dict[str, int]:
    """Tickets created in the period per priority (the ones without any are absent)."""
    sql = Query(dialect_of())
    rows = await sql.fetch(
        "SELECT t.priority AS p, count(*) AS n FROM ticket t "
        f"WHERE {scope.within(sql, 't.created_at')}{scope.tickets(sql)} GROUP BY t.priority"
    )
    return {str(row["p"]): int(row["n"]) for row in rows}


async def _daily(
    scope: _Scope, bounds: list[tuple[datetime, datetime]]
) -> tuple[list[int], list[int], list[int]]:
    """Tickets created, closes and reopenings of closed tickets per day (range joins over
    the created_at and (event, created_at) indexes; on PostgreSQL one range scan per kind,
    each row put in its day by width_bucket)."""
    if not bounds:
        return [], [], []
    sql = _query()
    if sql.dialect == "postgres" and _contiguous(bounds):
        # One range scan of the covering index (migration 0013), as for the changes below.
        starts = sql.value([utc(start) for start, _ in bounds])
        made = await sql.fetch(
            f"SELECT width_bucket(t.created_at, {starts}::timestamptz[]) - 1 AS i, "
            f"count(*) AS n FROM ticket t WHERE t.created_at >= {sql.value(bounds[0][0])} "
            f"AND t.created_at < {sql.value(bounds[-1][1])}{scope.tickets(sql)} GROUP BY 1"
        )
    else:
        made = await sql.fetch(
            f"WITH {_days(sql, bounds)} SELECT d.i, count(t.id) AS n FROM days d "
            "LEFT JOIN ticket t ON t.created_at >= d.lo AND t.created_at < d.hi"
            f"{scope.tickets(sql)} GROUP BY d.i"
        )
    sql = _query()
    closed, reopened = HistoryEvent.CLOSED.value, HistoryEvent.REOPENED.value
    if sql.dialect == "postgres" and _contiguous(bounds):
        # One range scan per kind, each row put in its day by width_bucket (a join with the
        # days scans the index once per day: 365 times for a year). The closes are read from
        # the covering index alone; only reopenings need their row (what they reopened).
        starts = sql.value([utc(start) for start, _ in bounds])
        lo, hi = sql.value(bounds[0][0]), sql.value(bounds[-1][1])
        of_ticket = scope.of_ticket(sql, "h.ticket_id")

        def per_day(event: str, closes: int, extra: str = "") -> str:
            return (
                f"SELECT width_bucket(h.created_at, {starts}::timestamptz[]) - 1 AS i, "
                f"{closes} AS c, {1 - closes} AS r FROM ticket_history h "
                f"WHERE h.event = '{event}' AND h.created_at >= {lo} AND h.created_at < {hi}"
                f"{extra}{of_ticket}"
            )

        changes = await sql.fetch(
            "SELECT i, sum(c) AS closed, sum(r) AS reopened FROM ("
            f"{per_day(closed, 1)} UNION ALL {per_day(reopened, 0, f' AND {_from_closed(sql)}')}"
            ") x GROUP BY i"
        )
    else:
        counts = (
            f"sum(CASE WHEN h.event = '{closed}' THEN 1 ELSE 0 END) AS closed, "
            f"sum(CASE WHEN h.event = '{reopened}' AND {_from_closed(sql)} THEN 1 ELSE 0 END) "
            "AS reopened"
        )
        changes = await sql.fetch(
            f"WITH {_days(sql, bounds)} SELECT d.i, {counts} FROM days d "
            "JOIN ticket_history h ON h.created_at >= d.lo AND h.created_at < d.hi "
            f"AND h.event IN ('{closed}', '{reopened}'){scope.of_ticket(sql, 'h.ticket_id')} "
            "GROUP BY d.i"
        )
    count = len(bounds)
    created_by_day, closed_by_day, reopened_by_day = [0] * count, [0] * count, [0] * count
    for row in made:
        created_by_day[int(row["i"])] = int(row["n"])
    for row in changes:
        closed_by_day[int(row["i"])] = int(row["closed"] or 0)
        reopened_by_day[int(row["i"])] = int(row["reopened"] or 0)
    return created_by_day, closed_by_day, reopened_by_day


def _contiguous(bounds: list[tuple[datetime, datetime]]) -> bool:
    return all(end == start for (_, end), (start, _) in itertools.pairwise(bounds))


def _pg_percentiles() -> str:
    """n, p50, p90 of the durations `v`: ordered as intervals (exact microseconds, as the
    seconds would order), only the two chosen turned into seconds. Making every value a
    float8 went through numeric (EXTRACT gives numeric since PostgreSQL 14): most of the
    statement's CPU at 330,000 tickets."""
    return "count(v) AS n, " + ", ".join(
        f"EXTRACT(EPOCH FROM percentile_disc({q}) WITHIN GROUP (ORDER BY v))::float8 AS p{p}"
        for q, p in (("0.5", "50"), ("0.9", "90"))
    )


async def _percentiles(sql: Query, values: str) -> Percentiles:
    """Count, median and p90 (nearest rank: the value at rank ceil(q·n), at least 1, the
    definition of models.report.percentile) of the column `v` of the subquery `values`
    (durations: `Query.duration`)."""
    if sql.dialect == "postgres":
        text = f"SELECT {_pg_percentiles()} FROM ({values}) x"
    else:

        def rank(q: str) -> str:  # ceil(q * n) in floating point, as Python and PostgreSQL
            return f"max(1, CAST({q} * n AS INTEGER) + ({q} * n > CAST({q} * n AS INTEGER)))"

        text = (
            "SELECT max(n) AS n, max(CASE WHEN rn = r50 THEN v END) AS p50, "
            "max(CASE WHEN rn = r90 THEN v END) AS p90 FROM ("
            f"SELECT v, rn, n, {rank('0.5')} AS r50, {rank('0.9')} AS r90 FROM ("
            "SELECT v, row_number() OVER (ORDER BY v) AS rn, count(*) OVER () AS n "
            f"FROM ({values}) x WHERE v IS NOT NULL) y) z"
        )
    [row] = await sql.fetch(text)
    count = int(row["n"] or 0)
    if not count:
        return Percentiles(0, None, None)
    return Percentiles(count, float(row["p50"]), float(row["p90"]))


async def _first_response(scope: _Scope) -> Percentiles:
    sql = _query()
    return await _percentiles(
        sql,
        f"SELECT {sql.duration('t.first_response_at', 't.created_at')} AS v FROM ticket t "
        f"WHERE {scope.within(sql, 't.created_at')}{scope.tickets(sql)} "
        "AND t.first_response_at IS NOT NULL",
    )


async def _resolution(scope: _Scope) -> Percentiles:
    """Creation → the ticket's last close in the period, for tickets closed in it. A ticket
    whose latest close (`last_closed_at`, kept by the close) falls in the period: that one.
    Only a ticket closed again after the period's end needs its history for its last close
    in the period (none for a period up to now)."""
    sql = _query()
    closed = HistoryEvent.CLOSED.value
    return await _percentiles(
        sql,
        f"SELECT {sql.duration('t.last_closed_at', 't.created_at')} AS v FROM ticket t "
        f"WHERE {scope.within(sql, 't.last_closed_at')}{scope.tickets(sql)} "
        f"UNION ALL SELECT {sql.duration('c.closed_at', 'c.created_at')} AS v FROM ("
        "SELECT t.created_at, (SELECT max(h.created_at) FROM ticket_history h "
        f"WHERE h.ticket_id = t.id AND h.event = '{closed}' "
        f"AND {scope.within(sql, 'h.created_at')}) AS closed_at FROM ticket t "
        f"WHERE t.last_closed_at >= {sql.value(scope.end)} "
        f"AND t.created_at < {sql.value(scope.end)}{scope.tickets(sql)}"
        ") c WHERE c.closed_at IS NOT NULL",
    )


async def _breaches(scope: _Scope, minutes: int | None, now: datetime) -> int | None:
    if minutes is None:
        return None
    sql = _query()
    late = f"{sql.seconds('t.first_response_at', 't.created_at')} > {minutes * 60}"
    [row] = await sql.fetch(
        "SELECT count(*) AS n FROM ticket t WHERE "
        f"{scope.within(sql, 't.created_at')}{scope.tickets(sql)} AND "
        f"{_breach(sql, late, minutes, now)}"
    )
    return int(row["n"])


async def _backlog(scope: _Scope, now: bool) -> int:
    """Tickets not closed at the end: now, the ones whose state is not closed; at an earlier
    end, those created before it whose last close or reopening before it was no close."""
    sql = _query()
    closed, reopened = HistoryEvent.CLOSED.value, HistoryEvent.REOPENED.value
    if now:
        [row] = await sql.fetch(
            f"SELECT count(*) AS n FROM ticket t WHERE t.state <> 'closed'{scope.tickets(sql)}"
        )
        return int(row["n"])
    end = scope.end
    [row] = await sql.fetch(
        f"SELECT (SELECT count(*) FROM ticket t WHERE t.created_at < {sql.value(end)}"
        f"{scope.tickets(sql)}) - (SELECT count(*) FROM ("
        "SELECT h.event, row_number() OVER (PARTITION BY h.ticket_id "
        "ORDER BY h.created_at DESC, h.id DESC) AS rn FROM ticket_history h "
        f"WHERE h.event IN ('{closed}', '{reopened}') AND h.created_at < {sql.value(end)}"
        f"{scope.of_ticket(sql, 'h.ticket_id')}) x "
        f"WHERE x.rn = 1 AND x.event = '{closed}') AS n"
    )
    return int(row["n"])


def _agent_ids(column: str) -> str:
    """Slack user ids (U…, W…): not "system", not a customer's address (case matters)."""
    return f"substr({column}, 1, 1) IN ('U', 'W')"


async def _agents(scope: _Scope) -> tuple[dict[str, tuple[int, int, int]], dict[str, int]]:
    """Claims, replies and closes per agent, and the minutes they booked. On PostgreSQL,
    for all queues, the whole UTC days of the period come from the daily rollup (migration
    0013) and only the partial days at its edges from the raw rows."""
    whole = _whole_utc_days(scope.start, scope.end)
    if dialect_of() == "postgres" and scope.queues is None and whole is not None:
        sql = _query()
        rows = await sql.fetch(_agents_rolled_up(sql, scope, *whole))
    else:  # the history and the articles side by side (on PostgreSQL, on two cores)
        history, articles = _query(), _query()
        period = [(scope.start, scope.end)]
        found = await asyncio.gather(
            history.fetch(_per_actor(_agent_rows(history, scope, period, articles=False))),
            articles.fetch(_per_actor(_agent_rows(articles, scope, period, history=False))),
        )
        rows = [row for part in found for row in part]
    counts: dict[str, tuple[int, int, int]] = {}
    minutes: dict[str, int] = {}
    for row in rows:
        user = str(row["actor"])
        claims, replies, closes = (int(row[k] or 0) for k in ("claims", "replies", "closes"))
        if claims or replies or closes:
            counts[user] = (claims, replies, closes)
        if int(row["minutes"] or 0) > 0:
            minutes[user] = int(row["minutes"])
    return counts, minutes


def _whole_utc_days(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The first and last UTC midnight within [start, end], if a whole UTC day lies
    between them (the part a daily rollup can answer)."""
    first = utc(start)
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight < first:
        midnight += timedelta(days=1)
    last = utc(end).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight, last) if last > midnight else None


def _agent_rows(
    sql: Query,
    scope: _Scope,
    ranges: list[tuple[datetime, datetime]],
    *,
    history: bool = True,
    articles: bool = True,
) -> list[str]:
    """SELECTs of (actor, claims, replies, closes, minutes) rows: one per counted history
    row and/or article with booked minutes in `ranges` (half-open; empty ones left out)."""
    kinds = ", ".join(f"'{event.value}'" for event in AGENT_EVENTS)
    claimed, replied, closed = (event.value for event in AGENT_EVENTS)
    parts = []
    for lo, hi in ranges:
        if lo >= hi:
            continue
        if history:
            parts.append(
                f"SELECT h.actor, CASE WHEN h.event = '{claimed}' THEN 1 ELSE 0 END AS claims, "
                f"CASE WHEN h.event = '{replied}' THEN 1 ELSE 0 END AS replies, "
                f"CASE WHEN h.event = '{closed}' THEN 1 ELSE 0 END AS closes, 0 AS minutes "
                f"FROM ticket_history h WHERE h.event IN ({kinds}) "
                f"AND h.created_at >= {sql.value(lo)} AND h.created_at < {sql.value(hi)} "
                f"AND {_agent_ids('h.actor')}{scope.of_ticket(sql, 'h.ticket_id')}"
            )
        if articles:
            parts.append(
                "SELECT a.author AS actor, 0 AS claims, 0 AS replies, 0 AS closes, "
                "a.minutes_spent AS minutes FROM article a "
                f"WHERE a.created_at >= {sql.value(lo)} AND a.created_at < {sql.value(hi)} "
                f"AND a.minutes_spent > 0 AND {_agent_ids('a.author')}"
                f"{scope.of_ticket(sql, 'a.ticket_id')}"
            )
    return parts


def _per_actor(parts: list[str]) -> str:
    return (
        "SELECT actor, sum(claims) AS claims, sum(replies) AS replies, sum(closes) AS closes, "
        f"sum(minutes) AS minutes FROM ({' UNION ALL '.join(parts)}) x GROUP BY actor"
    )


def _agents_rolled_up(sql: Query, scope: _Scope, first: datetime, last: datetime) -> str:
    """The replies, closes and minutes of the UTC days first..last (exclusive) from
    `report_agent_day`, their claims raw (not in the rollup: migration 0013), the partial
    days at the edges raw."""
    rolled = (
        "SELECT d.actor, 0 AS claims, d.replies, d.closes, d.minutes FROM report_agent_day d "
        f"WHERE d.day >= {sql.value(first.date())} AND d.day < {sql.value(last.date())}"
    )
    claims = (
        "SELECT h.actor, 1 AS claims, 0 AS replies, 0 AS closes, 0 AS minutes "
        f"FROM ticket_history h WHERE h.event = '{HistoryEvent.CLAIMED.value}' "
        f"AND h.created_at >= {sql.value(first)} AND h.created_at < {sql.value(last)} "
        f"AND {_agent_ids('h.actor')}"
    )
    edges = _agent_rows(sql, scope, [(scope.start, first), (last, scope.end)])
    return _per_actor([rolled, claims, *edges])


async def _ranked(scope: _Scope, key: str, shown: str, having: str) -> list[tuple[str, str, int]]:
    """The TOP values of `key` over tickets created in the period by count, ties in the
    order their first ticket (created_at, id) came; with `shown` of that first ticket."""
    # A year's customers are ~330,000 groups at 1,000,000 tickets: ~60 MB of hash table,
    # which spills to disk in 9 batches at the default work_mem (4 MB).
    sql = Query(dialect_of(), serial=True, work_mem_mb=GROUPING_MEMORY_MB)
    groups = await sql.fetch(
        f"SELECT {key} AS k, count(*) AS n, min(t.created_at) AS first FROM ticket t "
        f"WHERE {scope.within(sql, 't.created_at')}{scope.tickets(sql)} "
        f"GROUP BY {key} HAVING {having} ORDER BY n DESC, first LIMIT {CANDIDATES}"
    )
    if not groups:
        return []
    sql = _query()
    firsts = await sql.fetch(
        "SELECT k, shown, created_at, id FROM ("
        f"SELECT {key} AS k, {shown} AS shown, t.created_at, t.id, row_number() OVER ("
        f"PARTITION BY {key} ORDER BY t.created_at, t.id) AS rn FROM ticket t "
        f"WHERE {scope.within(sql, 't.created_at')}{scope.tickets(sql)} "
        f"AND {key} IN {sql.values([row['k'] for row in groups])}) x WHERE rn = 1"
    )
    first = {row["k"]: (sql.datetime(row["created_at"]), int(row["id"]), row) for row in firsts}
    ordered = sorted(groups, key=lambda g: (-int(g["n"]), first[g["k"]][:2]))
    return [(str(g["k"]), str(first[g["k"]][2]["shown"] or ""), int(g["n"])) for g in ordered[:TOP]]


async def _top(scope: _Scope) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The top customers and subjects, side by side (the customers' grouping is the
    report's longest statement: the subjects' should not wait for it)."""
    by_customer, by_subject = await asyncio.gather(
        _ranked(scope, "lower(t.customer_email)", "t.customer_name", "count(*) > 0"),
        _ranked(scope, "t.subject_key", "t.subject", "count(*) > 1 AND t.subject_key <> ''"),
    )
    customers = [(f"{name} <{email}>" if name else email, n) for email, name, n in by_customer]
    subjects = [(" ".join(subject.split()), n) for _, subject, n in by_subject]
    return customers, subjects


# -- per-ticket rows (CSV) ------------------------------------------------------------------


@dataclass(frozen=True)
class TicketRow:
    number: str
    queue: str
    state: str
    customer: str
    created: datetime
    first_response: datetime | None
    closed: datetime | None
    owner: str
    minutes: int


async def ticket_rows(
    start: datetime, end: datetime, queues: list[str] | None
) -> AsyncIterator[list[TicketRow]]:
    """Tickets created in [start, end), oldest first, in pages, with the minutes booked on
    each (a per-ticket export cannot be anything but a row per ticket)."""
    scope = _Scope(start, end, queues)
    after: tuple[datetime, int] | None = None
    while True:
        sql = _query()
        keyset = (
            ""
            if after is None
            else f" AND (t.created_at, t.id) > ({sql.value(after[0])}, {sql.value(after[1])})"
        )
        rows = await sql.fetch(
            "SELECT t.id, t.number, t.queue, t.state, t.customer_email, t.created_at, "
            "t.first_response_at, t.closed_at, t.owner_id, (SELECT coalesce(sum("
            "a.minutes_spent), 0) FROM article a WHERE a.ticket_id = t.id) AS minutes "
            f"FROM ticket t WHERE {scope.within(sql, 't.created_at')}{scope.tickets(sql)}"
            f"{keyset} ORDER BY t.created_at, t.id LIMIT {ROWS_PAGE}"
        )
        if not rows:
            return
        yield [_row(sql, row) for row in rows]
        after = (sql.datetime(rows[-1]["created_at"]), int(rows[-1]["id"]))
        if len(rows) < ROWS_PAGE:
            return


def _row(sql: Query, row: dict[str, Any]) -> TicketRow:
    def moment(value: Any) -> datetime | None:
        return None if value is None else sql.datetime(value)

    created = moment(row["created_at"])
    assert created is not None
    return TicketRow(
        number=str(row["number"]),
        queue=str(row["queue"]),
        state=str(row["state"]),
        customer=str(row["customer_email"]),
        created=created,
        first_response=moment(row["first_response_at"]),
        closed=moment(row["closed_at"]),
        owner=str(row["owner_id"] or ""),
        minutes=int(row["minutes"] or 0),
    )
