"""Who is in the emulated workspace: team, bot identity, tokens, users and channels.

A frozen `WorkspaceConfig` is the starting point `reset()` returns to; tests that need more
people or channels add them at run time through the emulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

TEAM_ID = "T0TICKET01"
PARTNER_TEAM_ID = "T0PARTNER1"  # another organisation, connected through Slack Connect
BOT_USER_ID = "U0BOT00001"
BOT_ID = "B0BOT00001"
APP_ID = "A0APP00001"
SUPPORT_CHANNEL = "C0SUPPORT1"
BILLING_CHANNEL = "C0BILLING1"
GENERAL_CHANNEL = "C0GENERAL1"
ALICE = "U0ALICE001"  # agent: in #support
BOB = "U0BOB00001"  # agent: in #support
CAROL = "U0CAROL001"  # outsider: only in #general
DAVE = "U0DAVE0001"  # agent of another queue: only in #billing
GUEST = "U0GUEST001"  # multi-channel guest, in #support
SOLO = "U0SOLO0001"  # single-channel guest, in #support
EXTERNAL = "U0EXTERN01"  # a Slack Connect member from PARTNER_TEAM_ID, in #support
LENA = "U0LENA0001"  # full member in #general only (tests make her a lead)

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
    """Someone the workspace can see, as users.info reports them.

    `team_id` None means the emulated workspace itself; another id is a Slack Connect
    member of that organisation (their events and payloads carry their own team).
    Guests: Slack's help calls a single-channel guest a kind of restricted account, so
    real single-channel guests have both flags set (`SOLO` does); a test may set one alone.
    """

    id: str
    name: str
    real_name: str = ""
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    tz: str = "Europe/Berlin"
    team_id: str | None = None
    is_restricted: bool = False
    is_ultra_restricted: bool = False

    def home_team(self, workspace_team: str) -> str:
        return self.team_id or workspace_team

    def to_api(self, team_id: str, *, with_email: bool = True) -> JSON:
        """The `user` object of users.info / users.lookupByEmail (the fields of Slack's
        example; the e-mail only with users:read.email, as Slack does)."""
        home = self.home_team(team_id)
        profile: JSON = {
            "real_name": self.real_name or self.name,
            "real_name_normalized": self.real_name or self.name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "image_48": f"https://avatars.example/{self.id}_48.png",
            "team": home,
        }
        if self.email is not None and with_email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": home,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name or self.name,
            "tz": self.tz,
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "is_email_confirmed": self.email is not None,
            "updated": 1_700_000_000,
            "has_2fa": False,
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
        User(DAVE, "dave", "Dave Billing", "dave@example.com"),
        User(GUEST, "gina", "Gina Guest", "gina@contractor.example", is_restricted=True),
        User(
            SOLO,
            "sol",
            "Sol Single",
            "sol@contractor.example",
            is_restricted=True,
            is_ultra_restricted=True,
        ),
        User(EXTERNAL, "ext", "Eve External", "eve@partner.example", team_id=PARTNER_TEAM_ID),
        User(LENA, "lena", "Lena Lead", "lena@example.com"),
    )


def _default_channels() -> tuple[Channel, ...]:
    return (
        Channel(SUPPORT_CHANNEL, "support", [BOT_USER_ID, ALICE, BOB, GUEST, SOLO, EXTERNAL]),
        Channel(BILLING_CHANNEL, "billing", [BOT_USER_ID, DAVE]),
        Channel(GENERAL_CHANNEL, "general", [ALICE, BOB, CAROL, DAVE, LENA]),
    )


@dataclass(frozen=True)
class WorkspaceConfig:
    """The workspace a fresh (or reset) emulator presents.

    Defaults: agents alice and bob plus the bot are in #support, with a guest, a
    single-channel guest and a Slack Connect member of another organisation; dave and the
    bot are in #billing; carol and lena are only in #general, where the bot is not a
    member, so not_in_channel and user_not_in_channel are reachable.
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
