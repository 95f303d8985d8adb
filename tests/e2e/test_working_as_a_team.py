"""Issue 12 part B end to end: `ticketbot run` (SQLite), the Slack emulator, signed
requests, Dovecot and the SMTP recorder. Canned responses with the queue's signature, a
phone ticket with a German acknowledgement, a message shortcut, and two agents replying
to the same ticket."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import ALICE, BOB, EXTERNAL, SUPPORT_CHANNEL
from bot.sandbox.signer import SlackDriver
from tests.support.bot_process import SUPPORT_ADDRESS, BotFactory, BotProcess, wait_outbox_drained
from tests.support.dovecot import DovecotServer
from tests.support.slack_fixtures import DriverFactory
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import (
    block_text,
    card,
    cards,
    customer_mail,
    new_ticket_card,
    number_of,
    wait_cards,
)

pytestmark = pytest.mark.e2e

QUEUE: dict[str, Any] = {
    "name": "Support",
    "channel": SUPPORT_CHANNEL,
    "addresses": [SUPPORT_ADDRESS],
    "signature": "{agent_name}\nExample Support, Hotline 0800 123",
}
TEMPLATES = [
    {"name": "Restart", "text": "Hello {customer_name},\n\nplease restart it ({number})."},
    {"name": "Thanks", "text": "Thanks for {subject}!"},
]


@pytest.fixture
def bot(db_url_sqlite: str, bot_factory: BotFactory) -> BotProcess:
    return bot_factory(db_url_sqlite, queues=[QUEUE], templates=TEMPLATES, mail__locale="de")


@pytest.fixture
async def driver(bot: BotProcess, slack_driver_factory: DriverFactory) -> SlackDriver:
    return await slack_driver_factory(bot.events_url)


def body_of(received: Any) -> str:
    return str(received.message.get_body(("plain",)).get_content()).replace("\r\n", "\n")


def opened_view(slack: SlackEmulator, callback_id: str, user: str, trigger_id: str | None) -> Any:
    return slack.wait_for(
        lambda: next(
            (
                v
                for v in slack.views(user_id=user, callback_id=callback_id)
                if v.trigger_id == trigger_id
            ),
            None,
        ),
        10,
        f"the {callback_id} form",
    )


async def open_reply(driver: SlackDriver, slack: SlackEmulator, ts: str, user: str) -> Any:
    click = await driver.click(card(slack, ts), "ticket_reply", user=user)
    assert click.status == 200 and click.acked_in_time
    return opened_view(slack, "ticket_reply", user, click.trigger_id)


async def test_a_reply_with_a_template_mails_the_filled_text_and_the_signature(
    driver: SlackDriver,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    ticket = new_ticket_card(slack, imap_server, 1, from_="Eva Müller <eva@customer.example>")
    [ack] = smtp_server.wait_for(1, timeout=20)
    assert body_of(ack).startswith("Guten Tag,")  # mail.locale: de
    view = await open_reply(driver, slack, ticket.ts, ALICE)
    chosen = await driver.click_in_view(view.id, "reply_template", value="0")
    assert chosen.status == 200 and chosen.acked_in_time
    slack.wait_for(
        lambda: any(b.get("block_id") == "text_1" for b in slack.view(view.id).blocks),
        10,
        "the template in the form",
    )
    sent = await driver.submit_view(view.id, {})
    assert sent.status == 200 and sent.json() in ({}, None)
    [_, answer] = smtp_server.wait_for(2, timeout=20)
    number = number_of(ticket)
    assert body_of(answer) == (
        f"Hello Eva Müller,\n\nplease restart it ({number}).\n\n"
        "-- \nAlice Agent\nExample Support, Hotline 0800 123\n"
    )


async def test_a_phone_ticket_gets_a_card_and_a_german_acknowledgement(
    bot: BotProcess,
    driver: SlackDriver,
    slack: SlackEmulator,
    smtp_server: SmtpServer,
) -> None:
    shortcut = await driver.global_shortcut("ticket_new", user=ALICE)
    assert shortcut.status == 200 and shortcut.acked_in_time
    view = opened_view(slack, "ticket_new", ALICE, shortcut.trigger_id)
    before = len(cards(slack))
    sent = await driver.submit_view(
        view.id,
        {
            "email": {"value": "kunde@beispiel.example"},
            "name": {"value": "Karl Kunde"},
            "subject": {"value": "Drucker druckt nicht"},
            "text": {"value": "Herr Kunde rief an: der Drucker druckt nur leere Seiten."},
        },
    )
    assert sent.status == 200 and sent.json() in ({}, None)
    new = wait_cards(slack, before + 1)[before]
    assert "Drucker druckt nicht" in block_text(new) and "kunde@beispiel.example" in block_text(new)
    [ack] = smtp_server.wait_for(1, timeout=20)
    number = number_of(new)
    assert ack.rcpt_tos == ("kunde@beispiel.example",)
    assert ack.message["Subject"] == f"[Ticket#{number}] Drucker druckt nicht"
    text = body_of(ack)
    assert text.startswith("Guten Tag,\n\nvielen Dank für Ihre Nachricht.")
    assert f"Ticketnummer {number} erfasst" in text
    assert "Mit freundlichen Grüßen\nExample Support" in text


async def test_a_message_shortcut_makes_a_ticket_with_its_card(
    driver: SlackDriver, slack: SlackEmulator
) -> None:
    message = slack.record_user_message(
        SUPPORT_CHANNEL, EXTERNAL, "Our dashboard is down\nsince 9:00, please help"
    )
    shortcut = await driver.message_shortcut(message, "ticket_from_message", user=BOB)
    assert shortcut.status == 200 and shortcut.acked_in_time
    view = opened_view(slack, "ticket_from_message", BOB, shortcut.trigger_id)
    before = len(cards(slack))
    sent = await driver.submit_view(view.id, {})  # everything prefilled
    assert sent.status == 200 and sent.json() in ({}, None)
    new = wait_cards(slack, before + 1)[before]
    shown = block_text(new)
    assert "Our dashboard is down" in shown and "eve@partner.example" in shown


async def test_two_agents_replying_the_second_confirms_first_and_the_customer_gets_one_mail(
    db_url_sqlite: str,
    bot: BotProcess,
    driver: SlackDriver,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    ticket = new_ticket_card(slack, imap_server, 1)
    smtp_server.wait_for(1, timeout=20)  # the acknowledgement
    alices = await open_reply(driver, slack, ticket.ts, ALICE)
    bobs = await open_reply(driver, slack, ticket.ts, BOB)
    slack.wait_for(
        lambda: "are replying" in block_text(card(slack, ticket.ts)), 10, "the replying line"
    )
    await driver.submit_view(alices.id, {"text": {"value": "Alice: please restart it."}})
    smtp_server.wait_for(2, timeout=20)
    second = await driver.submit_view(bobs.id, {"text": {"value": "Bob: replace the fuse."}})
    assert second.status == 200 and second.acked_in_time
    assert second.json()["response_action"] == "update"
    shown = str(slack.view(bobs.id).blocks)
    assert "Since you opened this form" in shown and "Alice: please restart it." in shown
    wait_outbox_drained(db_url_sqlite)
    assert len(smtp_server.messages) == 2  # the acknowledgement and Alice's reply only

    # The customer writes again while Alice (who holds it now) has the form open: she
    # confirms, and only then is her second answer sent.
    again = await open_reply(driver, slack, ticket.ts, ALICE)
    imap_server.append(
        customer_mail(
            1,
            subject=f"Re: [Ticket#{number_of(ticket)}] Request 1",
            message_id="<request-1b@customer.example>",
            body="It still does not work.",
        )
    )
    slack.wait_for(
        lambda: any(
            "It still does not work" in block_text(r)
            for r in slack.replies(SUPPORT_CHANNEL, ticket.ts)
        ),
        20,
        "the customer's mail in the thread",
    )
    first = await driver.submit_view(again.id, {"text": {"value": "Alice: then the fuse."}})
    assert first.json()["response_action"] == "update"
    assert "It still does not work" in str(slack.view(again.id).blocks)
    wait_outbox_drained(db_url_sqlite)
    assert len(smtp_server.messages) == 2
    confirmed = await driver.submit_view(again.id, {})
    assert confirmed.status == 200 and confirmed.json() in ({}, None)
    received = smtp_server.wait_for(3, timeout=20)
    assert "Alice: then the fuse." in body_of(received[2])
    # Bob's form is still open (the confirmation step): the card says so until he closes it
    slack.wait_for(
        lambda: f"<@{BOB}> is replying" in block_text(card(slack, ticket.ts)), 10, "Bob's line"
    )
    closed = await driver.close_view(bobs.id)
    assert closed is not None and closed.status == 200
    slack.wait_for(
        lambda: "replying" not in block_text(card(slack, ticket.ts)), 10, "no replying line"
    )
