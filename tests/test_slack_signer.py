"""The delivery driver: Slack's signature, and a real bolt AsyncApp served over aiohttp.

The app here is a stand-in for ticketbot's (a button, a modal, a command, message and Home
events), enough to prove the driver's bodies are what bolt parses and verifies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_emulator import ALICE, BOT_ID, SUPPORT_CHANNEL, SlackEmulator
from tests.support.slack_fixtures import DriverFactory, serve_bolt_app
from tests.support.slack_signer import (
    BAD_SIGNATURE,
    STALE,
    UNSIGNED,
    SlackDriver,
    Tamper,
    sign,
    signed_headers,
)

DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIG"
    "lgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

CARD_BLOCKS = [
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
            return
        await ack()

    @app.command("/ticket")
    async def handle_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack(text=f"looking up {command['text']}")
        await respond(text="details follow")

    @app.event("message")
    async def handle_message(event: dict[str, Any], request: AsyncBoltRequest) -> None:
        seen.messages.append(event)
        seen.retry_nums.append(request.headers.get("x-slack-retry-num", [None])[0])

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
    assert slack.calls("chat.postMessage")[1:] == []


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


async def test_slash_command_ack_and_respond(slack: SlackEmulator, driver: SlackDriver) -> None:
    delivery = await driver.slash_command("17", user=ALICE, channel=SUPPORT_CHANNEL)
    assert (delivery.status, delivery.json()) == (200, {"text": "looking up 17"})
    posts = await slack.wait_for_async(slack.response_posts)
    assert [p.body["text"] for p in posts] == ["details follow"]
    assert [e.text for e in slack.ephemerals(SUPPORT_CHANNEL, ALICE)] == ["details follow"]


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
    assert bot.retry_nums == [None, "1"]


async def test_app_home_opened_leads_to_a_published_home(
    slack: SlackEmulator, driver: SlackDriver
) -> None:
    delivery = await driver.app_home_opened(ALICE)
    assert delivery.status == 200
    home = await slack.wait_for_async(lambda: slack.home_view(ALICE))
    assert home.view["blocks"] == [{"type": "divider"}]
