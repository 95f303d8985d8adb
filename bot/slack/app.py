"""Build the slack-bolt AsyncApp and wire the Slack surfaces onto it (nothing else)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.app.config import SlackSettings
from bot.slack import actions, commands, events, home, modals, shortcuts, team
from bot.slack.home import HomeTab
from bot.slack.services import Services

logger = logging.getLogger(__name__)

# bolt's signature check logs every refused request at INFO with its whole body
# (slack_bolt/middleware/request_verification/request_verification.py, _debug_log_error):
# megabytes of anyone's text, forged log lines included. Its logger is named after the class.
BOLT_VERIFICATION_LOGGER = "slack_bolt.RequestVerification"


class _NoUntrustedBodies(logging.Filter):
    """Drops what bolt's signature check says below WARNING (only that body dump)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


NO_UNTRUSTED_BODIES = _NoUntrustedBodies()


def keep_request_bodies_out_of_logs() -> None:
    """Silence the body dump. The level alone is not enough: bolt copies its base logger's
    level onto this logger whenever an app is built; the filter stays."""
    verification = logging.getLogger(BOLT_VERIFICATION_LOGGER)
    verification.setLevel(logging.WARNING)
    verification.addFilter(NO_UNTRUSTED_BODIES)  # idempotent: the same object is kept once


ApiErrorHook = Callable[[str, str], None]
"""Told of every failed Web API call: (method, Slack's error code or the exception's name)."""


def api_error_code(exc: Exception) -> str:
    """A failed call's error as a short, bounded label: Slack's own code (`ratelimited`,
    `channel_not_found`…), `http_NNN` for an answer without one, else the exception's name."""
    if isinstance(exc, SlackApiError):
        data = exc.response.data
        error = data.get("error") if isinstance(data, dict) else None
        return str(error) if error else f"http_{exc.response.status_code}"
    return type(exc).__name__


class ObservedWebClient(AsyncWebClient):
    """`AsyncWebClient` that reports each failed call to `on_error` (every method goes
    through `api_call`). `on_error` must be a plain function: bolt deep-copies the client
    into lazy listeners, and a function is shared by the copy, not copied."""

    def __init__(self, *, on_error: ApiErrorHook, **options: Any) -> None:
        super().__init__(**options)
        self.on_error = on_error

    async def api_call(self, api_method: str, **options: Any) -> AsyncSlackResponse:
        try:
            return await super().api_call(api_method, **options)
        except Exception as exc:
            self.on_error(api_method, api_error_code(exc))
            raise


def build_client(
    slack: SlackSettings,
    session: aiohttp.ClientSession | None = None,
    *,
    resend_on_connection_error: bool = True,
    on_error: ApiErrorHook | None = None,
) -> AsyncWebClient:
    """The Web API client; `api_url` points it at Slack, GovSlack or a test emulator.

    slack_sdk re-sends a call once when the connection drops, which may post a message
    Slack already took; the outbox's client turns that off and retries by its own rules.
    With `on_error`, every failed call is reported to it (for /metrics).
    """
    options: dict[str, Any] = {
        "token": slack.bot_token.get_secret_value(),
        "base_url": slack.api_url,
        "timeout": 15,
        "session": session,
    }
    client = (
        AsyncWebClient(**options)
        if on_error is None
        else ObservedWebClient(on_error=on_error, **options)
    )
    if not resend_on_connection_error:
        client.retry_handlers = []
    return client


class TicketbotApp(AsyncApp):
    """bolt's app, telling bot.app.web its signing secret: bot.app.web checks signatures before
    bolt parses a body (bolt parses first, then checks, and logs what it refuses)."""

    def __init__(self, *, signing_secret: str, **options: Any) -> None:
        super().__init__(signing_secret=signing_secret, **options)
        self.request_signing_secret = signing_secret


def build_app(
    slack: SlackSettings, client: AsyncWebClient, services: Services, home_tab: HomeTab
) -> TicketbotApp:
    app = TicketbotApp(
        client=client,
        signing_secret=slack.signing_secret.get_secret_value(),
        # Listeners ack as soon as their quick part is done and leave slow Slack calls to
        # lazy follow-ups; this also spares every request bolt's 10 ms ack polling.
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )
    keep_request_bodies_out_of_logs()  # after AsyncApp(): it resets the logger's level
    actions.register(app, services)
    modals.register(app, services)
    shortcuts.register(app, services)
    team.register(app, services)
    events.register(app, services)
    commands.register(app, services, slack.command)
    home.register(app, home_tab)
    return app
