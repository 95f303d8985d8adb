"""models.store.db at its boundary: a database that cannot be reached is one
`DatabaseUnavailable` naming it without its password; other errors pass unchanged."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from models.errors import DatabaseUnavailable
from models.store import db
from tests.support.database import PG_DSN, admin_sql, drop_pg_database, pg_url
from tests.support.dovecot import free_port


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("postgres://bot:s3cret@db:5432/tickets", "postgres://bot:***@db:5432/tickets"),
        ("postgres://bot:p@ss@db/tickets?maxsize=5", "postgres://bot:***@db/tickets?maxsize=5"),
        ("postgres://bot@db/tickets", "postgres://bot@db/tickets"),
        (
            "postgres://db/t?user=bot&password=s3cret&x=1",
            "postgres://db/t?user=bot&password=***&x=1",
        ),
        ("postgresql://bot:s3cret@[::1]:5433/t", "postgresql://bot:***@[::1]:5433/t"),
        ("sqlite://data/ticketbot.sqlite3", "sqlite://data/ticketbot.sqlite3"),
        ("not a url", "not a url"),
    ],
)
def test_safe_url_hides_the_password(url: str, safe: str) -> None:
    assert db.safe_url(url) == safe


async def test_a_database_that_refuses_connections_is_named_without_its_password() -> None:
    port = free_port()
    with pytest.raises(DatabaseUnavailable) as caught:
        await db.migrate(f"postgres://bot:s3cret@127.0.0.1:{port}/tickets")
    message = str(caught.value)
    assert "s3cret" not in message
    assert f"postgres://bot:***@127.0.0.1:{port}/tickets" in message
    assert "database.url" in message  # says what to check


@pytest.mark.postgres
async def test_a_missing_database_is_unavailable_too(pg_template: str | None) -> None:
    if pg_template is None:
        pytest.skip("PostgreSQL is not running")
    url = PG_DSN.rsplit("/", 1)[0] + "/ticketbot_no_such_database"
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        await db.migrate(url)


async def test_a_sqlite_file_that_cannot_be_created_says_where(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    url = f"sqlite://{tmp_path}/a-file/ticketbot.sqlite3"
    with pytest.raises(DatabaseUnavailable, match="cannot be opened") as caught:
        await db.migrate(url)
    assert str(tmp_path / "a-file") in str(caught.value)


def test_other_errors_are_no_unavailable_database() -> None:
    assert db.unreachable_reason(ValueError("bad statement")) is None
    assert db.unreachable_reason(ConnectionRefusedError(111, "Connection refused")) == (
        "Connection refused"
    )


@pytest.mark.postgres
async def test_a_user_who_may_not_create_tables_is_told_so(pg_template: str | None) -> None:
    if pg_template is None:
        pytest.skip("PostgreSQL is not running")
    name = f"ticketbot_t_nopriv_{uuid.uuid4().hex[:8]}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    await admin_sql(
        "DO $$ BEGIN CREATE ROLE ticketbot_test_nopriv LOGIN; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    try:
        url = re.sub(r"://[^@/]*@", "://ticketbot_test_nopriv@", pg_url(name), count=1)
        with pytest.raises(DatabaseUnavailable, match="must be allowed to create"):
            await db.migrate(url)
    finally:
        await drop_pg_database(name)
        await admin_sql("DROP ROLE IF EXISTS ticketbot_test_nopriv")
