"""Schema upgrades with Tortoise's own migrations keep existing data, on both databases."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.migrations.autodetector import MigrationAutodetector

from models.outbox.items import OutboxItem, OutboxStatus, Outcome
from models.priority import Priority
from models.search import SearchScope, parse_search, search_tickets
from models.store import db
from models.store.ticket import Ticket
from tests.support.database import admin_sql, drop_pg_database, pg_url


async def upgrade_keeps_data(url: str) -> None:
    await tortoise_migrate(config=db.tortoise_config(url), target="ticketbot.0001_initial")
    await db.close()
    await db.init(url)
    connection = db.connection()
    now = datetime(2026, 11, 25, tzinfo=UTC).isoformat()
    placeholder = "$1" if url.startswith("postgres") else "?"
    await connection.execute_query(
        "INSERT INTO ticket (number, queue, subject, customer_email, customer_name, state, "
        "last_activity_at, slack_channel, created_at, updated_at) VALUES "
        f"('2026112510000017', 'Support', 'old', 'a@b.c', '', 'new', {placeholder}, 'C1', "
        f"{placeholder}, {placeholder})",
        [now, now, now] if placeholder == "?" else [datetime(2026, 11, 25, tzinfo=UTC)],
    )
    for hour in (9, 13):  # closed, reopened, closed again: 0007 keeps the later close
        closed = datetime(2026, 11, 25, hour, tzinfo=UTC)
        await connection.execute_query(
            "INSERT INTO ticket_history (ticket_id, event, actor, detail, created_at) SELECT "
            f"id, 'closed', 'U1', '{{}}', {placeholder} FROM ticket "
            "WHERE number = '2026112510000017'",
            [closed.isoformat(" ") if placeholder == "?" else closed],
        )
    for status, attempts, error in [
        ("pending", 0, ""),
        ("pending", 2, "slack rate limited (ratelimited)"),
        ("done", 1, ""),
        ("dead", 15, "slack server error 500"),
    ]:
        await connection.execute_query(
            "INSERT INTO outbox (kind, stream, payload, status, attempts, next_attempt_at, "
            "lease_owner, last_error, created_at) VALUES "
            f"('slack.card.post', 'slack:1', '{{}}', '{status}', {attempts}, {placeholder}, '', "
            f"'{error}', {placeholder})",
            [now, now] if placeholder == "?" else [datetime(2026, 11, 25, tzinfo=UTC)],
        )
    await db.close()
    await db.migrate(url)
    await db.migrate(url)  # idempotent
    await db.init(url)
    try:
        ticket = await Ticket.get(number="2026112510000017")
        assert ticket.subject == "old"
        assert ticket.subject_key == "old"  # 0005: for the report's subjects
        assert ticket.last_closed_at == datetime(2026, 11, 25, 13, tzinfo=UTC)  # 0007
        found = await search_tickets(parse_search("OLD"), SearchScope(("C1",), UTC), hook="T#")
        assert [hit.number for hit in found.hits] == [ticket.number]  # 0005 built the index
        assert ticket.link_reason == ""
        assert ticket.owner_active_at is None
        assert ticket.priority == Priority.NORMAL  # 0008: every existing ticket
        assert ticket.merged_into_id is None
        # 0011: tickets of before have no service levels (nothing was promised for them)
        assert ticket.sla_first_due_at is None and ticket.sla_resolution_due_at is None
        assert ticket.sla_first_met is None and ticket.sla_pauses is None
        if placeholder == "$1":  # 0013: the agents' daily rollup, filled from the two closes
            rolled = await db.connection().execute_query_dict(
                "SELECT day, actor, replies, closes, minutes FROM report_agent_day"
            )
            assert [tuple(row.values()) for row in rolled] == [
                (datetime(2026, 11, 25).date(), "U1", 0, 2, 0)
            ]
        # Every existing row gets the default: a pending row says it has no recorded
        # outcome (one attempted already counts as maybe delivered); done and dead rows
        # are never attempted again, and their status says how they ended.
        rows = await OutboxItem.all().order_by("id")
        assert [(row.status, row.outcome) for row in rows] == [
            (OutboxStatus.PENDING, Outcome.PENDING),
            (OutboxStatus.PENDING, Outcome.PENDING),
            (OutboxStatus.DONE, Outcome.PENDING),
            (OutboxStatus.DEAD, Outcome.PENDING),
        ]
        assert rows[1].last_error == "slack rate limited (ratelimited)"
    finally:
        await db.close()


async def test_upgrade_from_the_first_schema_on_sqlite(tmp_path: Path) -> None:
    await upgrade_keeps_data(f"sqlite://{tmp_path}/old.sqlite3")


async def test_upgrade_from_the_first_schema_on_postgres(pg_template: str | None) -> None:
    if pg_template is None:
        pytest.skip("PostgreSQL is not running")
    name = "ticketbot_mig_" + datetime.now(UTC).strftime("%H%M%S%f")
    await admin_sql(f'CREATE DATABASE "{name}"')
    try:
        await upgrade_keeps_data(pg_url(name))
    finally:
        await drop_pg_database(name)


async def test_the_migrations_make_what_the_models_describe(database: str) -> None:
    """Nothing for `makemigrations` to write, and every column of every model is in the
    migrated database (this one is migrated from scratch, once SQLite, once PostgreSQL)."""
    apps = db.tortoise_config(database)["apps"]
    changes = await MigrationAutodetector(Tortoise.apps, apps).changes()
    assert not changes, (
        f"models differ from the migrations by {[w.operations for w in changes]}: run "
        "`python -m tortoise -c models.store.db.TORTOISE_ORM makemigrations`"
    )
    connection = db.connection()
    for model in Tortoise.apps[db.APP_LABEL].values():
        columns = ", ".join(f'"{column}"' for column in model._meta.fields_db_projection.values())
        await connection.execute_query(f'SELECT {columns} FROM "{model._meta.db_table}" WHERE 1=0')


async def test_a_claim_written_in_sql_gets_the_default_outcome(database: str) -> None:
    """The PostgreSQL claim statement inserts outbox rows naming their columns; the column's
    database default fills in the outcome (as for rows of an older version)."""
    connection = db.connection()
    now = datetime(2026, 11, 25, tzinfo=UTC)
    placeholder = "$1" if database.startswith("postgres") else "?"
    await connection.execute_query(
        "INSERT INTO outbox (kind, stream, payload, status, attempts, next_attempt_at, "
        f"lease_owner, last_error, created_at) VALUES ('k', 's', '{{}}', 'pending', 0, "
        f"{placeholder}, '', '', {placeholder})",
        [now.isoformat(), now.isoformat()] if placeholder == "?" else [now],
    )
    assert (await OutboxItem.get()).outcome == Outcome.PENDING


async def test_counting_the_cards_still_waiting_reads_the_partial_index(database: str) -> None:
    """The flood digest counts a channel's waiting cards before each card post: the count
    is answered from the partial index of 0010, not by reading every ticket."""
    connection = db.connection()
    query = "SELECT COUNT(*) FROM ticket WHERE slack_channel = 'C1' AND slack_ts IS NULL"
    if database.startswith("postgres"):
        await connection.execute_script("SET enable_seqscan = off")
        rows = await connection.execute_query_dict(f"EXPLAIN {query}")
        plan = " ".join(str(row["QUERY PLAN"]) for row in rows)
    else:
        rows = await connection.execute_query_dict(f"EXPLAIN QUERY PLAN {query}")
        plan = " ".join(str(row["detail"]) for row in rows)
    assert "ticket_card_waiting" in plan
