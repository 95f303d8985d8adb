"""An offline Slack for the tests and `ticketbot sandbox`: Web API, deliveries' counterparts and
fault injection.

Start with `SlackEmulator().start()` (or the `slack` / `slack_emulator` fixtures) and point
`AsyncWebClient(base_url=emulator.base_url)` at it; `bot/sandbox/signer.py` delivers
signed events and interactions to the bot.
"""

from bot.sandbox.emulator.config import (
    ALICE,
    APP_ID,
    BILLING_CHANNEL,
    BOB,
    BOT_ID,
    BOT_USER_ID,
    CAROL,
    DAVE,
    EXTERNAL,
    GENERAL_CHANNEL,
    GUEST,
    LENA,
    PARTNER_TEAM_ID,
    SOLO,
    SUPPORT_CHANNEL,
    TEAM_ID,
    Channel,
    User,
    WorkspaceConfig,
)
from bot.sandbox.emulator.emulator import SlackEmulator
from bot.sandbox.emulator.faults import Fault
from bot.sandbox.emulator.response_urls import ResponseOrigin
from bot.sandbox.emulator.state import (
    ApiCall,
    Ephemeral,
    ManualClock,
    Message,
    MessageVersion,
    ResponseUrlPost,
    UploadedFile,
    ViewRecord,
)

__all__ = [
    "ALICE",
    "APP_ID",
    "BILLING_CHANNEL",
    "BOB",
    "BOT_ID",
    "BOT_USER_ID",
    "CAROL",
    "DAVE",
    "EXTERNAL",
    "GENERAL_CHANNEL",
    "GUEST",
    "LENA",
    "PARTNER_TEAM_ID",
    "SOLO",
    "SUPPORT_CHANNEL",
    "TEAM_ID",
    "ApiCall",
    "Channel",
    "Ephemeral",
    "Fault",
    "ManualClock",
    "Message",
    "MessageVersion",
    "ResponseOrigin",
    "ResponseUrlPost",
    "SlackEmulator",
    "UploadedFile",
    "User",
    "ViewRecord",
    "WorkspaceConfig",
]
