"""Helpers for tests that drive the running bot: cards, owners, waiting for Slack state."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import ALICE, SUPPORT_CHANNEL
from bot.sandbox.emulator.state import Message
from tests.support.bot_process import SUPPORT_ADDRESS
from tests.support.dovecot import DovecotServer
from tests.support.make_mail import make_mail

OWNER = re.compile(r"\*Owner\*\n(?:<@(\w+)>|_unclaimed_)")
STATE = re.compile(r"\*State\*\n:[a-z_]+: (\w+)")


def cards(slack: SlackEmulator, channel: str = SUPPORT_CHANNEL) -> list[Message]:
    return [m for m in slack.messages(channel) if not m.is_reply]


def wait_cards(
    slack: SlackEmulator, count: int, timeout: float = 20.0, channel: str = SUPPORT_CHANNEL
) -> list[Message]:
    return slack.wait_for(
        lambda: (found := cards(slack, channel)) and len(found) >= count and found,
        timeout=timeout,
        what=f"{count} ticket card(s) in {channel}",
    )


def walk_text(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [t for v in node.values() for t in walk_text(v)]
    if isinstance(node, list):
        return [t for v in node for t in walk_text(v)]
    return [node] if isinstance(node, str) else []


def block_text(message: Message) -> str:
    return "\n".join(walk_text(message.blocks))


def thread_texts(slack: SlackEmulator, ts: str) -> list[str]:
    """What each reply in a card's thread shows: its blocks' text and its fallback text."""
    return [block_text(m) + "\n" + m.text for m in slack.replies(SUPPORT_CHANNEL, ts)]


def card(slack: SlackEmulator, ts: str) -> Message:
    found = slack.message(SUPPORT_CHANNEL, ts)
    assert found is not None
    return found


def owner_of(slack: SlackEmulator, ts: str) -> str | None:
    match = OWNER.search(block_text(card(slack, ts)))
    assert match, block_text(card(slack, ts))
    return match.group(1)


def state_of(slack: SlackEmulator, ts: str) -> str:
    match = STATE.search(block_text(card(slack, ts)))
    assert match
    return match.group(1)


def action_ids(message: Message) -> list[str]:
    return [
        element["action_id"]
        for block in message.blocks or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def work_buttons(message: Message) -> list[str]:
    """The card's first row (claim/release, reply, note, close/reopen); the second row,
    `ticket_controls`, holds priority, transfer, merge and the customer's history."""
    return [
        element["action_id"]
        for block in message.blocks or []
        if block["type"] == "actions" and block.get("block_id") == "ticket_actions"
        for element in block["elements"]
    ]


def wait_card(
    slack: SlackEmulator, ts: str, predicate: Any, what: str, timeout: float = 15
) -> Message:
    return slack.wait_for(lambda: predicate(card(slack, ts)) and card(slack, ts), timeout, what)


def customer_mail(n: int, **overrides: Any) -> bytes:
    defaults: dict[str, Any] = {
        "to": f"Support <{SUPPORT_ADDRESS}>",
        "subject": f"Request {n}",
        "message_id": f"<request-{n}@customer.example>",
        "from_": f"Customer {n} <customer{n}@customer.example>",
    }
    return make_mail(**{**defaults, **overrides})


def new_ticket_card(
    slack: SlackEmulator,
    imap: DovecotServer,
    n: int,
    *,
    channel: str = SUPPORT_CHANNEL,
    **overrides: Any,
) -> Message:
    """Mail a new request and wait for its card (in `channel`: route it there with `to=`)."""
    before = len(cards(slack, channel))
    imap.append(customer_mail(n, **overrides))
    return wait_cards(slack, before + 1, channel=channel)[before]


def number_of(card: Message) -> str:
    """The ticket number a card shows."""
    return block_text(card).split("Ticket#", 1)[1][:16]


def said_through(slack: SlackEmulator, response_url: str | None) -> list[str]:
    """The texts the bot posted to one interaction's response_url."""
    assert response_url is not None
    url_id = response_url.rsplit("/", 1)[1]
    return [str(p.body.get("text", "")) for p in slack.response_posts() if p.url_id == url_id]


def history(db_url: str) -> list[str]:
    """Ticket history events, read straight from a SQLite test database."""
    with sqlite3.connect(db_url.removeprefix("sqlite://")) as connection:
        return [
            row[0] for row in connection.execute("SELECT event FROM ticket_history ORDER BY id")
        ]


async def close_ticket(
    driver: Any, slack: SlackEmulator, ticket: Message, values: dict[str, Any] | None = None
) -> Any:
    """Click Close as Alice and submit the close form; returns the submission's delivery."""
    await driver.click(card(slack, ticket.ts), "ticket_close", user=ALICE)
    [view] = slack.wait_for(lambda: slack.views(callback_id="ticket_close"), 10, "close modal")
    return await driver.submit_view(view.id, values or {})
