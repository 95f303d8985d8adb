"""Who is in the emulated workspace: team, bot identity, tokens, users and channels.

A frozen `WorkspaceConfig` is the starting point `reset()` returns to; tests that need more
people or channels add them at run time through the emulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

TEAM_ID = "T0TICKET01"
BOT_USER_ID = "U0BOT00001"
BOT_ID = "B0BOT00001"
APP_ID = "A0APP00001"
SUPPORT_CHANNEL = "C0SUPPORT1"
GENERAL_CHANNEL = "C0GENERAL1"
ALICE = "U0ALICE001"
BOB = "U0BOB00001"
CAROL = "U0CAROL001"

DEFAULT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "app_mentions:read",
    "im:history",
    "im:write",
    "users:read",
    "users:read.email",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "reactions:write",
    "files:write",
)


@dataclass
class User:
    """A workspace member as users.info reports it."""

    id: str
    name: str
    real_name: str = ""
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    tz: str = "Europe/Berlin"

    def to_api(self, team_id: str) -> JSON:
        """The `user` object of users.info / users.lookupByEmail."""
        profile: JSON = {
            "real_name": self.real_name or self.name,
            "display_name": self.name,
            "image_48": f"https://avatars.example/{self.id}_48.png",
        }
        if self.email is not None:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name or self.name,
            "tz": self.tz,
            "tz_offset": 3600,
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": profile,
        }


@dataclass
class Channel:
    """A conversation; `members` is ordered so conversations.members pages are stable."""

    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False

    def to_api(self) -> JSON:
        """The `channel` object of conversations.info."""
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private and not self.is_im,
            "is_group": self.is_private,
            "is_im": self.is_im,
            "is_private": self.is_private or self.is_im,
            "is_archived": self.is_archived,
            "is_member": True,
            "num_members": len(self.members),
        }


def _default_users() -> tuple[User, ...]:
    return (
        User(BOT_USER_ID, "ticketbot", "Ticket Bot", is_bot=True),
        User(ALICE, "alice", "Alice Agent", "alice@example.com"),
        User(BOB, "bob", "Bob Agent", "bob@example.com"),
        User(CAROL, "carol", "Carol Outsider", "carol@example.com"),
    )


def _default_channels() -> tuple[Channel, ...]:
    return (
        Channel(SUPPORT_CHANNEL, "support", [BOT_USER_ID, ALICE, BOB]),
        Channel(GENERAL_CHANNEL, "general", [ALICE, BOB, CAROL]),
    )


@dataclass(frozen=True)
class WorkspaceConfig:
    """The workspace a fresh (or reset) emulator presents.

    Defaults: agents alice and bob plus the bot are in #support; carol is only in #general,
    where the bot is not a member, so not_in_channel and user_not_in_channel are reachable.
    """

    team_id: str = TEAM_ID
    team_name: str = "Ticketbot Test"
    team_domain: str = "ticketbot-test"
    bot_tokens: tuple[str, ...] = ("xoxb-test",)
    app_token: str = "xapp-1-A0APP00001-test"
    bot_user_id: str = BOT_USER_ID
    bot_id: str = BOT_ID
    bot_name: str = "ticketbot"
    app_id: str = APP_ID
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    users: tuple[User, ...] = field(default_factory=_default_users)
    channels: tuple[Channel, ...] = field(default_factory=_default_channels)
