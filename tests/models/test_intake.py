"""The domain's handling of one inbound mail, on SQLite and PostgreSQL, with the real parser."""

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta

import pytest

from mail.parse import parse_mail
from models.autoreply import RecentAnswers
from models.effects import (
    MAIL_SEND,
    SLACK_CARD_POST,
    SLACK_FILE_UPLOAD,
    SLACK_THREAD_NOTICE,
    SLACK_THREAD_POST,
    slack_stream,
)
from models.intake import recent_answers
from models.numbers import is_valid_number
from models.outbox.items import OutboxItem
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind, Attachment, InboundMessage
from models.store.ticket import History, Ticket, TicketState
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

POLICY = Policy(
    queues=(
        QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),
        QueueRoute("Sales", "C0SALES", frozenset({"sales@ticketbot.example"})),
    ),
    address="support@ticketbot.example",
    display_name="Example Support",
    autoreply_max_per_sender_per_day=3,
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
)


async def kinds() -> list[str]:
    return [item.kind for item in await OutboxItem.all().order_by("id")]


async def test_a_new_mail_becomes_a_ticket_with_card_and_acknowledgement(database: str) -> None:
    raw = make_mail(attachments=[("report.pdf", "application/pdf", b"%PDF-1.4 test")])
    result = await ingest(raw, POLICY)

    assert result.outcome == "new_ticket"
    assert result.autoreply_queued
    ticket = await Ticket.get(id=result.ticket_id)
    assert is_valid_number(ticket.number)
    assert ticket.state == TicketState.NEW
    assert ticket.customer_email == "alice@example.com"
    assert ticket.slack_channel == "C0SUPPORT"
    inbound = await InboundMessage.get(ticket_id=ticket.id)
    assert inbound.raw_source == raw
    articles = await Article.filter(ticket_id=ticket.id).order_by("id")
    assert [a.kind for a in articles] == [ArticleKind.EMAIL_IN, ArticleKind.EMAIL_OUT]
    ack = articles[1]
    assert ack.subject == f"[Ticket#{ticket.number}] Printer on floor 3 is broken"
    assert ack.in_reply_to == "<20260115093000.1234@example.com>"
    assert ack.references == ["<20260115093000.1234@example.com>"]
    assert ack.message_id and ack.message_id.endswith("@ticketbot.example>")
    assert ack.recipients == ["alice@example.com"]
    attachment = await Attachment.get(article_id=articles[0].id)
    assert (attachment.filename, attachment.size) == ("report.pdf", 13)
    assert await kinds() == [SLACK_CARD_POST, SLACK_THREAD_POST, SLACK_FILE_UPLOAD, MAIL_SEND]
    assert await History.filter(ticket_id=ticket.id, event="created").count() == 1


async def test_the_same_mail_twice_is_one_ticket(database: str) -> None:
    raw = make_mail()
    first = await ingest(raw, POLICY)
    # The same mail delivered again along another route: different trace headers.
    again = (
        b"Received: from relay2.example.net by mx\r\nDelivered-To: support@ticketbot.example\r\n"
        + raw
    )
    second = await ingest(raw, POLICY)
    third = await ingest(again, POLICY)
    assert first.outcome == "new_ticket"
    assert (second.outcome, third.outcome) == ("duplicate", "duplicate")
    assert await Ticket.all().count() == 1
    assert await InboundMessage.all().count() == 1
    assert await kinds() == [SLACK_CARD_POST, MAIL_SEND]


async def test_concurrent_copies_of_one_mail_store_it_once(database: str) -> None:
    raw = make_mail()
    results = await asyncio.gather(*(ingest(raw, POLICY) for _ in range(5)), return_exceptions=True)
    outcomes = sorted(r.outcome for r in results if not isinstance(r, BaseException))
    assert outcomes.count("new_ticket") == 1
    assert await Ticket.all().count() == 1


async def test_reused_message_id_with_other_content_is_kept_and_noted(database: str) -> None:
    await ingest(make_mail(body="first"), POLICY)
    # A broken client reusing the id: other content (and another question).
    result = await ingest(make_mail(body="something else", subject="Other question"), POLICY)
    assert result.outcome == "new_ticket"
    assert await Ticket.all().count() == 2
    assert await History.filter(ticket_id=result.ticket_id, event="message_id_clash").exists()


@pytest.mark.parametrize(
    ("headers", "from_", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, None, "automatic mail"),
        ({"Precedence": "bulk"}, None, "automatic mail"),
        ({"List-Id": "<news.example.com>"}, None, "automatic mail"),
        ({"Return-Path": "<>"}, None, "automatic mail"),
        ({}, "MAILER-DAEMON@example.com", "automatic mail"),
        ({}, "Support <support@ticketbot.example>", "our own address"),
    ],
)
async def test_no_acknowledgement_to_automatic_mail(
    database: str, headers: dict[str, str], from_: str | None, reason: str
) -> None:
    raw = make_mail(headers=headers, **({"from_": from_} if from_ else {}))
    result = await ingest(raw, POLICY)
    assert result.outcome == "new_ticket"
    assert not result.autoreply_queued
    assert reason in result.note
    assert await kinds() == [SLACK_CARD_POST]
    suppressed = await History.get(ticket_id=result.ticket_id, event="autoreply_suppressed")
    assert reason in str(suppressed.detail["reason"])


async def test_acknowledgements_per_sender_are_capped(database: str) -> None:
    results = [
        await ingest(make_mail(message_id=f"<m{i}@example.com>", subject=f"Q{i}"), POLICY)
        for i in range(5)
    ]
    assert [r.autoreply_queued for r in results] == [True, True, True, False, False]
    assert "3 auto-replies" in results[3].note
    other = await ingest(make_mail(from_="bob@example.com", message_id="<b@example.com>"), POLICY)
    assert other.autoreply_queued


async def test_the_cap_is_a_rolling_day(database: str) -> None:
    start = datetime(2026, 11, 25, 8, tzinfo=UTC)
    for i in range(3):
        await ingest(
            make_mail(message_id=f"<m{i}@example.com>", subject=f"Q{i}"),
            POLICY,
            clock=lambda: start,
        )
    later = start + timedelta(hours=25)
    result = await ingest(make_mail(message_id="<late@example.com>"), POLICY, clock=lambda: later)
    assert result.autoreply_queued


async def test_routing_by_recipient_and_default_queue(database: str) -> None:
    sales = await ingest(
        make_mail(to="sales@ticketbot.example", message_id="<s@x>", subject="Quote"), POLICY
    )
    other = await ingest(
        make_mail(to="someone@else.example", message_id="<o@x>", subject="Hi"), POLICY
    )
    bcc = await ingest(
        make_mail(
            to="undisclosed-recipients:;",
            headers={"Delivered-To": "sales@ticketbot.example"},
            message_id="<d@x>",
            subject="Bcc'd",
        ),
        POLICY,
    )
    assert (await Ticket.get(id=sales.ticket_id)).queue == "Sales"
    assert (await Ticket.get(id=other.ticket_id)).queue == "Support"
    assert (await Ticket.get(id=bcc.ticket_id)).slack_channel == "C0SALES"


async def test_a_bounce_of_our_mail_is_a_note_not_a_ticket(database: str) -> None:
    first = await ingest(make_mail(), POLICY)
    ack = await Article.get(ticket_id=first.ticket_id, kind=ArticleKind.EMAIL_OUT)
    bounce = make_mail(
        from_="MAILER-DAEMON@mx.example.com",
        to="support@ticketbot.example",
        subject="Undelivered Mail Returned to Sender",
        message_id="<bounce1@mx.example.com>",
        headers={"Return-Path": "<>"},
        attachments=[
            (
                "original.eml",
                "message/rfc822",
                f"Message-ID: {ack.message_id}\r\nSubject: x\r\n\r\nbody\r\n".encode(),
            )
        ],
    )
    parsed = parse_mail(bounce)
    if not parsed.is_bounce:
        pytest.skip("the parser does not classify this synthetic bounce")
    result = await ingest(bounce, POLICY)
    assert result.outcome == "bounce_note"
    assert result.ticket_id == first.ticket_id
    assert await Ticket.all().count() == 1
    assert await Article.filter(ticket_id=first.ticket_id, kind=ArticleKind.NOTE).count() == 1
    assert (await kinds())[-1] == SLACK_THREAD_POST


async def test_an_unparseable_mail_still_becomes_a_ticket(database: str) -> None:
    raw = b"\x00\xff\xfe garbage without any headers \x00\r\n\r\n\x80\x81"
    result = await ingest(raw, POLICY)
    assert result.outcome == "new_ticket"
    ticket = await Ticket.get(id=result.ticket_id)
    assert ticket.customer_email == ""
    assert (await InboundMessage.get(ticket_id=ticket.id)).raw_source == raw
    assert not result.autoreply_queued


def _over_attachment_limit(**overrides: object) -> bytes:
    files = [(f"f{n}.txt", "text/plain", b"x") for n in range(60)]  # max_attachments is 50
    return make_mail(attachments=files, **overrides)  # type: ignore[arg-type]


async def test_a_first_mail_read_in_part_warns_on_the_card_and_queues_the_card_first(
    database: str,
) -> None:
    result = await ingest(_over_attachment_limit(), POLICY)

    [article] = await Article.filter(ticket_id=result.ticket_id, kind=ArticleKind.EMAIL_IN)
    assert article.incomplete and "attachments" in article.incomplete
    streams = await OutboxItem.filter(stream=slack_stream(result.ticket_id)).order_by("id")
    # The card heads its stream: a thread post before it would wait for it forever.
    assert streams[0].kind == SLACK_CARD_POST
    assert SLACK_THREAD_NOTICE not in await kinds()


async def test_a_follow_up_read_in_part_is_warned_about_in_the_thread(database: str) -> None:
    first = await ingest(make_mail(), POLICY)
    ticket = await Ticket.get(id=first.ticket_id)
    await OutboxItem.all().delete()
    followup = _over_attachment_limit(
        subject=f"Re: [Ticket#{ticket.number}] Printer on floor 3 is broken",
        message_id="<followup-1@example.com>",
    )
    assert (await ingest(followup, POLICY)).outcome == "followup"

    items = await OutboxItem.all().order_by("id")
    kinds_now = [item.kind for item in items]
    assert kinds_now.index(SLACK_THREAD_POST) < kinds_now.index(SLACK_THREAD_NOTICE)
    [notice] = [item for item in items if item.kind == SLACK_THREAD_NOTICE]
    assert notice.payload["notice"] == "read_in_part"
    assert "attachments" in notice.payload["facts"]["reason"]


async def test_recent_answers_count_the_recipient_the_domain_and_the_hour(database: str) -> None:
    """One statement counts all three caps; a domain is the whole part after the "@"."""
    for n, sender in enumerate(["c@ab.example", "d@ab.example", "e@xab.example", "f@x.org"]):
        await ingest(make_mail(from_=sender, message_id=f"<r{n}@example.com>"), POLICY)
    counted = await recent_answers("c@ab.example", datetime.now(UTC))
    assert counted == RecentAnswers(to_recipient_last_day=1, last_hour=4, to_domain_last_hour=2)
    later = await recent_answers("c@ab.example", datetime.now(UTC) + timedelta(hours=2))
    assert later == RecentAnswers(to_recipient_last_day=1, last_hour=0, to_domain_last_hour=0)
