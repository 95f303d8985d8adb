"""What `ticketbot run` checks before `ready`: a token Slack refuses is a StartupError
(exit 2) with one line; a Slack that cannot be reached is only a warning."""

from __future__ import annotations

import logging

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.startup import EXIT_REFUSED, StartupError, check_bot_token, connect_socket_mode
from bot.sandbox.emulator import SlackEmulator
from bot.slack.app import TicketbotApp
from tests.support.dovecot import free_port
from tests.support.slack_fixtures import SIGNING_SECRET


async def test_a_token_slack_takes_names_the_team_and_bot(slack: SlackEmulator) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    identity = await check_bot_token(client, slack.base_url)
    assert identity is not None and identity.startswith("team ") and "bot user U" in identity


@pytest.mark.parametrize("refusal", ["revoked", "unknown"])
async def test_a_refused_token_is_exit_2_with_what_to_do(
    slack: SlackEmulator, refusal: str
) -> None:
    token = slack.bot_token if refusal == "revoked" else "xoxb-not-ours"
    slack.revoke_token(slack.bot_token)
    client = AsyncWebClient(token=token, base_url=slack.base_url)
    with pytest.raises(StartupError) as caught:
        await check_bot_token(client, slack.base_url)
    assert caught.value.exit_code == EXIT_REFUSED
    message = str(caught.value)
    error = "token_revoked" if refusal == "revoked" else "invalid_auth"
    assert message.startswith(f"Slack refused slack.bot_token ({error}): set SLACK_BOT_TOKEN")
    assert token not in message and "\n" not in message


async def test_slack_out_of_reach_is_a_warning_not_a_stop(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/"
    client = AsyncWebClient(token="xoxb-1", base_url=url)
    client.retry_handlers = []
    assert await check_bot_token(client, url) is None
    assert any(
        "starting anyway" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
    )


async def test_a_refused_app_token_is_exit_2_before_any_retry(slack: SlackEmulator) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    app = TicketbotApp(signing_secret=SIGNING_SECRET, client=client)
    handler = AsyncSocketModeHandler(app, "xapp-1-A0WRONG-nope")
    try:
        with pytest.raises(StartupError) as caught:
            await connect_socket_mode(handler)
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
    assert caught.value.exit_code == EXIT_REFUSED
    assert "slack.app_token (invalid_auth)" in str(caught.value)
    assert slack.socket_connections() == 0
