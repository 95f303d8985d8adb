"""Working as a team (issue 12, part A): priority, transfer, merge, customer history, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from models.effects import SLACK_CARD_MOVE, SLACK_CARD_UPDATE, SLACK_THREAD_NOTICE
from models.events import HistoryEvent, Notice, Refusal
from models.outbox.items import OutboxItem
from models.policy import Policy, QueueRoute
from models.priority import Priority
from models.store.article import Article, ArticleKind
from models.store.ticket import History, Ticket, TicketState
from models.team import customer_history, history_of, merge, set_priority, transfer
from models.views import conversation_of, open_tickets_of, ticket_summary, unclaimed_in
from models.work import Agent, Refused, claim, note, reopen
from tests.support.clock import HandClock
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

POLICY = Policy(
    queues=(
        QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),
        QueueRoute("Billing", "C0BILLING", frozenset({"billing@ticketbot.example"})),
    ),
    address="support@ticketbot.example",
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
)
HOOK = POLICY.ticket_hook
ALICE = Agent("U0ALICE", "Alice Agent")
START = datetime(2026, 11, 25, 9, tzinfo=UTC)


@contextmanager
def refused(reason: Refusal, **facts: str) -> Iterator[None]:
    with pytest.raises(Refused) as caught:
        yield
    assert caught.value.reason is reason, caught.value
    assert facts.items() <= caught.value.facts.items(), caught.value.facts


async def new_ticket(clock: HandClock, n: int, **overrides: object) -> Ticket:
    fields: dict[str, object] = {
        "message_id": f"<q{n}@customer.example>",
        "subject": f"Question {n}",
    }
    fields.update(overrides)
    result = await ingest(make_mail(**fields), POLICY, clock=clock)  # type: ignore[arg-type]
    clock.advance(minutes=1)
    assert result.ticket_id is not None
    return await Ticket.get(id=result.ticket_id)


async def outbox() -> list[tuple[str, dict[str, object]]]:
    return [(o.kind, o.payload) for o in await OutboxItem.all().order_by("id")]


async def events(ticket_id: int) -> list[tuple[str, str, dict[str, object]]]:
    rows = await History.filter(ticket_id=ticket_id).order_by("id")
    return [(h.event, h.actor, h.detail) for h in rows]


# -- priority -------------------------------------------------------------------------------


async def test_a_mail_marked_important_starts_high(database: str) -> None:
    clock = HandClock(START)
    plain = await new_ticket(clock, 1)
    important = await new_ticket(clock, 2, headers={"X-Priority": "1 (Highest)"})
    outlook = await new_ticket(clock, 3, headers={"Importance": "High"})
    garbage = await new_ticket(clock, 4, headers={"X-Priority": "\x00" * 20 + "1"})
    assert [t.priority for t in (plain, important, outlook, garbage)] == [
        Priority.NORMAL,
        Priority.HIGH,
        Priority.HIGH,
        Priority.NORMAL,
    ]


async def test_set_priority_records_history_and_rerenders_the_card(database: str) -> None:
    clock = HandClock(START)
    ticket = await new_ticket(clock, 1)
    await OutboxItem.all().delete()
    assert await set_priority(ticket.id, ALICE, Priority.URGENT, clock)
    assert not await set_priority(ticket.id, ALICE, Priority.URGENT, clock)  # no change, no row
    assert (await Ticket.get(id=ticket.id)).priority == Priority.URGENT
    assert (await events(ticket.id))[-1] == (
        HistoryEvent.PRIORITY_CHANGED,
        "U0ALICE",
        {"from": "normal", "to": "urgent"},
    )
    assert [kind for kind, _ in await outbox()] == [SLACK_CARD_UPDATE]


async def test_queue_and_home_lists_put_urgent_first_then_oldest(database: str) -> None:
    clock = HandClock(START)
    tickets = [await new_ticket(clock, n) for n in range(1, 6)]
    await set_priority(tickets[3].id, ALICE, Priority.URGENT, clock)
    await set_priority(tickets[2].id, ALICE, Priority.HIGH, clock)
    await set_priority(tickets[0].id, ALICE, Priority.LOW, clock)
    waiting = await unclaimed_in(["C0SUPPORT"])
    assert [t.id for t in waiting] == [tickets[i].id for i in (3, 2, 1, 4, 0)]
    for t in tickets:
        await claim(t.id, ALICE, POLICY, clock)
    mine = await open_tickets_of("U0ALICE", channels=["C0SUPPORT"])
    assert [t.id for t in mine] == [tickets[i].id for i in (3, 2, 1, 4, 0)]


# -- transfer -------------------------------------------------------------------------------


async def test_transfer_moves_the_ticket_and_its_card(database: str) -> None:
    clock = HandClock(START)
    ticket = await new_ticket(clock, 1)
    await claim(ticket.id, ALICE, POLICY, clock)
    await OutboxItem.all().delete()
    moved = await transfer(ticket.id, ALICE, "Billing", POLICY, owner_stays=False, clock=clock)
    assert (moved.queue, moved.owner_id, moved.state) == ("Billing", None, TicketState.NEW)
    # The card and its thread stay where they are until the new card is posted.
    assert moved.slack_channel == "C0SUPPORT"
    assert (await events(ticket.id))[-1] == (
        HistoryEvent.TRANSFERRED,
        "U0ALICE",
        {"from": "Support", "to": "Billing", "released": "U0ALICE"},
    )
    items = await outbox()
    assert [kind for kind, _ in items] == [SLACK_CARD_MOVE, SLACK_THREAD_NOTICE]
    assert items[0][1] == {
        "ticket_id": ticket.id,
        "channel": "C0BILLING",
        "pointer": {"agent": "U0ALICE", "number": f"{HOOK}{ticket.number}", "queue": "Billing"},
    }
    assert items[1][1]["notice"] == Notice.MOVED_FROM
    assert {o.stream for o in await OutboxItem.all()} == {f"slack:{ticket.id}"}


async def test_transfer_keeps_the_claim_of_an_agent_of_the_new_queue(database: str) -> None:
    clock = HandClock(START)
    ticket = await new_ticket(clock, 1)
    await claim(ticket.id, ALICE, POLICY, clock)
    moved = await transfer(ticket.id, ALICE, "Billing", POLICY, owner_stays=True, clock=clock)
    assert (moved.owner_id, moved.state) == ("U0ALICE", TicketState.OPEN)


async def test_transfer_refusals(database: str) -> None:
    clock = HandClock(START)
    ticket = await new_ticket(clock, 1)
    with refused(Refusal.SAME_QUEUE, queue="Support"):
        await transfer(ticket.id, ALICE, "Support", POLICY, owner_stays=False, clock=clock)
    with refused(Refusal.NO_QUEUE, queue="Nowhere"):
        await transfer(ticket.id, ALICE, "Nowhere", POLICY, owner_stays=False, clock=clock)
    with refused(Refusal.NO_TICKET):
        await transfer(10**12, ALICE, "Billing", POLICY, owner_stays=False, clock=clock)
    assert (await Ticket.get(id=ticket.id)).queue == "Support"


# -- merge ----------------------------------------------------------------------------------


async def test_merge_moves_everything_into_the_survivor(database: str) -> None:
    clock = HandClock(START)
    survivor = await new_ticket(clock, 1)
    merged = await new_ticket(clock, 2, attachments=[("log.txt", "text/plain", b"log")])
    await note(merged.id, ALICE, "called them", minutes=15, clock=clock)
    clock.advance(minutes=1)
    await note(survivor.id, ALICE, "later note", clock=clock)
    clock.advance(minutes=1)
    await OutboxItem.all().delete()

    result = await merge(merged.id, survivor.id, ALICE, POLICY, clock)

    assert result.id == survivor.id
    gone = await Ticket.get(id=merged.id)
    assert (gone.state, gone.merged_into_id) == (TicketState.CLOSED, survivor.id)
    articles = [a for a in await conversation_of(survivor.id) if not a.is_autoreply]
    assert [a.subject or a.body for a in articles] == [
        "Question 1",
        "Question 2",
        "called them",
        "later note",
    ]  # ordered by time, not by id
    assert await Article.filter(ticket_id=merged.id).count() == 0
    assert sum(a.minutes_spent for a in articles) == 15
    moved = [a for a in articles if a.kind == ArticleKind.EMAIL_IN][1]
    assert [f.filename for f in await moved.attachments.all()] == ["log.txt"]
    assert (await events(merged.id))[-1][0] == HistoryEvent.MERGED_INTO
    assert (await events(survivor.id))[-1][:2] == (HistoryEvent.MERGED_FROM, "U0ALICE")
    # The survivor's history shows both tickets' rows, oldest first, each row once.
    shown = [(h.ticket_id, h.event) for h in await history_of(survivor.id)]
    assert shown[0] == (survivor.id, HistoryEvent.CREATED)
    assert (merged.id, HistoryEvent.CREATED) in shown
    assert shown[-1] == (survivor.id, HistoryEvent.MERGED_FROM)
    assert [kind for kind, _ in await outbox()] == [
        SLACK_CARD_UPDATE,
        SLACK_THREAD_NOTICE,
        SLACK_CARD_UPDATE,
    ]


async def test_the_survivors_card_keeps_its_own_request(database: str) -> None:
    """An older ticket merged into a younger one: the card still shows the survivor's own
    first mail, and the merged card points to the survivor."""
    clock = HandClock(START)
    older = await new_ticket(clock, 1, body="The older question.\n")
    survivor = await new_ticket(clock, 2, body="The younger question.\n")
    await merge(older.id, survivor.id, ALICE, POLICY, clock)
    shown = await ticket_summary(survivor.id)
    assert "younger" in shown.excerpt and shown.merged_into_number is None
    pointer = await ticket_summary(older.id)
    assert pointer.merged_into_number == survivor.number


async def test_merge_refusals(database: str) -> None:
    clock = HandClock(START)
    a = await new_ticket(clock, 1)
    b = await new_ticket(clock, 2)
    c = await new_ticket(clock, 3)
    with refused(Refusal.MERGE_SELF, number=a.number):
        await merge(a.id, a.id, ALICE, POLICY, clock)
    await merge(b.id, a.id, ALICE, POLICY, clock)
    with refused(Refusal.MERGE_INTO_MERGED, number=b.number, survivor=a.number):
        await merge(c.id, b.id, ALICE, POLICY, clock)
    with refused(Refusal.MERGED, number=b.number, survivor=a.number):
        await merge(b.id, c.id, ALICE, POLICY, clock)
    with refused(Refusal.MERGED):
        await set_priority(b.id, ALICE, Priority.HIGH, clock)
    with refused(Refusal.MERGED):
        await transfer(b.id, ALICE, "Billing", POLICY, owner_stays=False, clock=clock)
    with refused(Refusal.MERGED):
        await reopen(b.id, ALICE, clock)
    assert (await Ticket.get(id=c.id)).merged_into_id is None


async def test_crossed_merges_at_once_leave_exactly_one_survivor(database: str) -> None:
    clock = HandClock(START)
    a = await new_ticket(clock, 1)
    b = await new_ticket(clock, 2)
    results = await asyncio.gather(
        merge(a.id, b.id, ALICE, POLICY, clock),
        merge(b.id, a.id, ALICE, POLICY, clock),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(refused) == 1, results
    assert refused[0].reason in (Refusal.MERGED, Refusal.MERGE_INTO_MERGED)
    merged = [t for t in await Ticket.filter(id__in=[a.id, b.id]) if t.merged_into_id]
    assert len(merged) == 1


async def test_mail_to_a_merged_number_lands_in_the_survivor(database: str) -> None:
    clock = HandClock(START)
    survivor = await new_ticket(clock, 1)
    merged = await new_ticket(clock, 2)
    await merge(merged.id, survivor.id, ALICE, POLICY, clock)
    by_hook = await ingest(
        make_mail(
            message_id="<q3@customer.example>",
            subject=f"Re: [{HOOK}{merged.number}] Question 2",
        ),
        POLICY,
        clock=clock,
    )
    assert (by_hook.outcome, by_hook.ticket_id) == ("followup", survivor.id)
    by_reference = await ingest(
        make_mail(
            message_id="<q4@customer.example>",
            subject="Re: Question 2",
            in_reply_to="<q2@customer.example>",
        ),
        POLICY,
        clock=clock,
    )
    assert (by_reference.outcome, by_reference.ticket_id) == ("followup", survivor.id)
    assert (await Ticket.get(id=merged.id)).state == TicketState.CLOSED


# -- customer history -----------------------------------------------------------------------


async def test_customer_history_lists_visible_tickets_and_counts_the_rest(database: str) -> None:
    clock = HandClock(START)
    first = await new_ticket(clock, 1)
    billing = await new_ticket(clock, 2, to="billing@ticketbot.example")
    third = await new_ticket(clock, 3, **{"from": "Alice <ALICE@example.com>"})
    await new_ticket(clock, 4, **{"from": "someone@else.example"})
    current = await new_ticket(clock, 5)
    assert billing.queue == "Billing"
    seen = await customer_history(current, ["C0SUPPORT"])
    assert [t.id for t in seen.tickets] == [third.id, first.id]  # newest first, any case
    assert seen.hidden == 1
    everything = await customer_history(current, ["C0SUPPORT", "C0BILLING"], limit=2)
    assert [t.id for t in everything.tickets] == [third.id, billing.id]
    assert everything.hidden == 0
    nothing = await customer_history(current, [])
    assert (nothing.tickets, nothing.hidden) == ([], 3)
