"""From raw bytes to a stored ticket: count the attempt, parse in the pool, hand to the domain.

Every source of mail (the IMAP poller, `ticketbot ingest`) goes through
`MailIntake.receive`, so the same rules hold for both: a mail over the size
limit is stored and becomes a stub ticket, parsing runs in a worker process
with a budget, and a mail whose intake failed `max_attempts` times is
quarantined instead of blocking the mail behind it (SPEC "Hostile mail").
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from mail.limits import MIB
from mail.parse_pool import ParsePool, ParseResult
from mail.redaction import redact
from mail.summary import header_summary
from models.clock import Clock, system_clock
from models.intake import IntakeResult, receive_mail
from models.log_context import bind, log_scope
from models.policy import Policy
from models.quarantine import (
    attempt_key,
    quarantine,
    record_failure,
    start_attempt,
)

__all__ = ["MailIntake", "redact"]

logger = logging.getLogger(__name__)


class MailIntake:
    """The one way into the helpdesk for a mail; shared by the poller and `ingest`."""

    def __init__(self, policy: Policy, pool: ParsePool, *, clock: Clock = system_clock) -> None:
        self._policy = policy
        self._pool = pool
        self._clock = clock

    async def receive(
        self, raw: bytes, *, source: str, identity: str, size: int | None = None
    ) -> IntakeResult:
        """Store one mail; raises only when it could not be stored (then it is retried).

        `identity` names this mail in its source for good (mailbox, UIDVALIDITY and UID;
        a digest for piped mail): attempts are counted against it. `size` is the size
        the source states when `raw` was cut short at the limit. Log lines written
        meanwhile carry its Message-ID and, once known, its ticket number.
        """
        with log_scope():
            return await self._receive(raw, source=source, identity=identity, size=size)

    async def _receive(
        self, raw: bytes, *, source: str, identity: str, size: int | None
    ) -> IntakeResult:
        key = attempt_key(source.partition(":")[0], identity)
        attempt = await start_attempt(key, self._clock)
        if attempt.quarantined_as is not None:
            return IntakeResult("quarantined", note="quarantined before")
        max_attempts = self._pool.limits.max_attempts
        if attempt.number > max_attempts:
            return await self._quarantine(key, raw, source, attempt.number - 1, attempt.last_error)
        try:
            parsed = await self.read(raw, size)
            bind(message_id=parsed.mail.message_id)
            result = await receive_mail(
                parsed.mail,
                raw,
                self._policy,
                display_text=parsed.display_text,
                source=source,
                clock=self._clock,
                attempt=key,
            )
        except Exception as exc:
            await record_failure(key, f"{type(exc).__name__}: {exc}", self._clock)
            raise
        bind(ticket=result.ticket_number)
        mail = parsed.mail
        logger.info(
            "mail %s from %s: %s%s%s",
            (mail.message_id or "(no Message-ID)")[:200],
            redact(mail.sender.email if mail.sender else ""),
            result.outcome,
            f" {result.ticket_number}" if result.ticket_number else "",
            f" (read in part: {mail.incomplete})" if mail.incomplete else "",
        )
        return result

    async def read(self, raw: bytes, size: int | None = None) -> ParseResult:
        """Parse in the pool; a mail over the size limit gets only its headers read."""
        limit = self._pool.limits.max_message_bytes
        total = max(size or 0, len(raw))
        if total > limit:
            reason = (
                f"it is {total / MIB:.1f} MB, over the {limit / MIB:g} MB limit "
                "(mail.limits.max_message_bytes); only its headers were read"
            )
            return await self._pool.parse(raw, headers_only=reason)
        return await self._pool.parse(raw)

    async def _quarantine(
        self, key: str, raw: bytes, source: str, failures: int, error: str
    ) -> IntakeResult:
        headers = await asyncio.to_thread(header_summary, raw)
        inbound_id = await quarantine(
            key,
            raw,
            headers=headers,
            error=error or "unknown error",
            attempts=failures,
            policy=self._policy,
            source=source,
            clock=self._clock,
        )
        return IntakeResult("quarantined", note=f"inbound message {inbound_id}")


def piped_identity(raw: bytes) -> str:
    """Piped mail has no UID: the same bytes piped again are the same mail."""
    return hashlib.sha256(raw).hexdigest()
