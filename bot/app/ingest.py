"""Storing piped mail in this process: `ticketbot ingest` when no bot answers on the socket,
and the rules both paths share (`store_piped`), so a mail handed to the bot and a mail
stored directly get the same identity, the same retries and the same quarantine."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Protocol

from bot.app.pipe_client import EXIT_TEMPFAIL, PipedMail

if TYPE_CHECKING:
    from bot.app.config import Settings
    from models.intake import IntakeResult

logger = logging.getLogger("ticketbot")


class Receive(Protocol):
    """`MailIntake.receive` or `Runtime.receive` (which counts the mail for /metrics too)."""

    def __call__(
        self, raw: bytes, *, source: str, identity: str, size: int | None = None
    ) -> Awaitable[IntakeResult]: ...


async def store_piped(
    receive: Receive, raw: bytes, size: int, name: str, max_attempts: int
) -> str | None:
    """The outcome line for one piped mail, or None when it could not be stored (the MTA
    retries).

    A mail that fails every attempt is quarantined, so the MTA is never asked to retry a
    mail that can never be stored; only a database that does not answer is a reason to.
    The same bytes piped again are the same mail (`piped_identity`): one ticket.
    """
    from mail.intake import piped_identity
    from models.store import db

    identity = piped_identity(raw)
    for _ in range(max_attempts + 1):
        try:
            result = await receive(raw, source=f"ingest:{name}"[:320], identity=identity, size=size)
        except Exception:
            if not await db.ping():
                logger.exception("%s: the database does not answer", name)
                return None
            logger.exception("%s: could not be stored; trying again", name)
            continue
        number = f" {result.ticket_number}" if result.ticket_number else ""
        return f"{result.outcome}{number}"
    return None


async def ingest_directly(settings: Settings, mails: Iterable[PipedMail], status: int = 0) -> int:
    """Store each mail in this process (migrating the database first), printing one line
    each: what `ingest` did before the bot took mail over the socket, and still does when
    no bot answers. 75 when the database is down; 1 when a file could not be read."""
    from bot.app.wiring import build_policy, parse_limits
    from mail.intake import MailIntake
    from mail.parse_pool import ParsePool
    from models.store import db

    policy = build_policy(settings)
    limits = parse_limits(settings)
    try:
        await db.migrate(settings.database.url)
        await db.init(settings.database.url)
    except Exception as exc:
        print(f"ticketbot: database unavailable: {exc}", file=sys.stderr)
        return EXIT_TEMPFAIL
    try:
        async with ParsePool(limits) as pool:
            intake = MailIntake(policy, pool)
            for mail in mails:
                if mail.raw is None:  # unreadable; read_sources said so
                    status = 1
                    continue
                outcome = await store_piped(
                    intake.receive, mail.raw, mail.size, mail.name, limits.max_attempts
                )
                if outcome is None:
                    return EXIT_TEMPFAIL
                print(f"{mail.name}: {outcome}", flush=True)
    finally:
        await db.close()
    return status
