"""Working as a team, end to end (issue 12, part A): a real `ticketbot run` with two queues,
mail through Dovecot, Slack through the emulator, clicks and forms as signed requests.

- priority: the select changes the card and the order of `/ticket queue`;
- transfer: a new card in the other queue's channel, the old card a pointer, the
  customer's next mail in the new thread;
- merge: one ticket left, mail to the merged number lands in the survivor's thread.
"""

from __future__ import annotations

import pytest

from bot.sandbox.emulator import ALICE, BILLING_CHANNEL, SUPPORT_CHANNEL, SlackEmulator
from bot.sandbox.emulator.state import Message
from bot.sandbox.signer import SlackDriver
from tests.support.bot_process import SUPPORT_ADDRESS, BotFactory
from tests.support.dovecot import DovecotServer
from tests.support.slack_fixtures import DriverFactory
from tests.support.ticket_flow import (
    action_ids,
    block_text,
    card,
    customer_mail,
    new_ticket_card,
    number_of,
    wait_card,
)

pytestmark = pytest.mark.e2e

BILLING_ADDRESS = "billing@ticketbot.example"
QUEUES = [
    {"name": "Support", "channel": SUPPORT_CHANNEL, "addresses": [SUPPORT_ADDRESS]},
    {"name": "Billing", "channel": BILLING_CHANNEL, "addresses": [BILLING_ADDRESS]},
]


def ticket_id(message: Message) -> str:
    """The ticket id a card's buttons carry."""
    [value] = {
        e["value"]
        for b in message.blocks or []
        if b.get("block_id") == "ticket_actions"
        for e in b["elements"]
    }
    return str(value)


def thread(slack: SlackEmulator, channel: str, ts: str) -> list[str]:
    return [block_text(m) + "\n" + m.text for m in slack.replies(channel, ts)]


@pytest.fixture
async def driver(
    db_url: str, bot_factory: BotFactory, slack_driver_factory: DriverFactory
) -> SlackDriver:
    """Signed requests to a `ticketbot run` with two queues, on SQLite and PostgreSQL."""
    return await slack_driver_factory(bot_factory(db_url, queues=QUEUES).events_url)


async def test_priority_changes_the_card_and_the_queue_order(
    driver: SlackDriver, slack: SlackEmulator, imap_server: DovecotServer
) -> None:
    first = new_ticket_card(slack, imap_server, 1)
    second = new_ticket_card(slack, imap_server, 2)
    before = await driver.slash_command("queue", user=ALICE, channel=SUPPORT_CHANNEL)
    listed = str(before.json()["blocks"])
    assert listed.index("Request 1") < listed.index("Request 2")  # oldest first

    chosen = await driver.click(
        second, "ticket_priority", user=ALICE, value=f"{ticket_id(second)}:urgent"
    )
    assert chosen.status == 200 and chosen.acked_in_time
    urgent = "*Priority*\n:red_circle: Urgent"
    updated = wait_card(slack, second.ts, lambda m: urgent in block_text(m), "urgent card")
    [select] = [
        e
        for b in updated.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "ticket_priority"
    ]
    assert select["initial_option"]["value"].endswith(":urgent")

    after = await driver.slash_command("queue", user=ALICE, channel=SUPPORT_CHANNEL)
    listed = str(after.json()["blocks"])
    assert listed.index("Request 2") < listed.index("Request 1")  # urgent first
    assert "Urgent" in listed
    assert urgent not in block_text(card(slack, first.ts))


async def test_transfer_moves_the_card_and_the_next_mail_follows(
    driver: SlackDriver, slack: SlackEmulator, imap_server: DovecotServer
) -> None:
    ticket = new_ticket_card(slack, imap_server, 1)
    number = number_of(ticket)
    moved = await driver.click(
        ticket, "ticket_transfer", user=ALICE, value=f"{ticket_id(ticket)}:Billing"
    )
    assert moved.status == 200 and moved.acked_in_time

    [new_card] = slack.wait_for(
        lambda: [m for m in slack.messages(BILLING_CHANNEL) if number in block_text(m)],
        timeout=20,
        what="the card in #billing",
    )
    assert "ticket_claim" in action_ids(new_card)
    pointer = wait_card(slack, ticket.ts, lambda m: not action_ids(m), "the old card's pointer")
    assert "moved to the queue Billing" in pointer.text

    imap_server.append(
        customer_mail(
            1, subject=f"Re: [Ticket#{number}] Request 1", message_id="<again-1@customer.example>"
        )
    )
    slack.wait_for(
        lambda: any("Customer 1" in text for text in thread(slack, BILLING_CHANNEL, new_card.ts)),
        timeout=20,
        what="the customer's mail in the new thread",
    )
    assert not any("Customer 1" in t for t in thread(slack, SUPPORT_CHANNEL, ticket.ts))
    assert len([m for m in slack.messages(BILLING_CHANNEL) if number in block_text(m)]) == 1


async def test_merge_leaves_one_ticket_and_the_old_number_leads_there(
    driver: SlackDriver, slack: SlackEmulator, imap_server: DovecotServer
) -> None:
    survivor = new_ticket_card(slack, imap_server, 1)
    merged = new_ticket_card(slack, imap_server, 2)
    survivor_number, merged_number = number_of(survivor), number_of(merged)

    opened = await driver.click(merged, "ticket_merge", user=ALICE)
    assert opened.status == 200 and opened.acked_in_time
    [view] = slack.wait_for(lambda: slack.views(callback_id="ticket_merge"), 10, "merge modal")
    sent = await driver.submit_view(view.id, {"merge_into": {"value": survivor_number}})
    assert sent.status == 200 and not (sent.json() or {}).get("errors")

    pointer = wait_card(slack, merged.ts, lambda m: not action_ids(m), "the merged card")
    assert f"Ticket#{survivor_number}" in block_text(pointer)
    slack.wait_for(
        lambda: any(
            f"Ticket#{merged_number} was merged into this ticket" in t
            for t in thread(slack, SUPPORT_CHANNEL, survivor.ts)
        ),
        timeout=20,
        what="the merge notice in the survivor's thread",
    )

    imap_server.append(
        customer_mail(
            2,
            subject=f"Re: [Ticket#{merged_number}] Request 2",
            message_id="<again-2@customer.example>",
            body="Any news on this?\n",
        )
    )
    slack.wait_for(
        lambda: any("Any news on this?" in t for t in thread(slack, SUPPORT_CHANNEL, survivor.ts)),
        timeout=20,
        what="the mail to the old number in the survivor's thread",
    )
    assert not any("Any news" in t for t in thread(slack, SUPPORT_CHANNEL, merged.ts))
    shown = await driver.slash_command(f"show {merged_number}", user=ALICE, channel=SUPPORT_CHANNEL)
    answer = str(shown.json())
    assert f"was merged into *Ticket#{survivor_number}*" in answer
    assert "Any news on this?" in answer
    assert "merged_from" in answer and f"— on Ticket#{merged_number}" in answer  # its history
