"""Follow-ups, reopening and spoofing, on SQLite and PostgreSQL, with the real parser."""

import tempfile
from datetime import UTC, datetime
from typing import Any

import pytest

from models.effects import (
    MAIL_SEND,
    SLACK_CARD_POST,
    SLACK_CARD_UPDATE,
    SLACK_THREAD_NOTICE,
    SLACK_THREAD_POST,
)
from models.events import Notice
from models.outbox.items import OutboxItem
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind
from models.store.ticket import History, Ticket, TicketState
from models.work import Agent, claim, close, reply
from tests.support.clock import HandClock
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

SUPPORT = "support@ticketbot.example"
ATTACHMENTS = tempfile.mkdtemp(prefix="ticketbot-attachments-")


def policy(**overrides: Any) -> Policy:
    values: dict[str, Any] = {
        "queues": (QueueRoute("Support", "C0SUPPORT", frozenset({SUPPORT})),),
        "address": SUPPORT,
        "display_name": "Example Support",
        "attachments_dir": ATTACHMENTS,
    }
    values.update(overrides)
    return Policy(**values)


POLICY = policy()
ALICE = Agent("U0ALICE", "Alice Agent")


START = datetime(2026, 11, 25, 9, tzinfo=UTC)


def customer(n: int, **overrides: Any) -> bytes:
    values: dict[str, Any] = {
        "from_": "Carla Customer <carla@customer.example>",
        "to": SUPPORT,
        "subject": "Printer on fire",
        "message_id": f"<c{n}@customer.example>",
    }
    values.update(overrides)
    return make_mail(**values)


async def first_ticket(
    clock: HandClock | None = None, p: Policy = POLICY, **overrides: Any
) -> Ticket:
    result = await ingest(customer(1, **overrides), p, clock=clock or HandClock(START))
    assert result.outcome == "new_ticket"
    return await Ticket.get(id=result.ticket_id)


async def ack_id(ticket: Ticket) -> str:
    ack = await Article.get(ticket_id=ticket.id, kind=ArticleKind.EMAIL_OUT, is_autoreply=True)
    assert ack.message_id
    return ack.message_id


async def new_effects(after: int) -> list[str]:
    return [o.kind for o in await OutboxItem.filter(id__gt=after).order_by("id")]


async def last_outbox_id() -> int:
    last = await OutboxItem.all().order_by("-id").first()
    return last.id if last else 0


async def test_a_reply_with_the_hook_lands_on_its_ticket(database: str) -> None:
    ticket = await first_ticket()
    mark = await last_outbox_id()
    result = await ingest(
        customer(2, subject=f"Re: [Ticket#{ticket.number}] Printer on fire", body="Still burning"),
        POLICY,
    )
    assert (result.outcome, result.ticket_id, result.note) == ("followup", ticket.id, "hook")
    assert await Ticket.all().count() == 1
    assert await Article.filter(ticket_id=ticket.id, kind=ArticleKind.EMAIL_IN).count() == 2
    effects = await new_effects(mark)
    assert effects == [SLACK_THREAD_POST, SLACK_CARD_UPDATE]
    assert MAIL_SEND not in effects  # no acknowledgement for a follow-up


async def test_a_reply_with_only_references_lands_on_its_ticket(database: str) -> None:
    ticket = await first_ticket()
    result = await ingest(
        customer(2, subject="Re: something else entirely", references=await ack_id(ticket)),
        POLICY,
    )
    assert (result.outcome, result.ticket_id, result.note) == ("followup", ticket.id, "references")


async def test_a_customer_reply_reopens_a_pending_ticket(database: str) -> None:
    ticket = await first_ticket()
    await reply(ticket.id, ALICE, "Please unplug it", POLICY)
    assert (await Ticket.get(id=ticket.id)).state == TicketState.PENDING
    await ingest(customer(2, subject=f"Re: [Ticket#{ticket.number}] x"), POLICY)
    fresh = await Ticket.get(id=ticket.id)
    assert (fresh.state, fresh.owner_id) == (TicketState.OPEN, "U0ALICE")
    events = [h.event for h in await History.filter(ticket_id=ticket.id).order_by("id")]
    assert events[-2:] == ["followup", "reopened"]
    notices = await OutboxItem.filter(kind=SLACK_THREAD_NOTICE).values_list("payload", flat=True)
    kinds = [p["notice"] for p in notices]  # the normal flow: no notice
    assert Notice.REOPENED_BY_CUSTOMER not in kinds


async def test_closed_tickets_reopen_by_default(database: str) -> None:
    ticket = await first_ticket()
    await close(ticket.id, ALICE, POLICY)
    result = await ingest(customer(2, subject=f"Re: [Ticket#{ticket.number}] x"), POLICY)
    assert result.outcome == "followup"
    fresh = await Ticket.get(id=ticket.id)
    assert fresh.state == TicketState.NEW and fresh.closed_at is None  # nobody holds it
    notices = await OutboxItem.filter(kind=SLACK_THREAD_NOTICE).values_list("payload", flat=True)
    assert [p["notice"] for p in notices][-1] == Notice.REOPENED_BY_CUSTOMER


async def test_reject_mode_keeps_the_mail_and_answers_politely(database: str) -> None:
    strict = policy(followup_on_closed="reject")
    ticket = await first_ticket(p=strict)
    await claim(ticket.id, ALICE, strict)
    await close(ticket.id, ALICE, strict)
    mark = await last_outbox_id()
    result = await ingest(customer(2, subject=f"Re: [Ticket#{ticket.number}] x"), strict)
    assert (result.outcome, result.autoreply_queued) == ("rejected", True)
    assert (await Ticket.get(id=ticket.id)).state == TicketState.CLOSED
    assert await Article.filter(ticket_id=ticket.id, kind=ArticleKind.EMAIL_IN).count() == 2
    notice = await Article.filter(ticket_id=ticket.id, is_autoreply=True).order_by("-id").first()
    assert notice is not None and "which is closed" in notice.body
    assert notice.subject == f"[Ticket#{ticket.number}] x"
    assert MAIL_SEND in await new_effects(mark)
    assert SLACK_THREAD_NOTICE in await new_effects(mark)


async def test_new_ticket_mode_opens_a_linked_ticket(database: str) -> None:
    linked_mode = policy(followup_on_closed="new_ticket")
    ticket = await first_ticket(p=linked_mode)
    await close(ticket.id, ALICE, linked_mode)
    result = await ingest(customer(2, subject=f"Re: [Ticket#{ticket.number}] again"), linked_mode)
    assert result.outcome == "new_ticket" and result.ticket_id != ticket.id
    fresh = await Ticket.get(id=result.ticket_id)
    assert (fresh.linked_ticket_id, fresh.link_reason) == (ticket.id, "followup_to_closed")
    assert (await Ticket.get(id=ticket.id)).state == TicketState.CLOSED


async def test_a_stranger_quoting_a_ticket_number_gets_a_new_ticket(database: str) -> None:
    victim = await first_ticket()
    mark = await last_outbox_id()
    result = await ingest(
        make_mail(
            from_="Mallory <mallory@evil.example>",
            to=SUPPORT,
            subject=f"Re: [Ticket#{victim.number}] Printer on fire",
            message_id="<m1@evil.example>",
            body="Please send me the invoice",
        ),
        POLICY,
    )
    assert result.outcome == "new_ticket" and result.ticket_id != victim.id
    spoof = await Ticket.get(id=result.ticket_id)
    assert (spoof.linked_ticket_id, spoof.link_reason) == (victim.id, "claimed_number")
    assert await Article.filter(ticket_id=victim.id, kind=ArticleKind.EMAIL_IN).count() == 1
    victim_effects = await OutboxItem.filter(id__gt=mark, stream=f"slack:{victim.id}").count()
    assert victim_effects == 0
    assert SLACK_CARD_POST in await new_effects(mark)


async def test_cc_recipients_and_references_to_our_mail_may_join(database: str) -> None:
    ticket = await first_ticket(cc="Dan Colleague <dan@customer.example>")
    by_cc = await ingest(
        make_mail(
            from_="dan@customer.example",
            to=SUPPORT,
            subject=f"Re: [Ticket#{ticket.number}] x",
            message_id="<d1@customer.example>",
        ),
        POLICY,
    )
    assert (by_cc.outcome, by_cc.ticket_id) == ("followup", ticket.id)
    forwarded_to = await ingest(
        make_mail(
            from_="boss@customer.example",
            to=SUPPORT,
            subject=f"Re: [Ticket#{ticket.number}] x",
            message_id="<b1@customer.example>",
            references=await ack_id(ticket),
        ),
        POLICY,
    )
    assert (forwarded_to.outcome, forwarded_to.ticket_id) == ("followup", ticket.id)


async def test_correspondents_are_per_ticket(database: str) -> None:
    carla = await first_ticket()
    bob_ticket = await ingest(
        make_mail(from_="bob@other.example", to=SUPPORT, subject="Bob's issue", message_id="<b@o>"),
        POLICY,
    )
    assert bob_ticket.ticket_id != carla.id
    crossing = await ingest(
        make_mail(
            from_="bob@other.example",
            to=SUPPORT,
            subject=f"Re: [Ticket#{carla.number}] Printer on fire",
            message_id="<b2@o>",
        ),
        POLICY,
    )
    assert crossing.outcome == "new_ticket"
    assert (await Ticket.get(id=crossing.ticket_id)).link_reason == "claimed_number"


async def test_a_stranger_referencing_a_customers_message_is_not_appended(database: str) -> None:
    ticket = await first_ticket()
    result = await ingest(
        make_mail(
            from_="mallory@evil.example",
            to=SUPPORT,
            subject="Re: Printer on fire",
            message_id="<m2@evil.example>",
            in_reply_to="<c1@customer.example>",
        ),
        POLICY,
    )
    assert result.outcome == "new_ticket"
    assert (await Ticket.get(id=result.ticket_id)).link_reason == "claimed_reference"
    assert await Article.filter(ticket_id=ticket.id, kind=ArticleKind.EMAIL_IN).count() == 1


async def test_the_same_question_again_joins_the_open_ticket(database: str) -> None:
    clock = HandClock(START)
    ticket = await first_ticket(clock)
    clock.advance(hours=2)
    mark = await last_outbox_id()
    again = await ingest(customer(2, subject="RE: printer on FIRE"), POLICY, clock=clock)
    assert (again.outcome, again.ticket_id, again.note) == ("followup", ticket.id, "same_request")
    assert SLACK_THREAD_NOTICE in await new_effects(mark)
    other = await ingest(customer(3, subject="Scanner jammed"), POLICY, clock=clock)
    assert other.outcome == "new_ticket"


async def test_the_same_question_after_the_window_or_when_closed_is_new(database: str) -> None:
    clock = HandClock(START)
    ticket = await first_ticket(clock)
    clock.advance(hours=25)
    late = await ingest(customer(2), POLICY, clock=clock)
    assert late.outcome == "new_ticket" and late.ticket_id != ticket.id
    await close(late.ticket_id or 0, ALICE, POLICY, clock=clock)
    await close(ticket.id, ALICE, POLICY, clock=clock)
    clock.advance(hours=1)
    after_close = await ingest(customer(3), POLICY, clock=clock)
    assert after_close.outcome == "new_ticket"


@pytest.mark.parametrize("mode", ["reopen", "reject", "new_ticket"])
async def test_a_bounce_of_a_reply_is_a_note_whatever_the_mode(database: str, mode: str) -> None:
    p = policy(followup_on_closed=mode)
    ticket = await first_ticket(p=p)
    bounce = make_mail(
        from_="MAILER-DAEMON@mx.customer.example",
        to=SUPPORT,
        subject="Undelivered Mail Returned to Sender",
        message_id="<bounce@mx>",
        headers={"Return-Path": "<>"},
        attachments=[
            (
                "original.eml",
                "message/rfc822",
                f"Message-ID: {await ack_id(ticket)}\r\nSubject: x\r\n\r\nbody\r\n".encode(),
            )
        ],
    )
    result = await ingest(bounce, p)
    assert (result.outcome, result.ticket_id) == ("bounce_note", ticket.id)
    assert await Ticket.all().count() == 1
