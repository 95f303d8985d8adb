"""The claim compare-and-set, on the hot path of every Claim click.

On PostgreSQL it is one statement: the guarded UPDATE, its history rows and the
card-update outbox rows are written together by data-modifying CTEs (atomic, one
round trip, no explicit transaction). Clicks that arrive while a statement is in
flight are claimed together by the next one (group commit): under a burst the
database sees a few statements and commits instead of one per click, which is
what keeps the slowest acks close to the typical one. SQLite has no
data-modifying CTEs; there the same rule runs as ORM statements in one
transaction (SQLite serialises writers anyway). Both are tested against the
same cases.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import effects
from models.events import HistoryEvent
from models.lifecycle import Move, allowed, claim_state_sql, claimable_states, next_state
from models.policy import Policy
from models.store.ticket import History, Ticket, TicketState

_PG_CLAIM = f"""
WITH request AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[],
                         $4::timestamptz[], $5::timestamptz[], $7::text[])
                  AS r(ticket_id, user_id, channel, at, expiry, stream)
), previous AS (
    SELECT ticket.id, ticket.owner_id FROM ticket JOIN request ON ticket.id = request.ticket_id
), claimed AS (
    UPDATE ticket
       SET owner_id = request.user_id, owner_active_at = request.at,
           claimed_at = request.at, updated_at = request.at, last_activity_at = request.at,
           state = {claim_state_sql("ticket.state")}
      FROM request
     WHERE ticket.id = request.ticket_id
       AND ticket.state IN ({", ".join(f"'{s.value}'" for s in claimable_states())})
       AND (request.channel = '' OR ticket.slack_channel = request.channel)
       AND (ticket.owner_id IS NULL OR ticket.owner_active_at < request.expiry)
 RETURNING ticket.id, request.user_id, request.at, request.stream
), history AS (
    INSERT INTO ticket_history (ticket_id, event, actor, detail, created_at)
    SELECT claimed.id, '{HistoryEvent.CLAIMED.value}', claimed.user_id,
           CASE WHEN previous.owner_id IS NULL THEN '{{}}'::jsonb
                ELSE jsonb_build_object('previous_owner', previous.owner_id) END,
           claimed.at
      FROM claimed JOIN previous ON previous.id = claimed.id
), effect AS (
    INSERT INTO outbox (kind, stream, payload, status, attempts, next_attempt_at,
                        lease_owner, last_error, created_at)
    SELECT $6, claimed.stream, jsonb_build_object('ticket_id', claimed.id),
           'pending', 0, claimed.at, '', '', claimed.at
      FROM claimed
)
SELECT id FROM claimed
"""


@dataclass(slots=True)
class _Click:
    ticket_id: int
    user_id: str
    channel: str
    at: datetime
    expiry: datetime
    won: asyncio.Future[bool]


@dataclass
class ClaimBatcher:
    """Claims waiting for the database, sent as one statement per batch.

    A batch holds each ticket once: a second click on the same ticket waits for
    a later batch, so one statement never has to choose between two clicks (an
    UPDATE joined to two rows for one ticket would pick one arbitrarily). Up to
    `in_flight` statements overlap; the guarded UPDATE's row locks keep them
    correct, exactly as they do for single clicks. A statement that fails fails
    the clicks it carried, and the next batch goes on.
    """

    in_flight: int = 2
    max_batch: int = 200
    statements: int = 0  # sent so far: lets tests see that clicks were grouped
    _waiting: list[_Click] = field(default_factory=list)
    _running: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def claim(self, click: _Click) -> bool:
        self._waiting.append(click)
        self._start()
        return await click.won

    def _start(self) -> None:
        while self._waiting and self._running < self.in_flight:
            batch = self._next_batch()
            self._running += 1
            task = asyncio.create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _next_batch(self) -> list[_Click]:
        batch: list[_Click] = []
        later: list[_Click] = []
        tickets: set[int] = set()
        for click in self._waiting:
            if click.ticket_id in tickets or len(batch) >= self.max_batch:
                later.append(click)
            else:
                tickets.add(click.ticket_id)
                batch.append(click)
        self._waiting = later
        return batch

    async def _send(self, batch: list[_Click]) -> None:
        try:
            self.statements += 1
            rows = await Ticket._meta.db.execute_query_dict(
                _PG_CLAIM,
                [
                    [c.ticket_id for c in batch],
                    [c.user_id for c in batch],
                    [c.channel for c in batch],
                    [c.at for c in batch],
                    [c.expiry for c in batch],
                    effects.SLACK_CARD_UPDATE,
                    [effects.slack_stream(c.ticket_id) for c in batch],
                ],
            )
            won = {row["id"] for row in rows}
            for click in batch:
                if not click.won.done():
                    click.won.set_result(click.ticket_id in won)
        except asyncio.CancelledError:  # shutting down: the waiting clicks are cancelled too
            for click in batch:
                click.won.cancel()
            raise
        except Exception as error:
            for click in batch:
                if not click.won.done():
                    click.won.set_exception(error)
        finally:
            self._running -= 1
            self._start()


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ClaimBatcher] = (
    weakref.WeakKeyDictionary()
)


def batcher() -> ClaimBatcher:
    """This event loop's batcher (one per loop: futures cannot cross loops)."""
    loop = asyncio.get_running_loop()
    found = _batchers.get(loop)
    if found is None:
        found = _batchers[loop] = ClaimBatcher()
    return found


def claimable(ticket_id: int, expiry: datetime) -> Q:
    """The claim's condition (the PostgreSQL statement spells the same): in a state a claim
    may start from, and free or idle past the lock timeout (`expiry`)."""
    return Q(id=ticket_id, state__in=claimable_states()) & (
        Q(owner_id=None) | Q(owner_active_at__lt=expiry)
    )


async def take_claim(
    ticket_id: int, user_id: str, channel: str, policy: Policy, now: datetime
) -> bool:
    """True if `user_id` now holds the ticket (free, or idle past the lock timeout).

    `channel`, when given, must be the ticket's channel: a click is only honoured
    from the card it belongs to.
    """
    expiry = now - timedelta(minutes=policy.lock_timeout_minutes)
    connection = Ticket._meta.db
    if connection.capabilities.dialect == "postgres":
        if isinstance(connection, TransactionalDBClient):
            raise RuntimeError("take_claim commits on its own; call it outside a transaction")
        click = _Click(
            ticket_id, user_id, channel, now, expiry, asyncio.get_running_loop().create_future()
        )
        return await batcher().claim(click)
    async with in_transaction():
        before = await Ticket.get_or_none(id=ticket_id).values("owner_id", "state")
        if before is None or not allowed(Move.CLAIM, TicketState(before["state"])):
            return False
        state = TicketState(before["state"])
        query = Ticket.filter(claimable(ticket_id, expiry), state=state)
        if channel:
            query = query.filter(slack_channel=channel)
        if not await query.update(
            owner_id=user_id,
            owner_active_at=now,
            claimed_at=now,
            updated_at=now,
            last_activity_at=now,
            state=next_state(Move.CLAIM, state, owned=True),
        ):
            return False
        previous = before["owner_id"]
        await History.create(
            ticket_id=ticket_id,
            event=HistoryEvent.CLAIMED,
            actor=user_id,
            detail={"previous_owner": previous} if previous else {},
            created_at=now,
        )
        await effects.update_card(ticket_id, lambda: now)
        return True
