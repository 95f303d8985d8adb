"""An offline Slack for tests: Web API, deliveries' counterparts and fault injection.

Start with `SlackEmulator().start()` (or the `slack` / `slack_emulator` fixtures) and point
`AsyncWebClient(base_url=emulator.base_url)` at it; `tests/support/slack_signer.py` delivers
signed events and interactions to the bot.
"""

from tests.slack_emulator.config import (
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
from tests.slack_emulator.emulator import SlackEmulator
from tests.slack_emulator.faults import Fault
from tests.slack_emulator.response_urls import ResponseOrigin
from tests.slack_emulator.state import (
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
