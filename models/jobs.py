"""Periodic rules: release idle claims, remind the channel of tickets nobody took.

Each run is idempotent: the compare-and-set in the UPDATE decides, so two
processes running the same job (or a job and an agent) never act twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from tortoise.transactions import in_transaction

from models import effects
from models.clock import Clock, system_clock
from models.events import HistoryEvent, Notice
from models.lifecycle import Move, next_state
from models.policy import Policy
from models.store.ticket import History, Ticket, TicketState

logger = logging.getLogger(__name__)


async def release_idle_claims(policy: Policy, clock: Clock = system_clock) -> list[int]:
    """Open tickets whose owner did nothing for `lock_timeout_minutes` become free again.

    Pending tickets keep their owner: they wait for the customer, not for the agent.
    """
    now = clock()
    cutoff = now - timedelta(minutes=policy.lock_timeout_minutes)
    idle = await Ticket.filter(
        state=TicketState.OPEN, owner_id__isnull=False, owner_active_at__lt=cutoff
    ).values_list("id", "owner_id")
    released: list[int] = []
    for ticket_id, owner in idle:
        async with in_transaction():
            done = await Ticket.filter(
                id=ticket_id, owner_id=owner, owner_active_at__lt=cutoff, state=TicketState.OPEN
            ).update(
                owner_id=None,
                owner_active_at=None,
                updated_at=now,
                state=next_state(Move.LOCK_TIMEOUT, TicketState.OPEN, owned=False),
            )
            if not done:
                continue
            await History.create(
                ticket_id=ticket_id,
                event=HistoryEvent.RELEASED,
                actor="system",
                detail={"owner": owner, "reason": "lock timeout"},
                created_at=now,
            )
            facts = {"owner": owner, "minutes": str(policy.lock_timeout_minutes)}
            await effects.post_notice(ticket_id, Notice.RELEASED_IDLE, facts, clock)
            await effects.update_card(ticket_id, clock)
        released.append(ticket_id)
    if released:
        logger.info("released %d idle claim(s)", len(released))
    return released


async def remind_unclaimed(policy: Policy, clock: Clock = system_clock) -> list[int]:
    """One reminder per ticket still waiting for its first response after the deadline."""
    now = clock()
    cutoff = now - timedelta(minutes=policy.first_response_minutes)
    waiting: list[int] = await Ticket.filter(
        owner_id__isnull=True,
        first_response_at__isnull=True,
        escalated_at__isnull=True,
        created_at__lt=cutoff,
        state__in=[TicketState.NEW, TicketState.OPEN],
    ).values_list("id", flat=True)  # type: ignore[assignment]
    reminded: list[int] = []
    for ticket_id in waiting:
        async with in_transaction():
            done = await Ticket.filter(id=ticket_id, escalated_at__isnull=True).update(
                escalated_at=now
            )
            if not done:
                continue
            await History.create(
                ticket_id=ticket_id,
                event=HistoryEvent.ESCALATED,
                actor="system",
                detail={"after_minutes": policy.first_response_minutes},
                created_at=now,
            )
            facts = {"minutes": str(policy.first_response_minutes)}
            await effects.post_notice(ticket_id, Notice.UNCLAIMED_REMINDER, facts, clock)
        reminded.append(ticket_id)
    if reminded:
        logger.info("reminded the channel of %d unclaimed ticket(s)", len(reminded))
    return reminded
