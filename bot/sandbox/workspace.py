"""Who is in the sandbox's Slack, and the settings the real bot runs with there.

One queue channel, #support, with two agents and a lead in it; an outsider who is only in
#general, so refusals can be seen. The bot gets ordinary `Settings`, as `ticketbot run`
would read them from app.yaml, pointed at the built-in emulator and mail loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.app.config import Settings, parse_settings
from bot.sandbox.emulator.config import (
    ALICE,
    BOB,
    BOT_USER_ID,
    CAROL,
    GENERAL_CHANNEL,
    LENA,
    SUPPORT_CHANNEL,
    Channel,
    User,
    WorkspaceConfig,
)

SUPPORT_ADDRESS = "support@example.com"
COMMAND = "/ticket"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the page can act as."""

    id: str
    name: str
    role: str


PEOPLE = (
    Person(ALICE, "Alice Agent", "agent in #support"),
    Person(BOB, "Bob Agent", "agent in #support"),
    Person(LENA, "Lena Lead", "lead, in #support"),
    Person(CAROL, "Carol Outsider", "not in #support"),
)
CHANNEL_NAMES = {SUPPORT_CHANNEL: "support", GENERAL_CHANNEL: "general"}


def sandbox_workspace() -> WorkspaceConfig:
    """The emulated workspace: the four people above and the bot."""
    users = (
        User(BOT_USER_ID, "ticketbot", "Ticket Bot", is_bot=True),
        User(ALICE, "alice", "Alice Agent", "alice@example.com"),
        User(BOB, "bob", "Bob Agent", "bob@example.com"),
        User(LENA, "lena", "Lena Lead", "lena@example.com"),
        User(CAROL, "carol", "Carol Outsider", "carol@example.com"),
    )
    channels = (
        Channel(SUPPORT_CHANNEL, "support", [BOT_USER_ID, ALICE, BOB, LENA]),
        Channel(GENERAL_CHANNEL, "general", [ALICE, BOB, LENA, CAROL]),
    )
    return WorkspaceConfig(
        team_name="ticketbot sandbox", team_domain="sandbox", users=users, channels=channels
    )


def sandbox_settings(
    data: Path,
    *,
    bot_token: str,
    signing_secret: str,
    api_url: str,
    http_port: int,
    smtp_port: int,
) -> Settings:
    """What app.yaml would say for this sandbox: SQLite in `data`, mail only by intake."""
    document = {
        "database": {"url": f"sqlite://{data / 'ticketbot.sqlite3'}"},
        "slack": {
            "bot_token": bot_token,
            "signing_secret": signing_secret,
            "api_url": api_url,
            "http": {"host": "127.0.0.1", "port": http_port, "path": "/slack/events"},
            "command": COMMAND,
            "leads": [LENA],
        },
        "queues": [
            {
                "name": "Support",
                "channel": SUPPORT_CHANNEL,
                "addresses": [SUPPORT_ADDRESS],
                "signature": "{agent_name}\nExample Support · Ticket {number}",
            }
        ],
        # canned responses for the Reply form (issue 12): try one on any ticket
        "templates": [
            {
                "name": "Please restart",
                "text": "Hello {customer_name},\n\nplease restart the device and tell us "
                "whether the problem is still there.",
            },
            {"name": "Solved", "text": "Hello {customer_name},\n\nglad it works again!"},
        ],
        "mail": {
            "address": SUPPORT_ADDRESS,
            "display_name": "Example Support",
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
            "attachments": {"directory": str(data / "attachments"), "min_free_bytes": 0},
        },
        "ingest": {"socket": ""},  # its mail loop feeds the runtime itself; no MTA to listen to
    }
    return parse_settings(document, {})
