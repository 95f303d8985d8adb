"""The agents' daily rollup on PostgreSQL (migration 0013): kept by triggers so that it is
always what the raw history rows and articles say, and the report that reads it (whole UTC
days) together with the raw rows (the partial days at the edges) gives the reference
numbers in any time zone."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from models.report import build_report, parse_period
from models.report_queries import _whole_utc_days
from models.store import db
from models.store.article import Article
from models.store.ticket import History, Ticket
from models.team import merge
from models.work import note
from tests.models.test_report import (
    ALICE,
    BOB,
    NOW,
    TWO_QUEUES,
    at,
    numbers,
    random_history,
)
from tests.support.intake import ingest
from tests.support.make_mail import make_mail
from tests.support.report_reference import reference_report

ROLLUP = importlib.import_module("models.store.migrations.0013_report_rollup")
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30: no local midnight is a UTC midnight


@pytest.fixture
async def postgres(db_url_postgres: str) -> AsyncIterator[str]:
    await db.init(db_url_postgres)
    try:
        yield db_url_postgres
    finally:
        await db.close()


async def rollup_and_raw() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The rollup table's rows that count something, and the rows the raw data gives."""
    connection = db.connection()

    def rows(found: list[dict[str, object]]) -> list[tuple[object, ...]]:
        columns = ("day", "actor", "replies", "closes", "minutes")
        return sorted(tuple(row[c] for c in columns) for row in found)

    kept = await connection.execute_query_dict(
        "SELECT * FROM report_agent_day WHERE replies <> 0 OR closes <> 0 OR minutes <> 0"
    )
    raw = await connection.execute_query_dict(ROLLUP.ROWS)
    return rows(kept), rows(raw)


async def test_the_rollup_is_what_the_rows_say_after_every_kind_of_change(postgres: str) -> None:
    await random_history(seed=5, count=40)
    kept, raw = await rollup_and_raw()
    assert kept == raw
    assert {row[1] for row in kept} >= {ALICE.user_id, BOB.user_id}
    assert sum(int(row[4]) for row in kept) > 0  # minutes were booked
    # A merge moves articles (with their minutes) to another ticket: nothing to recount.
    tickets = [t for t in await Ticket.all().order_by("id") if t.merged_into_id is None][:2]
    await note(tickets[0].id, ALICE, "called", minutes=7, clock=lambda: NOW)
    await merge(tickets[0].id, tickets[1].id, ALICE, TWO_QUEUES, clock=lambda: NOW)
    # Rows changed or deleted behind the application's back still leave it exact.
    some = await History.filter(event="replied").order_by("id").first()
    assert some is not None
    await History.filter(id=some.id).update(event="closed", created_at=at("2026-09-01 12:00"))
    booked = await Article.filter(minutes_spent__gt=0).order_by("id").first()
    assert booked is not None
    await Article.filter(id=booked.id).update(minutes_spent=booked.minutes_spent + 100)
    await Ticket.filter(id=tickets[1].id).delete()  # its history and articles cascade
    kept_after, raw_after = await rollup_and_raw()
    assert kept_after == raw_after
    assert kept_after != kept


async def test_the_migration_fills_the_rollup_from_existing_rows(postgres: str) -> None:
    """What 0013 does to a database that had rows before it: the fill gives the rows the
    triggers would have kept."""
    await random_history(seed=6, count=24)
    connection = db.connection()
    before, _ = await rollup_and_raw()
    await connection.execute_script(f"TRUNCATE report_agent_day; {ROLLUP.FILL}")
    after, raw = await rollup_and_raw()
    assert after == raw == before
    assert after


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("2026-10-02..2026-10-09", KOLKATA),  # every UTC midnight inside, both edges partial
        ("2026-10-04..2026-10-04", KOLKATA),  # one local day: one UTC midnight, no whole day
        ("2026-10-03..2026-10-05", ZoneInfo("America/New_York")),
        ("2026-10-01..2026-10-11", UTC),  # whole UTC days only: no raw edge
        ("month", ZoneInfo("Pacific/Kiritimati")),  # +14:00, to now
    ],
)
async def test_the_agents_from_rollup_and_edges_are_the_reference(
    postgres: str, text: str, zone: ZoneInfo
) -> None:
    await random_history(seed=len(text) + len(str(zone)), count=48)
    now = datetime(2026, 10, 12, 15, 30, tzinfo=zone) if text == "month" else NOW.astimezone(zone)
    period = parse_period(text, now)
    expected = await reference_report(period, hook="Ticket#")
    got = await build_report(period)
    assert numbers(got) == numbers(expected)
    assert sum(a.claims + a.replies + a.closes for a in got.agents) > 0


@pytest.mark.parametrize(
    ("start", "end", "whole"),
    [
        ("2026-10-01 00:00", "2026-10-03 00:00", ("2026-10-01 00:00", "2026-10-03 00:00")),
        ("2026-10-01 00:00:00.000001", "2026-10-03 23:59", ("2026-10-02", "2026-10-03")),
        ("2026-10-01 18:30", "2026-10-02 18:30", None),  # one UTC midnight, no whole day
        ("2026-10-01 05:00", "2026-10-01 09:00", None),
    ],
)
def test_the_whole_utc_days_of_a_period(
    start: str, end: str, whole: tuple[str, str] | None
) -> None:
    found = _whole_utc_days(at(start), at(end))
    assert found == (None if whole is None else (at(whole[0]), at(whole[1])))


def test_whole_utc_days_of_local_times_are_utc_midnights() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    found = _whole_utc_days(
        datetime(2026, 10, 3, tzinfo=berlin), datetime(2026, 10, 6, tzinfo=berlin)
    )
    assert found is not None
    assert [moment.tzinfo for moment in found] == [UTC, UTC]
    assert [moment.date() for moment in found] == [date(2026, 10, 3), date(2026, 10, 5)]


async def test_a_statement_locks_its_agents_rows_in_order(postgres: str) -> None:
    """A statement with rows of several agents in any order changes the rollup rows in
    (day, actor) order: while one transaction holds U0A's row, a statement for U0B then
    U0A waits for U0A's row before taking U0B's, so a third one for U0B alone goes through
    (in the order of its rows, it would hold U0B while waiting, and two such statements in
    opposite orders would deadlock)."""
    ticket_id = await new_ticket_row()
    connections = [await asyncpg.connect(postgres) for _ in range(3)]
    holder, batch, other = connections
    insert = (
        "INSERT INTO ticket_history (ticket_id, event, actor, detail, created_at) "
        "SELECT $1, 'closed', actor, '{}', $2 FROM unnest($3::text[]) AS actor"
    )
    when = at("2026-10-05 10:00")
    try:
        await holder.execute("BEGIN")
        await holder.execute(insert, ticket_id, when, ["U0A"])
        waiting = asyncio.create_task(batch.execute(insert, ticket_id, when, ["U0B", "U0A"]))
        await wait_until_waiting(other, batch)
        await asyncio.wait_for(other.execute(insert, ticket_id, when, ["U0B"]), timeout=30)
        assert not waiting.done()
        await holder.execute("COMMIT")
        await asyncio.wait_for(waiting, timeout=30)
    finally:
        for connection in connections:
            await connection.close()
    kept, raw = await rollup_and_raw()
    assert kept == raw
    assert [(row[1], row[3]) for row in kept] == [("U0A", 2), ("U0B", 2)]  # closes


async def new_ticket_row() -> int:
    mail = make_mail(message_id="<rollup-lock@x.example>")
    result = await ingest(mail, TWO_QUEUES, clock=lambda: at("2026-10-05 09:00"))
    assert result.ticket_id is not None
    return result.ticket_id


async def wait_until_waiting(probe: asyncpg.Connection, waiter: asyncpg.Connection) -> None:
    """Until `waiter`'s statement waits for a lock (pg_stat_activity says so)."""
    pid = waiter.get_server_pid()
    async with asyncio.timeout(30):
        while not await probe.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
        ):
            await asyncio.sleep(0.01)  # polling a condition, not waiting for time
