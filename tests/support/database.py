"""Database fixtures: every data test runs on SQLite and on PostgreSQL.

PostgreSQL tests get a fresh database per test, cloned from a migrated template
(CREATE DATABASE … TEMPLATE is much faster than migrating each time).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from models.store import db

PG_DSN = os.environ.get("TICKETBOT_TEST_PG", "postgres://postgres@127.0.0.1:5432/test")
_TEMPLATE = f"ticketbot_tpl_{os.getpid()}"


def pg_url(name: str) -> str:
    base = PG_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def admin_sql(sql: str) -> None:
    connection = await asyncpg.connect(PG_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def pg_available() -> bool:
    try:
        connection = await asyncpg.connect(PG_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def create_pg_database() -> str:
    """A new, migrated database; the caller drops it with `drop_pg_database`."""
    name = f"ticketbot_t_{uuid.uuid4().hex[:12]}"
    await admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE}"')
    return name


async def drop_pg_database(name: str) -> None:
    await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """Migrate one template database per session; None when PostgreSQL is not running."""

    async def setup() -> bool:
        if not await pg_available():
            return False
        await admin_sql(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)')
        await admin_sql(f'CREATE DATABASE "{_TEMPLATE}"')
        await db.migrate(pg_url(_TEMPLATE))
        return True

    available = asyncio.run(setup())
    yield _TEMPLATE if available else None
    if available:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database URL: once SQLite, once PostgreSQL."""
    return str(request.getfixturevalue(f"db_url_{request.param}"))


@pytest.fixture
async def db_url_sqlite(tmp_path: Path) -> str:
    url = f"sqlite://{tmp_path}/ticketbot.sqlite3"
    await db.migrate(url)
    return url


@pytest.fixture
async def db_url_postgres(pg_template: str | None) -> AsyncIterator[str]:
    if pg_template is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not running on 127.0.0.1:5432 (CI must start it)")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = await create_pg_database()
    try:
        yield pg_url(name)
    finally:
        await drop_pg_database(name)


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[str]:
    """Tortoise initialised on `db_url` for the test; closed afterwards."""
    await db.init(db_url)
    try:
        yield db_url
    finally:
        await db.close()
