"""Database wiring: Tortoise config from a URL, start-up, schema migrations.

A database that cannot be reached or entered is the one database error translated here,
into `DatabaseUnavailable`, with the URL for people (`safe_url`: no password). Migrations
run one process at a time: several `ticketbot migrate` or `run` starting at once on an
empty database wait for each other instead of creating the same tables together.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate

from models.errors import DatabaseUnavailable
from models.store.ticket import Ticket

logger = logging.getLogger(__name__)

APP_LABEL = "ticketbot"
MODEL_MODULES = [
    "models.store.ticket",
    "models.store.article",
    "models.store.mailbox",
    "models.store.csat",
    "models.outbox.items",
    "models.quarantine",
]
MIGRATIONS_MODULE = "models.store.migrations"
POOL_SIZE = 20  # per process; override with ?maxsize=N in the URL
# The key of the PostgreSQL advisory lock `migrate` holds (any fixed bigint; "tktbot.m").
MIGRATION_LOCK_KEY = 0x746B74626F742E6D
CONNECT_SECONDS = 10.0

# Errors that mean the database cannot be reached or entered (not that a statement failed).
_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, unknown host, timeout; tortoise's DBConnectionError is one too
    asyncpg.PostgresConnectionError,
    asyncpg.InvalidAuthorizationSpecificationError,  # no such role, wrong password
    asyncpg.InvalidCatalogNameError,  # no such database
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.TooManyConnectionsError,
)
_SQLITE_UNREACHABLE = ("unable to open database file", "attempt to write a readonly database")
# The database answers but will not let this user do what ticketbot needs (create tables).
_NOT_ALLOWED: tuple[type[BaseException], ...] = (asyncpg.InsufficientPrivilegeError,)


def normalise_url(url: str) -> str:
    """Accept postgresql:// too, and make sure a SQLite file's directory exists."""
    if url.startswith("postgresql://"):
        url = "postgres://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite://") and not url.startswith("sqlite://:memory:"):
        path = Path(url.removeprefix("sqlite://").split("?", 1)[0])
        path.parent.mkdir(parents=True, exist_ok=True)
    return url


def connection_name(url: str) -> str:
    """Named by dialect: Tortoise caches SQL per connection name, so a process that
    meets both SQLite and PostgreSQL (the test suite) must not reuse one name for both."""
    return "sqlite" if url.startswith("sqlite") else "postgres"


class LeanConnection(asyncpg.Connection):  # type: ignore[misc]
    """Skips asyncpg's per-release reset query (an extra round trip on every query):
    ticketbot never leaves session state behind (no LISTEN, SET or session locks)."""

    def get_reset_query(self) -> str:
        return ""


def connection_settings(url: str) -> str | dict[str, Any]:
    url = normalise_url(url)
    if not url.startswith("postgres://"):
        return url
    settings = expand_db_url(url)
    credentials = settings["credentials"]
    credentials.setdefault("maxsize", POOL_SIZE)
    credentials["connection_class"] = LeanConnection
    return settings


def tortoise_config(url: str) -> dict[str, Any]:
    name = connection_name(url)
    return {
        "connections": {name: connection_settings(url)},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": name,
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def safe_url(url: str) -> str:
    """`url` for logs and messages: the password (in the authority or the query) is ***."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, host = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.partition(':')[0]}:***@{host}"
    tail = re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", tail)
    return f"{scheme}://{authority}{tail}"


def _cause(exc: BaseException) -> BaseException | None:
    """The innermost error in `exc`'s chain that says the database cannot be reached or
    entered (asyncpg's, under tortoise's, says it best); None when there is none."""
    seen: set[int] = set()
    found: BaseException | None = None
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNREACHABLE + _NOT_ALLOWED) or (
            isinstance(current, sqlite3.OperationalError)
            and str(current).startswith(_SQLITE_UNREACHABLE)
        ):
            found = current
        current = current.__cause__ or current.__context__
    return found


def unreachable_reason(exc: BaseException) -> str | None:
    """Why the database cannot be used, when `exc` (or what caused it) says it cannot be
    reached or entered; None for any other error (a failing statement is no such thing)."""
    found = _cause(exc)
    if found is None:
        return None
    if isinstance(found, OSError) and found.strerror and not str(found).startswith("Multiple"):
        return found.strerror
    text = " ".join(str(found).split()) or type(found).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def unavailable(exc: BaseException, url: str) -> DatabaseUnavailable | None:
    """`exc` as `DatabaseUnavailable` (naming the database), or None when it is no such error."""
    reason = unreachable_reason(exc)
    if reason is None:
        return None
    if isinstance(_cause(exc), _NOT_ALLOWED):
        return DatabaseUnavailable(
            f"database {safe_url(url)} refused ({reason}): the user in database.url must "
            "be allowed to create and change tables (its own database, or GRANT CREATE)"
        )
    if url.startswith("sqlite"):
        return DatabaseUnavailable(
            f"database {safe_url(url)} cannot be opened ({reason}): "
            "check that its directory exists and that this user may write there"
        )
    return DatabaseUnavailable(
        f"database {safe_url(url)} does not answer ({reason}): is it running, and are the "
        "host, port, user, password and database name in database.url right?"
    )


@asynccontextmanager
async def _migration_lock(url: str) -> AsyncIterator[None]:
    """One migrating process at a time: a session advisory lock on PostgreSQL (released
    when its connection closes, also when the process dies), an flock on a file beside
    a SQLite database."""
    url = normalise_url(url)
    if url.startswith("postgres://"):
        credentials = expand_db_url(url)["credentials"]
        options = ("host", "port", "user", "password", "database", "ssl")
        connection = await asyncpg.connect(
            **{key: credentials[key] for key in options if key in credentials},
            timeout=CONNECT_SECONDS,
        )
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            yield
        finally:
            await connection.close()
    elif url.startswith("sqlite://") and not url.startswith("sqlite://:memory:"):
        path = Path(url.removeprefix("sqlite://").split("?", 1)[0])
        descriptor = os.open(path.with_name(path.name + ".migrate-lock"), os.O_RDWR | os.O_CREAT)
        try:
            await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock
    else:
        yield


async def migrate(url: str) -> None:
    """Create or upgrade the schema with Tortoise's own migrations (idempotent), one process
    at a time. Raises `DatabaseUnavailable` when the database cannot be reached."""
    try:
        async with _migration_lock(url):
            await tortoise_migrate(config=tortoise_config(url))
    except Exception as exc:
        problem = unavailable(exc, url)
        if problem is None:
            raise
        raise problem from exc
    finally:
        await Tortoise.close_connections()


async def init(url: str, *, global_fallback: bool = True) -> None:
    """Connect Tortoise to `url`; `DatabaseUnavailable` when that cannot even start."""
    try:
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=global_fallback)
    except Exception as exc:
        problem = unavailable(exc, url)
        if problem is None:
            raise
        raise problem from exc


async def close() -> None:
    await Tortoise.close_connections()


@asynccontextmanager
async def database(url: str, *, run_migrations: bool = True) -> AsyncIterator[None]:
    if run_migrations:
        await migrate(url)
    await init(url)
    try:
        yield
    finally:
        await close()


def connection() -> BaseDBAsyncClient:
    return Ticket._meta.db


async def ensure_answers(url: str) -> None:
    """Run a trivial query on the initialised connection; `DatabaseUnavailable` (naming `url`)
    when the database cannot be reached."""
    try:
        await connection().execute_query("SELECT 1")
    except Exception as exc:
        problem = unavailable(exc, url)
        if problem is None:
            raise
        raise problem from exc


async def ping() -> bool:
    """True when the database answers a trivial query (for /healthz)."""
    try:
        await connection().execute_query("SELECT 1")
    except Exception as exc:
        reason = unreachable_reason(exc)
        if reason is None:
            logger.warning("database ping failed", exc_info=True)
        else:  # a probe every few seconds: one line each, not a traceback
            logger.warning("database ping failed: %s", reason)
        return False
    return True


# For Tortoise's own CLI: `python -m tortoise -c models.store.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
