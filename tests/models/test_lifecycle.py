"""The one table of ticket states: its invariants, and that the operations follow it."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta

import pytest

from models.events import HistoryEvent
from models.jobs import release_idle_claims
from models.lifecycle import (
    TRANSITIONS,
    Move,
    allowed,
    claim_state_sql,
    claimable_states,
    next_state,
)
from models.policy import Policy, QueueRoute
from models.store.ticket import History, Ticket, TicketState
from models.work import Agent, claim, release
from tests.support.clock import HandClock

NEW, OPEN, PENDING, CLOSED = TicketState
POLICY = Policy(
    queues=(QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),),
    address="support@ticketbot.example",
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
    lock_timeout_minutes=60,
)
ALICE, BOB = Agent("U0ALICE"), Agent("U0BOB")
START = datetime(2026, 11, 25, 9, tzinfo=UTC)


def test_open_means_held_and_new_means_nobody() -> None:
    for (move, before), (held, free) in TRANSITIONS.items():
        assert held is not NEW, (move, before)
        assert free is not OPEN, (move, before)


def test_every_move_starts_somewhere_and_closed_only_reopens_or_is_answered() -> None:
    for move in Move:
        assert any(allowed(move, state) for state in TicketState), move
    assert [m for m in Move if allowed(m, CLOSED)] == [
        Move.RELEASE,
        Move.REPLY,
        Move.REPLY_AND_CLOSE,
        Move.REOPEN,
        Move.CUSTOMER_WROTE,
    ]


@pytest.mark.parametrize(
    ("move", "before", "owned", "after"),
    [
        (Move.CLAIM, NEW, True, OPEN),
        (Move.CLAIM, PENDING, True, PENDING),
        (Move.RELEASE, OPEN, False, NEW),
        (Move.LOCK_TIMEOUT, OPEN, False, NEW),
        (Move.REPLY, CLOSED, True, PENDING),
        (Move.REOPEN, CLOSED, False, NEW),
        (Move.REOPEN, CLOSED, True, OPEN),
        (Move.CUSTOMER_WROTE, PENDING, True, OPEN),
        (Move.CUSTOMER_WROTE, CLOSED, False, NEW),
    ],
)
def test_moves(move: Move, before: TicketState, owned: bool, after: TicketState) -> None:
    assert next_state(move, before, owned=owned) is after


def test_the_claim_sql_is_written_from_the_table() -> None:
    assert claimable_states() == (NEW, OPEN, PENDING)
    assert claim_state_sql("s") == (
        "CASE s WHEN 'new' THEN 'open' WHEN 'open' THEN 'open' WHEN 'pending' THEN 'pending' END"
    )


async def new_ticket() -> Ticket:
    return await Ticket.create(
        number="2026112510000017",
        queue="Support",
        subject="Printer",
        customer_email="c@customer.example",
        slack_channel="C0SUPPORT",
        last_activity_at=START,
        created_at=START,
        updated_at=START,
    )


async def test_a_released_ticket_is_new_again_and_claimable(database: str) -> None:
    ticket = await new_ticket()
    await claim(ticket.id, ALICE, POLICY, HandClock(START))
    assert (await Ticket.get(id=ticket.id)).state is OPEN
    released = await release(ticket.id, ALICE, HandClock(START))
    assert (released.state, released.owner_id) == (NEW, None)
    await claim(ticket.id, BOB, POLICY, HandClock(START))
    assert (await Ticket.get(id=ticket.id)).state is OPEN


async def test_the_lock_timeout_makes_an_idle_open_ticket_new(database: str) -> None:
    ticket = await new_ticket()
    await claim(ticket.id, ALICE, POLICY, HandClock(START))
    later = HandClock(START + timedelta(minutes=61))
    assert await release_idle_claims(POLICY, later) == [ticket.id]
    fresh = await Ticket.get(id=ticket.id)
    assert (fresh.state, fresh.owner_id) == (NEW, None)
    assert await History.filter(ticket_id=ticket.id, event=HistoryEvent.RELEASED).count() == 1


async def test_a_pending_ticket_claimed_stays_pending(database: str) -> None:
    ticket = await new_ticket()
    await Ticket.filter(id=ticket.id).update(state=PENDING)
    await claim(ticket.id, BOB, POLICY, HandClock(START))
    fresh = await Ticket.get(id=ticket.id)
    assert (fresh.state, fresh.owner_id) == (PENDING, BOB.user_id)
