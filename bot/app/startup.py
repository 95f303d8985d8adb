"""What `ticketbot run` makes sure of before it says it is ready.

The database is migrated (one process at a time, `models.store.db.migrate`) and answers;
Slack takes the bot token (`auth.test`) and, in Socket Mode, the app token. A problem the
operator must fix is a `StartupError`: its message is the one line the CLI prints, and its
`exit_code` is 2 for a refused token (a restart cannot help; systemd's unit does not
restart on 2) and 1 for a database that does not answer. Slack that cannot be reached
right now is no reason to stay down: the bot starts and the outbox retries.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from models.errors import DatabaseUnavailable
from models.store import db

logger = logging.getLogger(__name__)

EXIT_UNAVAILABLE = 1
EXIT_REFUSED = 2
# Slack's answers that mean the token itself is no good (not that Slack is busy or down).
REFUSED_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "not_authed",
        "account_inactive",
        "not_allowed_token_type",
    }
)


class StartupError(Exception):
    """`ticketbot run` cannot start; the message is one line that says what to fix."""

    def __init__(self, message: str, exit_code: int = EXIT_UNAVAILABLE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


async def prepare_database(url: str) -> None:
    """Migrate, connect and ask: the database is ready to be worked with, or StartupError."""
    try:
        await db.migrate(url)
        await db.init(url)
        await db.ensure_answers(url)
    except DatabaseUnavailable as exc:
        raise StartupError(str(exc)) from exc


def _slack_error(exc: SlackApiError) -> str:
    data = exc.response.data
    error = data.get("error") if isinstance(data, dict) else None
    return str(error) if error else f"HTTP {exc.response.status_code}"


async def check_bot_token(client: AsyncWebClient, api_url: str) -> str | None:
    """`auth.test`: who the bot is ("team T, bot user U"), None when Slack cannot be asked
    now; StartupError (exit 2) when Slack refuses the token."""
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        error = _slack_error(exc)
        if error in REFUSED_TOKEN_ERRORS:
            raise StartupError(
                f"Slack refused slack.bot_token ({error}): set SLACK_BOT_TOKEN to the app's "
                "current Bot User OAuth Token (xoxb-…); `ticketbot check` tells more",
                EXIT_REFUSED,
            ) from None
        logger.warning("Slack's auth.test failed (%s); starting anyway", error)
        return None
    except (SlackClientError, aiohttp.ClientError, OSError) as exc:  # timeouts are OSErrors
        logger.warning(
            "cannot reach Slack at %s (%s: %s); starting anyway, deliveries will retry",
            api_url,
            type(exc).__name__,
            exc,
        )
        return None
    return f"team {response.get('team')}, bot user {response.get('user_id')}"


async def connect_socket_mode(handler: AsyncSocketModeHandler) -> None:
    """Open the Socket Mode connection; StartupError (exit 2) when Slack refuses the app token.

    slack_sdk's client retries a refused token forever, a traceback a time, so the first
    WebSocket URL is asked for here (`apps.connections.open`) and handed to the client;
    a Slack that cannot be reached is left to the client's own retries.
    """
    client = handler.client
    try:
        opened = await client.web_client.apps_connections_open(app_token=client.app_token)
    except SlackApiError as exc:
        error = _slack_error(exc)
        if error in REFUSED_TOKEN_ERRORS:
            raise StartupError(
                f"Slack refused slack.app_token ({error}): set SLACK_APP_TOKEN to an app-level "
                "token (xapp-…) with connections:write",
                EXIT_REFUSED,
            ) from None
        raise StartupError(f"Slack did not open a Socket Mode connection ({error})") from None
    except (SlackClientError, aiohttp.ClientError, OSError) as exc:
        logger.warning(
            "cannot reach Slack for Socket Mode (%s: %s); retrying", type(exc).__name__, exc
        )
    else:
        client.wss_uri = str(opened["url"])
    await handler.connect_async()  # type: ignore[no-untyped-call]
