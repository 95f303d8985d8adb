"""Issue 12 part B in the domain, on SQLite and PostgreSQL: the queue's signature under
replies, the collision state, and tickets agents open (from Slack, for a phone call)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from models import collision
from models.agent_intake import Request, open_for_customer
from models.effects import MAIL_SEND, SLACK_CARD_POST, SLACK_CARD_UPDATE
from models.outbox.items import OutboxItem
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind
from models.store.ticket import History, Replying, Ticket, TicketState
from models.work import Agent, note, reply
from tests.support.clock import HandClock
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

SUPPORT = QueueRoute(
    "Support",
    "C0SUPPORT",
    frozenset({"support@ticketbot.example"}),
    signature="{agent_name}\nExample Support — ticket {number}\n{unknown} {",
)
VERTRIEB = QueueRoute("Vertrieb", "C0VERTRIEB", frozenset({"vertrieb@ticketbot.example"}))
POLICY = Policy(
    queues=(SUPPORT, VERTRIEB),
    address="support@ticketbot.example",
    display_name="Example Support",
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
)
ALICE = Agent("U0ALICE", "Alice Agent")
BOB = Agent("U0BOB", "Bob Agent")
START = datetime(2026, 12, 6, 9, tzinfo=UTC)


@pytest.fixture
async def ticket(database: str) -> Ticket:
    result = await ingest(
        make_mail(message_id="<q1@customer.example>"), POLICY, clock=HandClock(START)
    )
    await OutboxItem.all().delete()
    return await Ticket.get(id=result.ticket_id)


async def kinds() -> list[str]:
    return [o.kind for o in await OutboxItem.all().order_by("id")]


# -- signatures ------------------------------------------------------------------------


async def test_a_reply_carries_the_queues_signature_filled_in(ticket: Ticket) -> None:
    article = await reply(ticket.id, ALICE, "It works again.", POLICY, clock=HandClock(START))
    assert article.body == (
        f"It works again.\n\n-- \nAlice Agent\nExample Support — ticket {ticket.number}\n"
        "{unknown} {\n"
    )


async def test_without_a_queue_signature_the_agent_and_team_sign(ticket: Ticket) -> None:
    plain = replace(POLICY, queues=(replace(SUPPORT, signature=""), VERTRIEB))
    article = await reply(ticket.id, ALICE, "Done.", plain, clock=HandClock(START))
    assert article.body == "Done.\n\n-- \nAlice Agent\nExample Support\n"


async def test_a_note_gets_no_signature(ticket: Ticket) -> None:
    article = await note(ticket.id, ALICE, "Called them.", clock=HandClock(START))
    assert article is not None and article.body == "Called them."


# -- collision -------------------------------------------------------------------------


async def test_opening_the_reply_form_records_who_and_since_when(ticket: Ticket) -> None:
    clock = HandClock(START)
    since = await collision.start_replying(ticket.id, ALICE.user_id, "Alice", clock)
    assert since == START
    clock.advance(minutes=3)
    await collision.start_replying(ticket.id, BOB.user_id, "Bob", clock)
    again = await collision.start_replying(ticket.id, ALICE.user_id, "Alice", clock)
    assert again == START + timedelta(minutes=3)
    writers = await collision.writers(ticket.id, clock())
    assert {(w.user_id, w.name, w.since) for w in writers} == {
        (BOB.user_id, "Bob", again),
        (ALICE.user_id, "Alice", again),
    }
    assert await Replying.filter(ticket_id=ticket.id).count() == 2
    assert await kinds() == [SLACK_CARD_UPDATE] * 3


async def test_sending_or_closing_forgets_the_form(ticket: Ticket) -> None:
    clock = HandClock(START)
    await collision.start_replying(ticket.id, ALICE.user_id, "Alice", clock)
    await OutboxItem.all().delete()
    assert await collision.stop_replying(ticket.id, ALICE.user_id, clock)
    assert await kinds() == [SLACK_CARD_UPDATE]
    assert not await collision.stop_replying(ticket.id, ALICE.user_id, clock)
    assert await kinds() == [SLACK_CARD_UPDATE]  # nothing to say the second time
    assert await collision.writers(ticket.id, clock()) == []


async def test_a_form_open_for_15_minutes_no_longer_counts(ticket: Ticket) -> None:
    clock = HandClock(START)
    await collision.start_replying(ticket.id, ALICE.user_id, "Alice", clock)
    await OutboxItem.all().delete()
    clock.advance(collision.REPLYING_MINUTES * 60 - 1)
    assert len(await collision.writers(ticket.id, clock())) == 1
    assert await collision.expire_replying(clock) == []
    clock.advance(2)
    assert await collision.writers(ticket.id, clock()) == []  # at render, job or not
    assert await collision.expire_replying(clock) == [ticket.id]
    assert await kinds() == [SLACK_CARD_UPDATE]
    assert not await Replying.exists(ticket_id=ticket.id)


async def test_what_arrived_after_the_form_opened(ticket: Ticket) -> None:
    clock = HandClock(START + timedelta(minutes=1))
    opened = await collision.start_replying(ticket.id, BOB.user_id, "Bob", clock)
    assert await collision.arrived_since(ticket.id, BOB.user_id, opened) == []
    clock.advance(minutes=1)
    await reply(ticket.id, ALICE, "Alice's answer", POLICY, clock=clock)
    clock.advance(minutes=1)
    mail = make_mail(
        message_id="<q2@customer.example>",
        subject=f"Re: [Ticket#{ticket.number}] Printer",
        body="Thanks, and one more thing",
    )
    await ingest(mail, POLICY, clock=clock)
    arrived = await collision.arrived_since(ticket.id, BOB.user_id, opened)
    assert [a.kind for a in arrived] == [ArticleKind.EMAIL_IN, ArticleKind.EMAIL_OUT]
    assert "one more thing" in arrived[0].text and arrived[1].author == ALICE.user_id
    # Alice's own reply is no news to Alice, the customer's mail is
    mine = await collision.arrived_since(ticket.id, ALICE.user_id, opened)
    assert [a.kind for a in mine] == [ArticleKind.EMAIL_IN]


async def test_a_deleted_ticket_takes_its_replying_rows_along(ticket: Ticket) -> None:
    await collision.start_replying(ticket.id, ALICE.user_id, "Alice", HandClock(START))
    await Ticket.filter(id=ticket.id).delete()
    assert not await Replying.exists()


# -- tickets agents open ---------------------------------------------------------------


def request(**changes: object) -> Request:
    base = Request(
        customer_email="Eva@Customer.Example",
        customer_name="Eva Müller",
        subject="Drucker  druckt nicht",
        text="Kundin rief an: der Drucker druckt nicht.",
        source="phone",
        agent=ALICE.user_id,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_a_phone_ticket_goes_through_intake_with_a_german_acknowledgement(
    database: str,
) -> None:
    german = replace(POLICY, locale="de")
    result = await open_for_customer(request(acknowledge=True), VERTRIEB, german, HandClock(START))
    ticket = await Ticket.get(id=result.ticket_id)
    assert result.outcome == "new_ticket" and result.autoreply_queued
    assert ticket.number.startswith("20261206") and ticket.queue == "Vertrieb"
    assert ticket.slack_channel == VERTRIEB.channel and ticket.state == TicketState.NEW
    assert ticket.customer_email == "eva@customer.example" and ticket.subject == (
        "Drucker druckt nicht"
    )
    [first, ack] = await Article.filter(ticket_id=ticket.id).order_by("id")
    assert first.kind == ArticleKind.EMAIL_IN and first.body.startswith("Kundin rief an")
    assert ack.is_autoreply and ack.to_address == "eva@customer.example"
    assert ack.subject == f"[Ticket#{ticket.number}] Drucker druckt nicht"
    assert ack.body.startswith("Guten Tag,") and ticket.number in ack.body
    [created] = await History.filter(ticket_id=ticket.id)
    assert created.actor == ALICE.user_id and created.detail["source"] == "phone"
    assert await kinds() == [SLACK_CARD_POST, MAIL_SEND]


async def test_a_ticket_from_slack_keeps_the_permalink_and_sends_nothing_unasked(
    database: str,
) -> None:
    link = "https://example.slack.com/archives/C0SUPPORT/p1765000000000100"
    result = await open_for_customer(
        request(source="slack", permalink=link), SUPPORT, POLICY, HandClock(START)
    )
    assert not result.autoreply_queued
    [first] = await Article.filter(ticket_id=result.ticket_id)
    assert first.body.endswith(f"(From a Slack message: {link})")
    [created] = await History.filter(ticket_id=result.ticket_id)
    assert created.detail["permalink"] == link and created.detail["source"] == "slack"
    assert await kinds() == [SLACK_CARD_POST]


async def test_numbers_of_agent_tickets_and_mail_tickets_share_the_counter(
    database: str,
) -> None:
    clock = HandClock(START)
    by_mail = await ingest(make_mail(message_id="<a@customer.example>"), POLICY, clock=clock)
    by_phone = await open_for_customer(request(), SUPPORT, POLICY, clock)
    assert by_mail.ticket_number is not None and by_phone.ticket_number is not None
    assert int(by_phone.ticket_number[:-1]) == int(by_mail.ticket_number[:-1]) + 1  # checksum


async def test_the_acknowledgement_of_a_phone_ticket_obeys_the_flood_caps(
    database: str,
) -> None:
    capped = replace(POLICY, autoreply_max_per_sender_per_day=1)
    clock = HandClock(START)
    first = await open_for_customer(request(acknowledge=True), SUPPORT, capped, clock)
    second = await open_for_customer(request(acknowledge=True), SUPPORT, capped, clock)
    assert first.autoreply_queued and not second.autoreply_queued
    assert "max_per_sender_per_day" in second.note
