"""Poison mail: a mail whose intake keeps failing is set aside instead of blocking the rest.

Every intake of a mail is counted *before* it starts, in its own committed
row, so even an attempt that kills the whole process counts. Past
`mail.limits.max_attempts` the mail is not tried again: its raw bytes are
stored, a card "mail could not be processed" with its headers goes to the
default queue's channel, and the caller marks it handled (SPEC "Hostile mail").
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise import fields
from tortoise.expressions import F, Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models import effects
from models.clock import Clock, system_clock
from models.policy import Policy
from models.store.article import InboundMessage

logger = logging.getLogger(__name__)

MAX_KEY = 500
MAX_ERROR = 2000
QUARANTINED = "quarantined"
#: The Message-ID column of quarantined mail: its real one may be what broke the intake.
QUARANTINE_MESSAGE_ID = "(quarantined)"


class MailAttempt(Model):
    """How often the intake of one mail (by its source key) was started, and how it ended."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=MAX_KEY, unique=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    inbound: fields.ForeignKeyNullableRelation[InboundMessage] = fields.ForeignKeyField(
        "ticketbot.InboundMessage", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    inbound_id: int | None
    updated_at = fields.DatetimeField()

    class Meta:
        table = "mail_attempt"


@dataclass(frozen=True, slots=True)
class Attempt:
    """The attempt just started: its number, and the error of the one before (if any)."""

    number: int
    last_error: str
    quarantined_as: int | None


def attempt_key(source: str, identity: str) -> str:
    """A key that fits the column: long mailbox names and ids are hashed, not cut."""
    key = f"{source}:{identity}"
    if len(key) <= MAX_KEY:
        return key
    return f"{source[:200]}:sha256:{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()}"


async def start_attempt(key: str, clock: Clock = system_clock) -> Attempt:
    """Count one more intake of `key`, committed before the intake itself runs.

    One statement (an upsert returning the row) whatever the history of `key`: this
    runs for every mail, and each round trip is CPU the rest of the intake waits for.
    """
    connection = MailAttempt._meta.db
    at = MailAttempt._meta.fields_map["updated_at"].to_db_value(clock(), MailAttempt)
    p1, p2 = ("$1", "$2") if connection.capabilities.dialect == "postgres" else ("?", "?")
    rows = await connection.execute_query_dict(
        "INSERT INTO mail_attempt (key, attempts, last_error, updated_at) "
        f"VALUES ({p1}, 1, '', {p2}) ON CONFLICT (key) DO UPDATE SET "
        "attempts = mail_attempt.attempts + 1, updated_at = excluded.updated_at "
        "RETURNING attempts, last_error, inbound_id",
        [key, at],
    )
    row = rows[0]
    inbound_id = row["inbound_id"]
    return Attempt(
        int(row["attempts"]),
        str(row["last_error"]),
        None if inbound_id is None else int(inbound_id),
    )


async def seen_attempts(keys: Sequence[str]) -> set[str]:
    """Which of `keys` were tried before (counted, or quarantined): one query for a batch,
    so that only mails never tried are counted (and tried) together."""
    if not keys:
        return set()
    rows = (
        await MailAttempt.filter(key__in=list(keys))
        .filter(Q(attempts__gt=0) | Q(inbound_id__isnull=False))
        .values_list("key", flat=True)
    )
    return {str(key) for key in rows}


async def start_attempts(keys: Sequence[str], clock: Clock = system_clock) -> list[Attempt]:
    """`start_attempt` for a whole batch in one statement (one commit), in `keys`' order.

    A batch that kills the process counts one attempt for each of its mails; the caller
    tries a mail seen before alone, so a poison mail cannot take its neighbours along.
    """
    if not keys:
        return []
    connection = MailAttempt._meta.db
    at = MailAttempt._meta.fields_map["updated_at"].to_db_value(clock(), MailAttempt)
    postgres = connection.capabilities.dialect == "postgres"
    unique = list(dict.fromkeys(keys))
    params: list[object] = [at]
    rows = []
    for key in unique:
        params.append(key)
        rows.append(f"(${len(params)}, 1, '', $1)" if postgres else "(?, 1, '', ?)")
    if not postgres:  # positional: the time after each key
        params = [value for key in unique for value in (key, at)]
    found = await connection.execute_query_dict(
        "INSERT INTO mail_attempt (key, attempts, last_error, updated_at) "
        f"VALUES {', '.join(rows)} ON CONFLICT (key) DO UPDATE SET "
        "attempts = mail_attempt.attempts + 1, updated_at = excluded.updated_at "
        "RETURNING key, attempts, last_error, inbound_id",
        params,
    )
    by_key = {
        str(row["key"]): Attempt(
            int(row["attempts"]),
            str(row["last_error"]),
            None if row["inbound_id"] is None else int(row["inbound_id"]),
        )
        for row in found
    }
    return [by_key[key] for key in keys]


async def uncount_attempts(keys: Sequence[str]) -> None:
    """Take back the attempt counted for mails that were not tried after all (their batch
    stopped before them): a mail must not be quarantined for a neighbour's failures."""
    if keys:
        await MailAttempt.filter(key__in=list(keys), attempts__gt=0).update(
            attempts=F("attempts") - 1
        )


async def record_failure(key: str, error: str, clock: Clock = system_clock) -> None:
    """Best effort: why the attempt failed, shown on the quarantine card later."""
    try:
        await MailAttempt.filter(key=key).update(last_error=error[:MAX_ERROR], updated_at=clock())
    except Exception:  # the database may be what failed; the count already stands
        logger.warning("could not record why the intake of %s failed", key, exc_info=True)


async def finish_attempt(key: str) -> None:
    """The mail is stored: nothing to remember about it any more."""
    await MailAttempt.filter(key=key, inbound_id__isnull=True).delete()


async def quarantine(
    key: str,
    raw: bytes,
    *,
    headers: Sequence[tuple[str, str]],
    error: str,
    attempts: int,
    policy: Policy,
    source: str,
    clock: Clock = system_clock,
) -> int:
    """Store `raw` as quarantined and queue its card; returns the inbound message id.

    Idempotent per key: a mail quarantined before (and fetched again because marking it
    handled failed) is not stored or shown twice.
    """
    now = clock()
    async with in_transaction():
        row = await MailAttempt.filter(key=key).select_for_update().first()
        if row is not None and row.inbound_id is not None:
            return int(row.inbound_id)
        digest = hashlib.sha256(raw).hexdigest()
        inbound = await InboundMessage.filter(
            message_id=QUARANTINE_MESSAGE_ID, digest=digest
        ).first()
        if inbound is None:
            inbound = await InboundMessage.create(
                message_id=QUARANTINE_MESSAGE_ID,
                digest=digest,
                raw_source=raw,
                size=len(raw),
                source=source[:320],
                outcome=QUARANTINED,
                defects=[f"quarantined after {attempts} failed attempts: {error[:300]}"],
                received_at=now,
            )
            queue = policy.queues[0]
            await effects.post_quarantine(
                inbound.id,
                queue.channel,
                headers=[(name[:40], value[:500]) for name, value in headers[:12]],
                error=error[:500],
                attempts=attempts,
                size=len(raw),
                clock=clock,
            )
        if row is None:
            await MailAttempt.create(key=key, attempts=attempts, updated_at=now, inbound=inbound)
        else:
            await MailAttempt.filter(id=row.id).update(inbound_id=inbound.id, updated_at=now)
    logger.warning(
        "mail %s quarantined after %d failed attempts (inbound message %d): %s",
        key,
        attempts,
        inbound.id,
        error[:300],
    )
    return int(inbound.id)


async def quarantine_stored(
    key: str,
    inbound_id: int,
    *,
    headers: Sequence[tuple[str, str]],
    error: str,
    attempts: int,
    size: int,
    policy: Policy,
    clock: Clock = system_clock,
) -> bool:
    """A mail stored raw whose ticket could not be made `attempts` times: set aside with
    a card "mail could not be processed" instead of a ticket. False if it was not pending
    any more (made or quarantined meanwhile)."""
    now = clock()
    async with in_transaction():
        claimed = await InboundMessage.filter(id=inbound_id, pending=True).update(
            pending=False,
            outcome=QUARANTINED,
            defects=[f"quarantined after {attempts} failed attempts: {error[:300]}"],
        )
        if claimed:
            await effects.post_quarantine(
                inbound_id,
                policy.queues[0].channel,
                headers=[(name[:40], value[:500]) for name, value in headers[:12]],
                error=error[:500],
                attempts=attempts,
                size=size,
                clock=clock,
            )
        await MailAttempt.filter(key=key).update(inbound_id=inbound_id, updated_at=now)
    if claimed:
        logger.warning(
            "mail %s (inbound message %d) quarantined after %d failed attempts: %s",
            key,
            inbound_id,
            attempts,
            error[:300],
        )
    return bool(claimed)
