"""The claim compare-and-set, on the hot path of every Claim click.

On PostgreSQL it is one statement: the guarded UPDATE, its history row and the
card-update outbox row are written together by data-modifying CTEs (atomic, one
round trip, no explicit transaction). SQLite has no data-modifying CTEs; there
the same rule runs as ORM statements in one transaction (SQLite serialises
writers anyway). Both are tested against the same cases.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import effects
from models.policy import Policy
from models.ticket import History, Ticket, TicketState

_PG_CLAIM = """
WITH previous AS (
    SELECT owner_id FROM ticket WHERE id = $3
), claimed AS (
    UPDATE ticket
       SET owner_id = $1, owner_active_at = $2, claimed_at = $2, updated_at = $2,
           last_activity_at = $2,
           state = CASE WHEN state = 'new' THEN 'open' ELSE state END
     WHERE id = $3 AND state <> 'closed' AND ($5 = '' OR slack_channel = $5)
       AND (owner_id IS NULL OR owner_active_at < $4)
 RETURNING id
), history AS (
    INSERT INTO ticket_history (ticket_id, event, actor, detail, created_at)
    SELECT claimed.id, 'claimed', $1,
           CASE WHEN previous.owner_id IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('previous_owner', previous.owner_id) END,
           $2
      FROM claimed, previous
), effect AS (
    INSERT INTO outbox (kind, stream, payload, status, attempts, next_attempt_at,
                        lease_owner, last_error, created_at)
    SELECT $6, 'slack:' || claimed.id, jsonb_build_object('ticket_id', claimed.id),
           'pending', 0, $2, '', '', $2
      FROM claimed
)
SELECT count(*) AS won FROM claimed
"""


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
        rows = await connection.execute_query_dict(
            _PG_CLAIM,
            [user_id, now, ticket_id, expiry, channel, effects.SLACK_CARD_UPDATE],
        )
        return bool(rows and rows[0]["won"])
    async with in_transaction():
        previous = await Ticket.get_or_none(id=ticket_id).values_list("owner_id", flat=True)
        query = (
            Ticket.filter(id=ticket_id)
            .exclude(state=TicketState.CLOSED)
            .filter(Q(owner_id=None) | Q(owner_active_at__lt=expiry))
        )
        if channel:
            query = query.filter(slack_channel=channel)
        if not await query.update(
            owner_id=user_id,
            owner_active_at=now,
            claimed_at=now,
            updated_at=now,
            last_activity_at=now,
        ):
            return False
        await Ticket.filter(id=ticket_id, state=TicketState.NEW).update(state=TicketState.OPEN)
        await History.create(
            ticket_id=ticket_id,
            event="claimed",
            actor=user_id,
            detail={"previous_owner": previous} if previous else {},
            created_at=now,
        )
        await effects.update_card(ticket_id, lambda: now)
        return True
