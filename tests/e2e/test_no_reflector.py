"""No spam reflector, no redirected answers, no forged bounces: through a real `ticketbot run`
(Dovecot, the SMTP recorder, the Slack emulator), SPEC "Hostile mail".

The corpus test covers one mail at a time; these need several: a ticket to aim at, the
attacker's mail that follows, and what the agent then sends.
"""

from __future__ import annotations

import pytest

from bot.sandbox.emulator import ALICE, SlackEmulator
from tests.support.bot_process import BotFactory, query, wait_outbox_drained
from tests.support.dovecot import DovecotServer
from tests.support.make_mail import make_mail
from tests.support.slack_fixtures import DriverFactory
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import (
    cards,
    customer_mail,
    new_ticket_card,
    number_of,
    thread_texts,
    wait_cards,
)

pytestmark = pytest.mark.e2e

CUSTOMER = "customer1@customer.example"
ATTACKER = "attacker@evil.example"


async def test_a_forged_reply_to_on_a_follow_up_is_flagged_and_answers_still_go_to_the_customer(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
    slack_driver_factory: DriverFactory,
) -> None:
    bot = bot_factory(db_url)
    driver = await slack_driver_factory(bot.events_url)
    ticket = new_ticket_card(slack, imap_server, 1, subject="Invoice question")
    number = number_of(ticket)
    smtp_server.wait_for(1, timeout=20)  # the acknowledgement, to the customer

    # Ticket numbers are sequential: a stranger can guess one and forge the customer's From.
    imap_server.append(
        customer_mail(
            2,
            from_=f"Customer 1 <{CUSTOMER}>",
            subject=f"Re: [Ticket#{number}] Invoice question",
            body="Please send the invoice to my new address instead.\n",
            verbatim={"Reply-To": ATTACKER},
        )
    )
    flagged = slack.wait_for(
        lambda: [t for t in thread_texts(slack, ticket.ts) if "(Reply-To)" in t],
        20,
        "the Reply-To warning in the thread",
    )
    assert ATTACKER in flagged[0] and f"Replies still go to {CUSTOMER}" in flagged[0]

    await driver.click(ticket, "ticket_reply", user=ALICE)
    [view] = slack.wait_for(lambda: slack.views(callback_id="ticket_reply"), 10, "reply modal")
    shown = "\n".join(str(block) for block in view.blocks)
    assert f"*To:* {CUSTOMER}" in shown or CUSTOMER in shown
    assert ATTACKER not in shown
    await driver.submit_view(view.id, {"text": {"value": "Your invoice is attached."}})

    answer = smtp_server.wait_for(
        lambda sent: any("Your invoice" in m.raw.decode(errors="replace") for m in sent), 20
    )[-1]
    assert answer.rcpt_tos == (CUSTOMER,)
    assert ATTACKER not in str(answer.message["To"]) + str(answer.message["Cc"])
    wait_outbox_drained(db_url)
    assert all(ATTACKER not in sent.rcpt_tos for sent in smtp_server.messages)


async def test_a_forged_bounce_of_the_customers_own_mail_is_no_note_but_a_real_one_is(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    bot_factory(db_url)
    ticket = new_ticket_card(slack, imap_server, 1, subject="Lost parcel")
    [ack] = smtp_server.wait_for(1, timeout=20)
    ours = ack.message["Message-ID"]

    def bounce(n: int, original: str) -> bytes:
        report = (
            "Reporting-MTA: dns; mx.customer.example\n\n"
            f"Final-Recipient: rfc822; {CUSTOMER}\nAction: failed\nStatus: 5.1.1\n"
        )
        return make_mail(
            from_="Mail Delivery System <MAILER-DAEMON@mx.customer.example>",
            subject=f"Undelivered Mail Returned to Sender {n}",
            message_id=f"<bounce-{n}@mx.customer.example>",
            body=f"Delivery failed.\n\n{report}\nMessage-ID: {original}\n",
            headers={"Auto-Submitted": "auto-replied"},
            verbatim={"Return-Path": "<>"},
        )

    # Forged: it quotes the customer's own mail, which anyone who was in Cc could know.
    imap_server.append(bounce(1, "<request-1@customer.example>"))
    imap_server.append(bounce(2, ours))
    noted = slack.wait_for(
        lambda: [t for t in thread_texts(slack, ticket.ts) if "Delivery of a mail failed" in t],
        20,
        "the note about the real bounce",
    )
    imap_server.append(customer_mail(3, subject="after the bounces"))
    wait_cards(slack, 2)
    wait_outbox_drained(db_url)

    assert len(noted) == 1 and ours.strip("<>") in noted[0]
    assert len(cards(slack)) == 2  # the ticket and the mail after the bounces: no bounce card
    assert len(smtp_server.messages) == 2  # two acknowledgements, nothing to the bouncers
    outcomes = sorted(str(row[0]) for row in query(db_url, "SELECT outcome FROM inbound_message"))
    assert outcomes == ["bounce_note", "bounce_unmatched", "new_ticket", "new_ticket"]


async def test_acknowledgements_are_capped_per_domain_and_in_all_and_go_to_one_address(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    bot_factory(
        db_url,
        mail__autoreply={"enabled": True, "max_per_hour": 4, "max_per_domain_per_hour": 2},
    )
    # A flood forged from many addresses of one victim domain, then of many domains.
    for n in range(3):
        imap_server.append(customer_mail(n, from_=f"v{n}@victim.example"))
    for n in range(3, 7):
        imap_server.append(
            customer_mail(
                n,
                from_=f"v{n}@victim{n}.example",
                verbatim={"Reply-To": f'"a{n}@x.example,b{n}@y.example"@z.example'},
            )
        )
    wait_cards(slack, 7)
    wait_outbox_drained(db_url)

    recipients = sorted(sent.rcpt_tos for sent in smtp_server.messages)  # any order across tickets
    assert recipients == [
        ("v0@victim.example",),
        ("v1@victim.example",),
        ("v3@victim3.example",),
        ("v4@victim4.example",),
    ]
