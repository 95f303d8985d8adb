"""Acknowledgements are no spam reflector, agents' replies cannot be redirected, forged bounces
get nowhere (SPEC "Hostile mail"); on SQLite and PostgreSQL, with the real parser."""

import tempfile
from datetime import UTC, datetime, timedelta

from models.effects import SLACK_THREAD_NOTICE
from models.events import Notice
from models.outbox.items import OutboxItem
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind
from models.store.ticket import History, Ticket
from models.work import Agent, reply
from tests.support.clock import HandClock
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

START = datetime(2026, 11, 25, 12, tzinfo=UTC)
POLICY = Policy(
    queues=(QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),),
    address="support@ticketbot.example",
    display_name="Example Support",
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
)
AGENT = Agent("U0ALICE", "Alice Agent")


async def acks() -> list[Article]:
    return await Article.filter(is_autoreply=True).order_by("id")


def mail(n: int, *, reply_to: str | None = None, **overrides: object) -> bytes:
    values: dict[str, object] = {
        "from_": f"Customer {n} <customer{n}@customer.example>",
        "subject": f"Request {n}",
        "message_id": f"<request-{n}@customer.example>",
    }
    values.update(overrides)
    if reply_to is not None:  # written as given: the stdlib would re-quote it
        values["verbatim"] = {"Reply-To": reply_to}
    return make_mail(**values)  # type: ignore[arg-type]


async def test_the_acknowledgement_goes_to_from_when_reply_to_is_not_one_valid_address(
    database: str,
) -> None:
    for n, reply_to in enumerate(
        [
            '"v1@a.example,v2@b.example"@x.example',
            "v1@a.example, v2@b.example",
            "not an address",
            "a" * 300 + "@x.example",
        ]
    ):
        await ingest(mail(n, reply_to=reply_to), POLICY)
    assert [a.recipients for a in await acks()] == [
        [f"customer{n}@customer.example"] for n in range(4)
    ]


async def test_the_acknowledgement_goes_to_a_single_valid_reply_to(database: str) -> None:
    await ingest(mail(1, reply_to="Form Owner <forms@customer.example>"), POLICY)
    [ack] = await acks()
    assert ack.recipients == ["forms@customer.example"]


async def test_the_acknowledgement_quotes_120_characters_of_the_subject_and_nothing_else(
    database: str,
) -> None:
    subject = "Cheap pills at pills.example " * 20
    result = await ingest(
        mail(1, from_="Visit pills.example now <victim@customer.example>", subject=subject),
        POLICY,
    )
    [ack] = await acks()
    assert "pills.example now" not in ack.body
    assert ack.body.startswith("Hello,\n")
    quoted = ack.subject.removeprefix(f"[Ticket#{result.ticket_number}] ")
    assert len(quoted) == 120 and quoted.endswith("…")
    assert quoted in ack.body
    assert "Cheap pills" not in ack.body.replace(quoted, "")


async def test_global_and_per_domain_hourly_caps(database: str) -> None:
    policy = Policy(
        queues=POLICY.queues,
        address=POLICY.address,
        attachments_dir=POLICY.attachments_dir,
        autoreply_max_per_hour=4,
        autoreply_max_per_domain_per_hour=2,
    )
    clock = HandClock(START)
    senders = ["a@one.example", "b@one.example", "c@one.example", "d@two.example"]
    senders += ["e@three.example", "f@four.example"]
    for n, sender in enumerate(senders):
        await ingest(mail(n, from_=sender), policy, clock=clock)
    sent = [a.recipients[0] for a in await acks()]
    assert sent == ["a@one.example", "b@one.example", "d@two.example", "e@three.example"]
    reasons = [str(h.detail["reason"]) for h in await History.filter(event="autoreply_suppressed")]
    assert "mail.autoreply.max_per_domain_per_hour" in reasons[0]
    assert "mail.autoreply.max_per_hour" in reasons[1]
    clock.advance(3601)  # an hour later both caps have room again
    await ingest(mail(9, from_="g@one.example"), policy, clock=clock)
    assert (await acks())[-1].recipients == ["g@one.example"]


async def test_a_forged_reply_to_on_a_follow_up_is_flagged_and_not_obeyed(database: str) -> None:
    first = await ingest(mail(1), POLICY)
    ticket = await Ticket.get(id=first.ticket_id)
    forged = mail(
        2,
        from_="Customer 1 <customer1@customer.example>",
        reply_to="attacker@evil.example",
        subject=f"Re: [Ticket#{ticket.number}] Request 1",
        message_id="<forged@evil.example>",
    )
    result = await ingest(forged, POLICY)
    assert (result.outcome, result.ticket_id) == ("followup", ticket.id)
    notices = [
        item.payload
        for item in await OutboxItem.filter(kind=SLACK_THREAD_NOTICE)
        if item.payload.get("notice") == Notice.REPLY_TO_IGNORED
    ]
    assert notices == [
        {
            "ticket_id": ticket.id,
            "notice": "reply_to_ignored",
            "facts": {"address": "attacker@evil.example", "customer": "customer1@customer.example"},
        }
    ]
    answer = await reply(ticket.id, AGENT, "Here you go", POLICY)
    assert answer.recipients == ["customer1@customer.example"]
    assert answer.in_reply_to == "<forged@evil.example>"  # still threads with the latest mail


async def test_replies_go_to_the_reply_to_of_the_mail_that_opened_the_ticket(
    database: str,
) -> None:
    first = await ingest(mail(1, reply_to="forms@customer.example"), POLICY)
    ticket = await Ticket.get(id=first.ticket_id)
    assert ticket.reply_address == "forms@customer.example"
    answer = await reply(ticket.id, AGENT, "Answer", POLICY)
    assert answer.recipients == ["forms@customer.example"]
    follow_up = mail(
        2,
        from_="Customer 1 <customer1@customer.example>",
        reply_to="forms@customer.example",
        subject=f"Re: [Ticket#{ticket.number}] Request 1",
    )
    await ingest(follow_up, POLICY)
    flagged = [
        item
        for item in await OutboxItem.filter(kind=SLACK_THREAD_NOTICE)
        if "notice" in item.payload
    ]
    assert flagged == []


def dsn(original_id: str, n: int) -> bytes:
    report = (
        "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
        "Final-Recipient: rfc822; customer1@customer.example\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
    )
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\n"
        "To: support@ticketbot.example\r\n"
        f"Subject: Undelivered Mail Returned to Sender {n}\r\n"
        f"Message-ID: <dsn-{n}@mx.customer.example>\r\n"
        "Date: Wed, 25 Nov 2026 12:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        f"--b\r\nContent-Type: message/delivery-status\r\n\r\n{report}\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_id}\r\nSubject: x\r\n\r\n"
        "--b--\r\n"
    ).encode()


async def test_a_bounce_matches_only_a_message_id_we_sent(database: str) -> None:
    first = await ingest(mail(1), POLICY)
    [ack] = await acks()
    assert ack.message_id is not None
    forged = await ingest(dsn("<request-1@customer.example>", 1), POLICY)
    assert forged.outcome == "bounce_unmatched"
    real = await ingest(dsn(ack.message_id, 2), POLICY)
    assert (real.outcome, real.ticket_id) == ("bounce_note", first.ticket_id)
    notes = await Article.filter(ticket_id=first.ticket_id, kind=ArticleKind.NOTE)
    assert [n.author_name for n in notes] == ["Mail delivery"]


async def test_acknowledgements_sent_an_hour_ago_no_longer_count(database: str) -> None:
    policy = Policy(
        queues=POLICY.queues,
        address=POLICY.address,
        attachments_dir=POLICY.attachments_dir,
        autoreply_max_per_hour=1,
    )
    clock = HandClock(START)
    await ingest(mail(1), policy, clock=clock)
    clock.advance(timedelta(minutes=30).total_seconds())
    await ingest(mail(2), policy, clock=clock)
    clock.advance(timedelta(minutes=31).total_seconds())
    await ingest(mail(3), policy, clock=clock)
    assert [a.recipients[0] for a in await acks()] == [
        "customer1@customer.example",
        "customer3@customer.example",
    ]
