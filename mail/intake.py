"""From raw bytes to a stored ticket: count the attempt, parse in the pool, hand to the domain.

Every source of mail (the IMAP poller, `ticketbot ingest`) goes through
`MailIntake.receive`, so the same rules hold for both: a mail over the size
limit is stored and becomes a stub ticket, parsing runs in a worker process
with a budget, and a mail whose intake failed `max_attempts` times is
quarantined instead of blocking the mail behind it (SPEC "Hostile mail").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mail.limits import MIB, ParseLimits
from mail.parse_pool import ParsePool, ParseResult
from mail.parsed import ParsedMail
from mail.redaction import redact
from mail.summary import header_summary
from models.clock import Clock, system_clock
from models.intake import (
    IntakeResult,
    RawMail,
    StoredMail,
    make_tickets,
    pending_mails,
    receive_mail,
    store_raw,
)
from models.log_context import bind, log_scope
from models.policy import Policy
from models.quarantine import (
    Attempt,
    attempt_key,
    quarantine,
    quarantine_stored,
    record_failure,
    seen_attempts,
    start_attempt,
    start_attempts,
    uncount_attempts,
)

__all__ = ["BatchOutcome", "Incoming", "MailIntake", "TicketMaker", "redact"]

logger = logging.getLogger(__name__)

#: Tickets made per transaction from mails stored raw (one commit for them all).
TICKETS_PER_TRANSACTION = 25
#: Parse results kept between storing a mail and making its ticket (beyond them, the
#: ticket maker parses the stored raw mail again): bounded in count and raw bytes.
PARSED_KEPT = 5000
PARSED_KEPT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Incoming:
    """One mail of a batch: its bytes, its identity in its source, its stated size."""

    raw: bytes
    identity: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What became of a batch: one entry per mail handled, in order (None: stored raw, its
    ticket follows), a prefix of the batch; `error` is why the next mail was not handled."""

    results: list[IntakeResult | None]
    error: Exception | None = None


class MailIntake:
    """The one way into the helpdesk for a mail; shared by the poller and `ingest`."""

    def __init__(self, policy: Policy, pool: ParsePool, *, clock: Clock = system_clock) -> None:
        self._policy = policy
        self._pool = pool
        self._clock = clock
        self._parsed: dict[int, ParseResult] = {}  # by inbound id, until its ticket is made
        self._parsed_bytes = 0

    async def receive_batch(self, mails: Sequence[Incoming], *, source: str) -> BatchOutcome:
        """Store a batch raw, in one statement, its tickets made later (`TicketMaker`).

        The attempts of the mails never tried before are counted in one statement first.
        A mail tried before (its batch failed or the process died) goes alone through
        `receive`'s path, counted just before, so it cannot take its neighbours along;
        a batch the database refuses is stored one mail at a time. Parsing runs in the
        pool, every mail of the batch at once.
        """
        kind = source.partition(":")[0]
        keys = [attempt_key(kind, mail.identity) for mail in mails]
        try:
            seen = await seen_attempts(keys)
            fresh = [key not in seen for key in keys]
            await start_attempts([key for key in keys if key not in seen], self._clock)
        except Exception as exc:
            return BatchOutcome([], exc)
        reads = await asyncio.gather(
            *(self.read(mail.raw, mail.size) for mail, new in zip(mails, fresh, strict=True) if new)
        )
        outcome = await self._receive_all(mails, source, keys=keys, fresh=fresh, reads=reads)
        # Those after a mail that stopped the batch were not tried: their count is taken back.
        after = len(outcome.results) + 1
        untried = zip(keys[after:], fresh[after:], strict=True)
        await uncount_attempts([key for key, new in untried if new])
        return outcome

    async def _receive_all(
        self,
        mails: Sequence[Incoming],
        source: str,
        *,
        keys: Sequence[str],
        fresh: Sequence[bool],
        reads: Sequence[ParseResult],
    ) -> BatchOutcome:
        parsed = iter(reads)
        results: list[IntakeResult | None] = []
        index = 0
        while index < len(mails):
            if not fresh[index]:
                mail = mails[index]
                try:
                    with log_scope():
                        attempt = await start_attempt(keys[index], self._clock)
                        result = await self._receive_started(
                            mail.raw, source, keys[index], attempt, mail.size
                        )
                except Exception as exc:
                    return BatchOutcome(results, exc)
                results.append(result)
                index += 1
                continue
            end = index
            while end < len(mails) and fresh[end]:
                end += 1
            chunk = [(mails[i], keys[i], next(parsed)) for i in range(index, end)]
            stored, error = await self._store(chunk, source)
            for (_, _, read), inbound_id in zip(chunk, stored, strict=False):
                if inbound_id is None:
                    results.append(IntakeResult("duplicate", note="already received"))
                else:
                    self._keep(inbound_id, read)
                    results.append(None)
            if error is not None:
                return BatchOutcome(results, error)
            index = end
        return BatchOutcome(results)

    async def _store(
        self, chunk: Sequence[tuple[Incoming, str, ParseResult]], source: str
    ) -> tuple[list[int | None], Exception | None]:
        """`store_raw` for the chunk; if the database refuses it, one mail at a time: the
        mails before the one refused are stored, it and those after wait for a retry."""
        raws = [
            RawMail(
                (read.mail.message_id or "")[:998],
                read.mail.digest,
                mail.raw,
                read.mail.defects,
                source,
                mail.size,
            )
            for mail, _, read in chunk
        ]
        keys = [key for _, key, _ in chunk]
        try:
            return await store_raw(raws, self._clock, attempts=keys), None
        except Exception:
            logger.warning("a batch of %d mails could not be stored together", len(raws))
        stored: list[int | None] = []
        for raw, key in zip(raws, keys, strict=True):
            try:
                stored += await store_raw([raw], self._clock, attempts=[key])
            except Exception as exc:
                await record_failure(key, f"{type(exc).__name__}: {exc}", self._clock)
                return stored, exc
        return stored, None

    def _keep(self, inbound_id: int, read: ParseResult) -> None:
        """Keep the parse for the ticket maker, within bounds (beyond, it parses again)."""
        size = _weight(read)
        if len(self._parsed) < PARSED_KEPT and self._parsed_bytes + size <= PARSED_KEPT_BYTES:
            self._parsed[inbound_id] = read
            self._parsed_bytes += size

    async def parsed(self, inbound_id: int, raw: bytes, size: int) -> ParseResult:
        """The parse kept for a stored mail, or a new one from its raw bytes."""
        read = self._parsed.pop(inbound_id, None)
        if read is None:
            return await self.read(raw, size)
        self._parsed_bytes -= _weight(read)
        return read

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
        return await self._receive_started(raw, source, key, attempt, size)

    async def _receive_started(
        self, raw: bytes, source: str, key: str, attempt: Attempt, size: int | None
    ) -> IntakeResult:
        """One mail, its attempt counted already: alone, in one transaction."""
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
        _log_result(parsed.mail, result)
        return result

    @property
    def limits(self) -> ParseLimits:
        return self._pool.limits

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


class TicketMaker:
    """Makes the tickets of mails stored raw, several per transaction, oldest first.

    Runs beside the poller (woken after each stored batch) and finds at start-up what a
    crash left between storing and ticketing. A mail whose ticket fails is retried alone
    on the next pass and, after `max_attempts`, quarantined like any poison mail.
    """

    def __init__(
        self,
        intake: MailIntake,
        policy: Policy,
        *,
        on_result: Callable[[IntakeResult], None] = lambda _result: None,
        group: int = TICKETS_PER_TRANSACTION,
        idle_seconds: float = 30.0,
        clock: Clock = system_clock,
    ) -> None:
        self._intake = intake
        self._policy = policy
        self._on_result = on_result
        self._group = group
        self._idle_seconds = idle_seconds
        self._clock = clock
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Make tickets until `stop()`; errors are logged and retried, never raised."""
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain_once()
            except Exception:
                logger.exception("making the tickets of stored mail failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_seconds)

    async def drain_once(self) -> int:
        """Every mail pending now, once each (one that fails waits for the next pass)."""
        made = 0
        after = 0
        while not self._stopping:
            rows = await pending_mails(self._group, after)
            if not rows:
                break
            after = rows[-1][0]
            made += await self._make(rows)
        return made

    async def _make(self, rows: Sequence[tuple[int, bytes, int]]) -> int:
        keys = [attempt_key("ticket", str(inbound_id)) for inbound_id, _, _ in rows]
        seen = await seen_attempts(keys)
        reads = await asyncio.gather(
            *(self._intake.parsed(inbound_id, raw, size) for inbound_id, raw, size in rows)
        )
        max_attempts = self._intake.limits.max_attempts
        group: list[tuple[StoredMail, str, ParseResult]] = []
        made = 0
        for (inbound_id, raw, _), key, read in zip(rows, keys, reads, strict=True):
            item = (StoredMail(inbound_id, read.mail, read.display_text), key, read)
            if key not in seen:
                group.append(item)
                continue
            # Tried (or died) before: alone, counted alone, so it fails alone.
            made += await self._flush(group)
            [attempt] = await start_attempts([key], self._clock)
            if attempt.number > max_attempts:
                await self._quarantine(key, inbound_id, raw, attempt)
            else:
                made += await self._flush([item], counted=True)
        return made + await self._flush(group)

    async def _flush(
        self, group: list[tuple[StoredMail, str, ParseResult]], *, counted: bool = False
    ) -> int:
        """Make the tickets of `group` together; their attempts are counted first (unless
        `counted`), committed, so a crash meanwhile counts for each of them."""
        if not group:
            return 0
        taken = list(group)
        group.clear()
        items, keys = [item for item, _, _ in taken], [key for _, key, _ in taken]
        if not counted:
            await start_attempts(keys, self._clock)
        results = await make_tickets(items, self._policy, self._clock, attempts=keys)
        made = 0
        for (_, key, read), item, result in zip(taken, items, results, strict=True):
            with log_scope():
                mail = read.mail
                bind(message_id=mail.message_id)
                if isinstance(result, Exception):
                    logger.warning(
                        "mail %s (inbound message %d): its ticket could not be made: %s",
                        (mail.message_id or "(no Message-ID)")[:200],
                        item.inbound_id,
                        result,
                    )
                    await record_failure(key, f"{type(result).__name__}: {result}", self._clock)
                    continue
                made += 1
                bind(ticket=result.ticket_number)
                _log_result(mail, result)
                self._on_result(result)
        return made

    async def _quarantine(self, key: str, inbound_id: int, raw: bytes, attempt: Attempt) -> None:
        headers = await asyncio.to_thread(header_summary, raw)
        if await quarantine_stored(
            key,
            inbound_id,
            headers=headers,
            error=attempt.last_error or "unknown error",
            attempts=attempt.number - 1,
            size=len(raw),
            policy=self._policy,
            clock=self._clock,
        ):
            self._on_result(IntakeResult("quarantined", note=f"inbound message {inbound_id}"))


def _weight(read: ParseResult) -> int:
    """Roughly what a kept parse holds in memory."""
    return len(read.mail.text) + sum(len(a.content) for a in read.mail.attachments)


def _log_result(mail: ParsedMail, result: IntakeResult) -> None:
    logger.info(
        "mail %s from %s: %s%s%s",
        (mail.message_id or "(no Message-ID)")[:200],
        redact(mail.sender.email if mail.sender else ""),
        result.outcome,
        f" {result.ticket_number}" if result.ticket_number else "",
        f" (read in part: {mail.incomplete})" if mail.incomplete else "",
    )


def piped_identity(raw: bytes) -> str:
    """Piped mail has no UID: the same bytes piped again are the same mail."""
    return hashlib.sha256(raw).hexdigest()
