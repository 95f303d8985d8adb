"""Schema upgrades with Tortoise's own migrations keep existing data, on both databases."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tortoise.migrations.api import migrate as tortoise_migrate

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
    await db.close()
    await db.migrate(url)
    await db.migrate(url)  # idempotent
    await db.init(url)
    try:
        ticket = await Ticket.get(number="2026112510000017")
        assert ticket.subject == "old"
        assert ticket.link_reason == ""
        assert ticket.owner_active_at is None
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
