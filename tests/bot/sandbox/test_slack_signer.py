"""The delivery driver: Slack's signature, and a real bolt AsyncApp served over aiohttp.

The app here is a stand-in for ticketbot's (a button, a modal, a command, message and Home
events), enough to prove the driver's bodies are what bolt parses and verifies.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import ALICE, BOT_ID, CAROL, SUPPORT_CHANNEL, SlackEmulator
from bot.sandbox.signer import (
    BAD_SIGNATURE,
    STALE,
    UNSIGNED,
    SlackDriver,
    SyncSlackDriver,
    Tamper,
    sign,
    signed_headers,
)
from tests.support.slack_fixtures import DriverFactory, serve_bolt_app

DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIG"
    "lgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

CARD_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Ticket#17* Printer on fire"}},
    {
        "type": "actions",
        "block_id": "ticket_buttons",
        "elements": [
            {
                "type": "button",
                "action_id": "ticket_claim",
                "text": {"type": "plain_text", "text": "Claim"},
                "value": "17",
            },
            {
                "type": "button",
                "action_id": "ticket_reply",
                "text": {"type": "plain_text", "text": "Reply"},
                "value": "17",
            },
        ],
    },
]
REPLY_MODAL = {
    "type": "modal",
    "callback_id": "ticket_reply",
    "title": {"type": "plain_text", "text": "Reply"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reply",
            "label": {"type": "plain_text", "text": "Reply"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}
TOO_LONG_TITLE = {"type": "plain_text", "text": "t" * 30}


def test_signature_matches_slacks_documented_test_vector() -> None:
    assert sign(DOC_SECRET, 1531420618, DOC_BODY) == DOC_SIGNATURE


@pytest.mark.parametrize(
    ("tamper", "valid"),
    [(None, True), (STALE, False), (BAD_SIGNATURE, False), (Tamper(secret="other"), False)],
)
def test_signed_headers_pass_or_fail_slacks_verifier(tamper: Tamper | None, valid: bool) -> None:
    body = "payload=%7B%7D"
    headers = signed_headers("secret", body, tamper)
    assert SignatureVerifier("secret").is_valid_request(body, headers) is valid


@dataclass
class BotStub:
    """What the stand-in bot saw, and where it listens."""

    url: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    retry_nums: list[str | None] = field(default_factory=list)
    joined: list[tuple[str, str]] = field(default_factory=list)


def build_app(slack: SlackEmulator, secret: str, seen: BotStub) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.base_url),
        signing_secret=secret,
    )

    @app.action("ticket_claim")
    async def handle_claim(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(
            channel=body["channel"]["id"],
            thread_ts=body["container"]["message_ts"],
            text=f"Claimed by <@{body['user']['id']}>",
        )

    @app.action("ticket_reply")
    async def handle_reply(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=REPLY_MODAL)

    @app.view("ticket_reply")
    async def handle_submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        text = view["state"]["values"]["reply"]["text"]["value"]
        if not text:
            await ack(response_action="errors", errors={"reply": "Write something first"})
        elif text in ("push", "update"):
            await ack(response_action=text, view={**REPLY_MODAL, "private_metadata": text})
        elif text == "too long":
            await ack(response_action="update", view={**REPLY_MODAL, "title": TOO_LONG_TITLE})
        else:
            await ack()

    @app.command("/ticket")
    async def handle_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack(text=f"looking up {command['text']}")
        await respond(text="details follow")

    @app.event("message")
    async def handle_message(event: dict[str, Any], request: AsyncBoltRequest) -> None:
        seen.messages.append(event)
        seen.retry_nums.append(request.headers.get("x-slack-retry-num", [None])[0])

    @app.action("ticket_close")
    async def handle_close(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text="Closed", replace_original=True)

    @app.event("member_joined_channel")
    async def handle_join(event: dict[str, Any]) -> None:
        seen.joined.append((event["channel"], event["user"]))

    @app.event("app_home_opened")
    async def handle_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_publish(
            user_id=event["user"],
            view={"type": "home", "blocks": [{"type": "divider"}]},
        )

    return app


@pytest.fixture
async def bot(slack: SlackEmulator, slack_signing_secret: str) -> AsyncIterator[BotStub]:
    seen = BotStub(url="")
    async with serve_bolt_app(build_app(slack, slack_signing_secret, seen)) as url:
        seen.url = url
        yield seen


@pytest.fixture
async def driver(bot: BotStub, slack_driver_factory: DriverFactory) -> SlackDriver:
    return await slack_driver_factory(bot.url)


async def post_card(slack: SlackEmulator) -> Any:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    resp = await client.chat_postMessage(
        channel=SUPPORT_CHANNEL, text="Ticket#17", blocks=CARD_BLOCKS
    )
    card = slack.message(SUPPORT_CHANNEL, resp["ts"])
    assert card is not None
    return card


async def test_signed_block_actions_are_acked_and_handled(
    slack: SlackEmulator, driver: SlackDriver
) -> None:
    card = await post_card(slack)
    delivery = await driver.click(card, "ticket_claim", user=ALICE)
    assert delivery.status == 200 and delivery.acked_in_time
    assert delivery.payload["actions"][0]["value"] == "17"
    assert delivery.response_url is not None and delivery.response_url.startswith(slack.url)
    replies = await slack.wait_for_async(lambda: slack.replies(SUPPORT_CHANNEL, card.ts))
    assert [m.text for m in replies] == [f"Claimed by <@{ALICE}>"]


@pytest.mark.parametrize(
    "tamper", [BAD_SIGNATURE, STALE, UNSIGNED, Tamper(secret="not-the-secret")]
)
async def test_forged_deliveries_get_401_and_do_nothing(
    slack: SlackEmulator, driver: SlackDriver, tamper: Tamper
) -> None:
    card = await post_card(slack)
    delivery = await driver.click(card, "ticket_claim", user=ALICE, tamper=tamper)
    assert (delivery.status, delivery.json()) == (401, {"error": "invalid request"})
    # Nothing posted for this card (the emulator is shared by the session: a post of an
    # earlier test's leftover task may land in its log, so look at this card's thread).
    posts = [c for c in slack.calls("chat.postMessage") if c.args.get("thread_ts") == card.ts]
    assert (posts, slack.replies(SUPPORT_CHANNEL, card.ts)) == ([], [])


async def test_modal_flow_with_trigger_and_submission_errors(
    slack: SlackEmulator, driver: SlackDriver
) -> None:
    card = await post_card(slack)
    click = await driver.click(card, "ticket_reply", user=ALICE)
    [view] = await slack.wait_for_async(lambda: slack.views(callback_id="ticket_reply"))
    assert (view.trigger_id, view.user_id) == (click.trigger_id, ALICE)
    empty = await driver.submit_view(view.id, {"reply": {"text": ""}})
    assert empty.json() == {
        "response_action": "errors",
        "errors": {"reply": "Write something first"},
    }
    assert not slack.view(view.id).closed
    sent = await driver.submit_view(view.id, {"reply": {"text": "We are on it"}})
    assert sent.status == 200 and sent.body == ""
    assert slack.view(view.id).closed


async def test_view_acks_push_update_and_report_invalid_views(
    slack: SlackEmulator, driver: SlackDriver
) -> None:
    card = await post_card(slack)
    await driver.click(card, "ticket_reply", user=ALICE)
    [view] = await slack.wait_for_async(lambda: slack.views(callback_id="ticket_reply"))
    await driver.submit_view(view.id, {"reply": {"text": "push"}})
    [_, pushed] = slack.views(callback_id="ticket_reply")
    assert (pushed.previous_view_id, pushed.root_view_id) == (view.id, view.id)
    assert pushed.private_metadata == "push"
    await driver.submit_view(pushed.id, {"reply": {"text": "update"}})
    assert slack.view(pushed.id).private_metadata == "update"
    bad = await driver.submit_view(pushed.id, {"reply": {"text": "too long"}})
    assert bad.view_errors == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    assert slack.view(pushed.id).private_metadata == "update"
    await driver.submit_view(pushed.id, {"reply": {"text": "done"}})
    assert [v.closed for v in slack.views()] == [False, True]


async def test_slash_command_ack_and_respond(slack: SlackEmulator, driver: SlackDriver) -> None:
    delivery = await driver.slash_command("17", user=ALICE, channel=SUPPORT_CHANNEL)
    assert (delivery.status, delivery.body) == (200, "looking up 17")
    assert delivery.payload["trigger_id"] == delivery.trigger_id
    posts = await slack.wait_for_async(slack.response_posts)
    assert [p.body["text"] for p in posts] == ["details follow"]
    shown = sorted((e.source, e.text) for e in slack.ephemerals(SUPPORT_CHANNEL, ALICE))
    assert shown == [("ack", "looking up 17"), ("response", "details follow")]


async def test_url_verification_echoes_the_challenge(driver: SlackDriver) -> None:
    delivery = await driver.url_verification("abc123")
    assert (delivery.status, delivery.json()) == (200, {"challenge": "abc123"})


async def test_user_messages_reach_the_bot_but_its_own_do_not(
    slack: SlackEmulator, driver: SlackDriver, bot: BotStub
) -> None:
    card = await post_card(slack)
    own = await driver.deliver_message(card)
    assert own.status == 200
    assert own.payload["event"]["bot_id"] == BOT_ID
    await driver.user_message(SUPPORT_CHANNEL, ALICE, "internal note", thread_ts=card.ts)
    await slack.wait_for_async(lambda: bot.messages)
    await driver.send_event(
        {
            "type": "message",
            "channel": SUPPORT_CHANNEL,
            "user": ALICE,
            "text": "again",
            "ts": "1.2",
        },
        retry_num=1,
    )
    await slack.wait_for_async(lambda: len(bot.messages) == 2)
    assert [(m["text"], m.get("thread_ts")) for m in bot.messages] == [
        ("internal note", card.ts),
        ("again", None),
    ]
    assert bot.messages[0]["parent_user_id"] == card.user
    assert bot.retry_nums == [None, "1"]


async def test_app_home_opened_leads_to_a_published_home(
    slack: SlackEmulator, driver: SlackDriver
) -> None:
    delivery = await driver.app_home_opened(ALICE)
    assert delivery.status == 200
    home = await slack.wait_for_async(lambda: slack.home_view(ALICE))
    assert home is not None
    assert home.view["blocks"] == [{"type": "divider"}]


async def test_socket_mode_delivers_envelopes_and_reads_acks(
    slack: SlackEmulator, slack_signing_secret: str, slack_driver_factory: DriverFactory
) -> None:
    seen = BotStub(url="")
    app = build_app(slack, slack_signing_secret, seen)
    handler = AsyncSocketModeHandler(app, slack.config.app_token)
    await handler.connect_async()
    try:
        await slack.wait_for_async(slack.socket_connections, what="a socket")
        driver = await slack_driver_factory("unused", transport="socket")
        delivery = await driver.slash_command("17", user=ALICE, channel=SUPPORT_CHANNEL)
        assert (delivery.status, delivery.json()) == (200, {"text": "looking up 17"})
        card = await post_card(slack)
        await driver.click(card, "ticket_claim", user=ALICE)
        replies = await slack.wait_for_async(lambda: slack.replies(SUPPORT_CHANNEL, card.ts))
        assert [m.text for m in replies] == [f"Claimed by <@{ALICE}>"]
        assert [c.method for c in slack.calls("apps.connections.open")] == ["apps.connections.open"]
    finally:
        await handler.close_async()


async def test_socket_mode_disconnect_makes_the_client_reconnect(
    slack: SlackEmulator, slack_signing_secret: str
) -> None:
    handler = AsyncSocketModeHandler(
        build_app(slack, slack_signing_secret, BotStub(url="")), slack.config.app_token
    )
    await handler.connect_async()
    try:
        await slack.wait_for_async(slack.socket_connections, what="a socket")
        slack.run_on_loop(lambda: slack.socket.disconnect("refresh_requested"))
        opens = await slack.wait_for_async(
            lambda: len(slack.calls("apps.connections.open")) == 2, what="a reconnect"
        )
        assert opens
        await slack.wait_for_async(lambda: slack.socket_connections() == 1, what="one socket")
    finally:
        await handler.close_async()


async def test_click_in_an_ephemeral_can_replace_it_through_response_url(
    slack: SlackEmulator, driver: SlackDriver
) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    button = {
        "type": "button",
        "action_id": "ticket_close",
        "text": {"type": "plain_text", "text": "Close"},
    }
    blocks = [{"type": "actions", "elements": [button]}]
    await client.chat_postEphemeral(
        channel=SUPPORT_CHANNEL, user=ALICE, text="Sure?", blocks=blocks
    )
    [ephemeral] = slack.ephemerals(SUPPORT_CHANNEL, ALICE)
    delivery = await driver.click(ephemeral, "ticket_close", user=ALICE)
    assert delivery.payload["container"]["is_ephemeral"] is True
    await slack.wait_for_async(slack.response_posts)
    [replaced] = slack.ephemerals(SUPPORT_CHANNEL, ALICE)
    assert (replaced.text, replaced.blocks, [v.text for v in replaced.history]) == (
        "Closed",
        None,
        ["Sure?"],
    )


async def test_member_joined_channel_updates_membership_and_is_delivered(
    slack: SlackEmulator, driver: SlackDriver, bot: BotStub
) -> None:
    delivery = await driver.member_joined_channel(SUPPORT_CHANNEL, CAROL)
    assert delivery.status == 200
    assert CAROL in slack.channel(SUPPORT_CHANNEL).members
    assert await slack.wait_for_async(lambda: bot.joined) == [(SUPPORT_CHANNEL, CAROL)]


@contextmanager
def bolt_in_thread(slack: SlackEmulator, secret: str) -> Iterator[str]:
    """A bolt app served from another thread's loop, like a bot in a separate process."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    holder: list[Any] = []

    async def enter() -> str:
        manager = serve_bolt_app(build_app(slack, secret, BotStub(url="")))
        holder.append(manager)
        return await manager.__aenter__()

    try:
        yield asyncio.run_coroutine_threadsafe(enter(), loop).result(10)
    finally:
        if holder:
            exit_coro = holder[0].__aexit__(None, None, None)
            asyncio.run_coroutine_threadsafe(exit_coro, loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_sync_driver_for_a_bot_outside_the_test_loop(
    slack: SlackEmulator, slack_signing_secret: str
) -> None:
    with (
        bolt_in_thread(slack, slack_signing_secret) as url,
        SyncSlackDriver(url, slack_signing_secret, slack) as sync,
    ):
        assert sync.run(sync.driver.url_verification("xyz")).json() == {"challenge": "xyz"}
        posted = WebClient(token=slack.bot_token, base_url=slack.base_url).chat_postMessage(
            channel=SUPPORT_CHANNEL, text="Ticket#17", blocks=CARD_BLOCKS
        )
        card = slack.message(SUPPORT_CHANNEL, posted["ts"])
        assert card is not None
        assert sync.run(sync.driver.click(card, "ticket_claim", user=ALICE)).status == 200
        replies = slack.wait_for(lambda: slack.replies(SUPPORT_CHANNEL, card.ts), timeout=5)
        assert [m.text for m in replies] == [f"Claimed by <@{ALICE}>"]
