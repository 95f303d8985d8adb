"""Build the slack-bolt AsyncApp and wire the Slack surfaces onto it (nothing else)."""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import actions, commands, events, home, modals
from bot.config import SlackSettings
from bot.home import HomeTab
from bot.services import Services

logger = logging.getLogger(__name__)


def build_client(
    slack: SlackSettings,
    session: aiohttp.ClientSession | None = None,
    *,
    resend_on_connection_error: bool = True,
) -> AsyncWebClient:
    """The Web API client; `api_url` points it at Slack, GovSlack or a test emulator.

    slack_sdk re-sends a call once when the connection drops, which may post a message
    Slack already took; the outbox's client turns that off and retries by its own rules.
    """
    client = AsyncWebClient(
        token=slack.bot_token.get_secret_value(),
        base_url=slack.api_url,
        timeout=15,
        session=session,
    )
    if not resend_on_connection_error:
        client.retry_handlers = []
    return client


def build_app(
    slack: SlackSettings, client: AsyncWebClient, services: Services, home_tab: HomeTab
) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=slack.signing_secret.get_secret_value(),
        # Listeners ack as soon as their quick part is done and leave slow Slack calls to
        # lazy follow-ups; this also spares every request bolt's 10 ms ack polling.
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )
    actions.register(app, services)
    modals.register(app, services)
    events.register(app, services)
    commands.register(app, services, slack.command)
    home.register(app, home_tab)
    return app
