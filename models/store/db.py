"""Database wiring: Tortoise config from a URL, start-up, schema migrations."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate

from models.store.ticket import Ticket

logger = logging.getLogger(__name__)

APP_LABEL = "ticketbot"
MODEL_MODULES = [
    "models.store.ticket",
    "models.store.article",
    "models.store.mailbox",
    "models.outbox.items",
    "models.quarantine",
]
MIGRATIONS_MODULE = "models.store.migrations"
POOL_SIZE = 20  # per process; override with ?maxsize=N in the URL


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


async def migrate(url: str) -> None:
    """Create or upgrade the schema with Tortoise's own migrations (idempotent)."""
    try:
        await tortoise_migrate(config=tortoise_config(url))
    finally:
        await Tortoise.close_connections()


async def init(url: str, *, global_fallback: bool = True) -> None:
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=global_fallback)


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


async def ping() -> bool:
    """True when the database answers a trivial query (for /healthz and `check`)."""
    try:
        await connection().execute_query("SELECT 1")
    except Exception:
        logger.warning("database ping failed", exc_info=True)
        return False
    return True


# For Tortoise's own CLI: `python -m tortoise -c models.store.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
