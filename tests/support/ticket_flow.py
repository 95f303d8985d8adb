"""Helpers for tests that drive the running bot: cards, owners, waiting for Slack state."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from tests.slack_emulator import SlackEmulator
from tests.slack_emulator.config import ALICE, SUPPORT_CHANNEL
from tests.slack_emulator.state import Message
from tests.support.bot_process import SUPPORT_ADDRESS
from tests.support.dovecot import DovecotServer
from tests.support.make_mail import make_mail

OWNER = re.compile(r"\*Owner\*\n(?:<@(\w+)>|_unclaimed_)")
STATE = re.compile(r"\*State\*\n:[a-z_]+: (\w+)")


def cards(slack: SlackEmulator) -> list[Message]:
    return [m for m in slack.messages(SUPPORT_CHANNEL) if not m.is_reply]


def wait_cards(slack: SlackEmulator, count: int, timeout: float = 20.0) -> list[Message]:
    return slack.wait_for(
        lambda: (found := cards(slack)) and len(found) >= count and found,
        timeout=timeout,
        what=f"{count} ticket card(s)",
    )


def walk_text(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [t for v in node.values() for t in walk_text(v)]
    if isinstance(node, list):
        return [t for v in node for t in walk_text(v)]
    return [node] if isinstance(node, str) else []


def block_text(message: Message) -> str:
    return "\n".join(walk_text(message.blocks))


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


def new_ticket_card(slack: SlackEmulator, imap: DovecotServer, n: int, **overrides: Any) -> Message:
    before = len(cards(slack))
    imap.append(customer_mail(n, **overrides))
    return wait_cards(slack, before + 1)[before]


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
