"""The driver's shortcut deliveries, view_closed, views.update and option groups, as a bolt
app parses them (SLACK.md §1.3): a stand-in app records what it got."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import ALICE, CAROL, SUPPORT_CHANNEL, SlackEmulator
from bot.sandbox.signer import SlackDriver
from tests.support.slack_fixtures import DriverFactory, serve_bolt_app

GROUPED: dict[str, Any] = {
    "type": "modal",
    "callback_id": "stub_form",
    "title": {"type": "plain_text", "text": "Stub"},
    "submit": {"type": "plain_text", "text": "Send"},
    "notify_on_close": True,
    "blocks": [
        {
            "type": "actions",
            "block_id": "menu",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "pick",
                    "option_groups": [
                        {
                            "label": {
                                "type": "plain_text",
                                "text": f"{g * 100 + 1}–{g * 100 + 100}",
                            },
                            "options": [
                                {"text": {"type": "plain_text", "text": f"T{i}"}, "value": str(i)}
                                for i in range(g * 100, g * 100 + 100)
                            ],
                        }
                        for g in range(2)
                    ],
                }
            ],
        },
        {
            "type": "input",
            "block_id": "text",
            "label": {"type": "plain_text", "text": "Text"},
            "element": {"type": "plain_text_input", "action_id": "value", "initial_value": "hi"},
        },
    ],
}


@pytest.fixture
async def seen(slack: SlackEmulator, slack_signing_secret: str) -> AsyncIterator[list[Any]]:
    got: list[Any] = []
    app = AsyncApp(
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.base_url),
        signing_secret=slack_signing_secret,
    )

    @app.shortcut("stub_new")
    async def new(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        got.append(body)
        await client.views_open(trigger_id=body["trigger_id"], view=GROUPED)
        await ack()  # last: the test reads what the app saw as soon as the ack is in

    @app.shortcut("stub_message")
    async def message(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        link = await client.chat_getPermalink(
            channel=body["channel"]["id"], message_ts=body["message_ts"]
        )
        got.append({**body, "permalink": link["permalink"]})
        await ack()

    @app.action("pick")
    async def pick(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        got.append(body)
        view = body["view"]
        await client.views_update(view_id=view["id"], hash=view["hash"], view=GROUPED)
        await ack()

    @app.view_closed("stub_form")
    async def closed(ack: AsyncAck, body: dict[str, Any]) -> None:
        got.append(body)
        await ack()

    async with serve_bolt_app(app) as url:
        got.append(url)
        yield got


@pytest.fixture
async def driver(seen: list[Any], slack_driver_factory: DriverFactory) -> SlackDriver:
    return await slack_driver_factory(seen.pop(0))


async def test_a_global_shortcut_opens_a_view_with_its_trigger(
    slack: SlackEmulator, driver: SlackDriver, seen: list[Any]
) -> None:
    delivery = await driver.global_shortcut("stub_new", user=ALICE)
    assert delivery.status == 200 and delivery.acked_in_time
    [body] = seen
    assert body["type"] == "shortcut" and body["callback_id"] == "stub_new"
    assert body["user"]["id"] == ALICE and "channel" not in body and "response_url" not in body
    [view] = slack.views(user_id=ALICE)
    assert view.trigger_id == delivery.trigger_id


async def test_a_message_shortcut_carries_the_message_and_a_response_url(
    slack: SlackEmulator, driver: SlackDriver, seen: list[Any]
) -> None:
    message = slack.record_user_message(SUPPORT_CHANNEL, ALICE, "help &lt;me&gt;")
    delivery = await driver.message_shortcut(message, "stub_message", user=ALICE)
    assert delivery.status == 200 and delivery.response_url
    [body] = seen
    assert body["type"] == "message_action" and body["message_ts"] == message.ts
    assert body["channel"]["id"] == SUPPORT_CHANNEL and body["message"]["text"] == message.text
    assert body["permalink"].endswith(f"/archives/{SUPPORT_CHANNEL}/p{message.ts.replace('.', '')}")


async def test_options_in_groups_state_and_view_closed(
    slack: SlackEmulator, driver: SlackDriver, seen: list[Any]
) -> None:
    await driver.global_shortcut("stub_new", user=ALICE)
    [view] = slack.views(user_id=ALICE)
    seen.clear()
    picked = await driver.click_in_view(
        view.id, "pick", value="150", values={"text": {"value": "typed"}}
    )
    assert picked.status == 200
    [body] = seen
    assert body["actions"][0]["selected_option"]["value"] == "150"  # from the second group
    assert body["view"]["state"]["values"]["text"]["value"]["value"] == "typed"
    assert slack.calls("views.update")[-1].ok
    seen.clear()
    closed = await driver.close_view(view.id)
    assert closed is not None and closed.status == 200
    [body] = seen
    assert body["type"] == "view_closed" and body["view"]["id"] == view.id


async def test_an_untouched_input_reports_its_initial_value(
    slack: SlackEmulator, driver: SlackDriver, seen: list[Any]
) -> None:
    await driver.global_shortcut("stub_new", user=CAROL)
    [view] = slack.views(user_id=CAROL)
    seen.clear()
    await driver.click_in_view(view.id, "pick", value="3")
    [body] = seen
    assert body["view"]["state"]["values"]["text"]["value"]["value"] == "hi"
