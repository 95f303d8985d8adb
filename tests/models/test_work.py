"""Agents' operations on tickets, on SQLite and PostgreSQL."""

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from models.effects import MAIL_SEND, SLACK_CARD_UPDATE, SLACK_REACTION, SLACK_THREAD_POST
from models.events import Refusal
from models.jobs import release_idle_claims, remind_unclaimed
from models.outbox.items import OutboxItem
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind
from models.store.ticket import History, Ticket, TicketState
from models.work import Agent, Refused, claim, close, note, release, reopen, reply
from tests.support.clock import HandClock
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

POLICY = Policy(
    queues=(QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),),
    address="support@ticketbot.example",
    display_name="Example Support",
    lock_timeout_minutes=60,
    first_response_minutes=30,
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
)
ALICE = Agent("U0ALICE", "Alice Agent")
BOB = Agent("U0BOB", "Bob Agent")
LEAD = Agent("U0LEAD", "Lea Lead", is_lead=True)


START = datetime(2026, 11, 25, 9, tzinfo=UTC)


@pytest.fixture
async def ticket(database: str) -> Ticket:
    result = await ingest(
        make_mail(
            message_id="<q1@customer.example>",
            references="<older@customer.example>",
            headers={"Reply-To": "Alice Private <alice.private@example.org>"},
        ),
        POLICY,
        clock=HandClock(START),
    )
    await OutboxItem.all().delete()
    return await Ticket.get(id=result.ticket_id)


@contextmanager
def refused(reason: Refusal, **facts: str) -> Iterator[None]:
    """The block must be refused for `reason`, naming at least `facts`."""
    with pytest.raises(Refused) as caught:
        yield
    assert caught.value.reason is reason, caught.value
    assert facts.items() <= caught.value.facts.items(), caught.value.facts


async def kinds() -> list[str]:
    return [o.kind for o in await OutboxItem.all().order_by("id")]


async def events(ticket: Ticket) -> list[str]:
    return [h.event for h in await History.filter(ticket_id=ticket.id).order_by("id")]


async def test_claim_takes_a_new_ticket_and_opens_it(ticket: Ticket) -> None:
    result = await claim(ticket.id, ALICE, POLICY)
    assert result.changed
    fresh = await Ticket.get(id=ticket.id)
    assert (fresh.owner_id, fresh.state) == ("U0ALICE", TicketState.OPEN)
    assert await kinds() == [SLACK_CARD_UPDATE]
    again = await claim(ticket.id, ALICE, POLICY)
    assert not again.changed
    with refused(Refusal.HELD, owner="U0ALICE"):
        await claim(ticket.id, BOB, POLICY)
    assert await events(ticket) == ["created", "claimed"]


async def test_concurrent_claims_have_exactly_one_winner(ticket: Ticket) -> None:
    for round_ in range(20):
        agents = [Agent(f"U{round_}{n}") for n in range(4)]
        results = await asyncio.gather(
            *(claim(ticket.id, a, POLICY) for a in agents), return_exceptions=True
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, Refused)]
        assert len(winners) == 1 and len(losers) == 3, results
        owner = (await Ticket.get(id=ticket.id)).owner_id
        assert owner in {a.user_id for a in agents}
        assert all(loser.facts["owner"] == owner for loser in losers)
        await release(ticket.id, Agent(owner or ""))


async def test_only_the_owner_or_a_lead_releases(ticket: Ticket) -> None:
    await claim(ticket.id, ALICE, POLICY)
    with refused(Refusal.HELD_NO_RELEASE, owner="U0ALICE"):
        await release(ticket.id, BOB)
    released = await release(ticket.id, LEAD)
    assert released.owner_id is None
    assert released.state == TicketState.NEW  # open means held: released, it waits again
    with refused(Refusal.NOT_CLAIMED):
        await release(ticket.id, ALICE)


async def test_reply_claims_mails_the_customer_and_waits(ticket: Ticket) -> None:
    article = await reply(ticket.id, ALICE, "  Try turning it off and on.  ", POLICY, minutes=5)
    fresh = await Ticket.get(id=ticket.id)
    assert (fresh.owner_id, fresh.state) == ("U0ALICE", TicketState.PENDING)
    assert fresh.first_response_at is not None
    assert article.recipients == ["alice.private@example.org"]
    assert article.subject == f"Re: [Ticket#{ticket.number}] Printer on floor 3 is broken"
    assert article.in_reply_to == "<q1@customer.example>"
    assert article.references == ["<older@customer.example>", "<q1@customer.example>"]
    assert article.message_id and article.message_id != article.in_reply_to
    assert article.body.startswith("Try turning it off and on.\n\n-- \nAlice Agent")
    assert (article.author_name, article.minutes_spent) == ("Alice Agent", 5)
    assert sorted(await kinds()) == sorted([MAIL_SEND, SLACK_THREAD_POST, SLACK_CARD_UPDATE])
    assert await events(ticket) == ["created", "claimed", "replied"]


async def test_reply_refused_while_someone_else_holds_it(ticket: Ticket) -> None:
    await claim(ticket.id, ALICE, POLICY)
    with refused(Refusal.HELD, owner="U0ALICE"):
        await reply(ticket.id, BOB, "hello", POLICY)
    with refused(Refusal.EMPTY_REPLY):
        await reply(ticket.id, ALICE, "   \n ", POLICY)
    assert not await Article.filter(
        ticket_id=ticket.id, kind=ArticleKind.EMAIL_OUT, author="U0BOB"
    ).exists()


async def test_reply_and_close(ticket: Ticket) -> None:
    await reply(ticket.id, ALICE, "Done.", POLICY, close_after=True)
    fresh = await Ticket.get(id=ticket.id)
    assert fresh.state == TicketState.CLOSED and fresh.closed_at is not None
    assert await events(ticket) == ["created", "claimed", "replied", "closed"]


async def test_notes_are_never_mailed_and_thread_messages_count_once(ticket: Ticket) -> None:
    first = await note(ticket.id, BOB, "Called the customer", minutes=3)
    assert first is not None and first.kind == ArticleKind.NOTE
    from_thread = await note(
        ticket.id, ALICE, "Spare toner in room 4", slack_ts="1.0002", channel="C0SUPPORT"
    )
    again = await note(
        ticket.id, ALICE, "Spare toner in room 4", slack_ts="1.0002", channel="C0SUPPORT"
    )
    assert from_thread is not None and again is None
    assert await kinds() == [SLACK_THREAD_POST, SLACK_REACTION]
    assert MAIL_SEND not in await kinds()


async def test_close_and_reopen_round_trip(ticket: Ticket) -> None:
    await claim(ticket.id, ALICE, POLICY)
    with pytest.raises(Refused):
        await close(ticket.id, BOB, POLICY)
    closed = await close(ticket.id, ALICE, POLICY, text="Fixed the fuser", minutes=20)
    assert closed.state == TicketState.CLOSED
    with refused(Refusal.ALREADY_CLOSED):
        await close(ticket.id, ALICE, POLICY)
    reopened = await reopen(ticket.id, BOB)
    assert reopened.state == TicketState.OPEN and reopened.closed_at is None
    with refused(Refusal.NOT_CLOSED):
        await reopen(ticket.id, BOB)
    assert await events(ticket) == ["created", "claimed", "closed", "reopened"]
    closing_note = await Article.get(ticket_id=ticket.id, kind=ArticleKind.NOTE)
    assert (closing_note.body, closing_note.minutes_spent) == ("Fixed the fuser", 20)


async def test_lock_timeout_releases_idle_open_claims_once(ticket: Ticket) -> None:
    clock = HandClock(START)
    await claim(ticket.id, ALICE, POLICY, clock)
    clock.advance(minutes=59)
    assert await release_idle_claims(POLICY, clock) == []
    clock.advance(minutes=2)
    assert await release_idle_claims(POLICY, clock) == [ticket.id]
    assert await release_idle_claims(POLICY, clock) == []
    assert (await Ticket.get(id=ticket.id)).owner_id is None
    assert (await events(ticket)).count("released") == 1


async def test_pending_tickets_keep_their_owner(ticket: Ticket) -> None:
    clock = HandClock(START)
    await reply(ticket.id, ALICE, "Waiting for you", POLICY, clock=clock)
    clock.advance(minutes=600)
    assert await release_idle_claims(POLICY, clock) == []


async def test_an_idle_claim_can_be_taken_over(ticket: Ticket) -> None:
    clock = HandClock(START)
    await claim(ticket.id, ALICE, POLICY, clock)
    clock.advance(minutes=61)
    result = await claim(ticket.id, BOB, POLICY, clock)
    assert result.changed
    assert (await Ticket.get(id=ticket.id)).owner_id == "U0BOB"


async def test_escalation_reminds_once(ticket: Ticket) -> None:
    clock = HandClock(START)
    clock.advance(minutes=29)
    assert await remind_unclaimed(POLICY, clock) == []
    clock.advance(minutes=2)
    assert await remind_unclaimed(POLICY, clock) == [ticket.id]
    clock.advance(minutes=60)
    assert await remind_unclaimed(POLICY, clock) == []
    assert (await events(ticket)).count("escalated") == 1


async def test_claimed_or_answered_tickets_are_not_escalated(ticket: Ticket) -> None:
    clock = HandClock(START)
    await claim(ticket.id, ALICE, POLICY, clock)
    clock.advance(minutes=31)
    assert await remind_unclaimed(POLICY, clock) == []
