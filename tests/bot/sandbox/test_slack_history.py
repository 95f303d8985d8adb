"""conversations.history / conversations.replies, and faults that hit after the call was
applied (Slack did the work, the answer was lost): the emulator's side of duplicate-safe
posting."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import GENERAL_CHANNEL, SUPPORT_CHANNEL, SlackEmulator

MARK = {"event_type": "ticketbot_post", "event_payload": {"outbox_id": 7}}


async def post(client: AsyncWebClient, text: str, **extra: object) -> str:
    return str((await client.chat_postMessage(channel=SUPPORT_CHANNEL, text=text, **extra))["ts"])


async def test_history_is_newest_first_without_replies_and_pages(
    slack_client: AsyncWebClient,
) -> None:
    first = await post(slack_client, "one")
    await post(slack_client, "in thread", thread_ts=first)
    await post(slack_client, "broadcast", thread_ts=first, reply_broadcast=True)
    for text in ("two", "three"):
        await post(slack_client, text)
    page = await slack_client.conversations_history(channel=SUPPORT_CHANNEL, limit=2)
    assert [m["text"] for m in page["messages"]] == ["three", "two"]
    assert page["has_more"] is True
    rest = await slack_client.conversations_history(
        channel=SUPPORT_CHANNEL, limit=10, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["broadcast", "one"]
    assert rest["has_more"] is False and rest["response_metadata"]["next_cursor"] == ""
    newer = await slack_client.conversations_history(channel=SUPPORT_CHANNEL, oldest=first)
    assert "one" not in [m["text"] for m in newer["messages"]]
    inclusive = await slack_client.conversations_history(
        channel=SUPPORT_CHANNEL, oldest=first, latest=first, inclusive=True
    )
    assert [m["text"] for m in inclusive["messages"]] == ["one"]


async def test_metadata_only_when_asked_for(slack_client: AsyncWebClient) -> None:
    await post(slack_client, "marked", metadata=MARK)
    plain = await slack_client.conversations_history(channel=SUPPORT_CHANNEL)
    assert "metadata" not in plain["messages"][0]
    full = await slack_client.conversations_history(
        channel=SUPPORT_CHANNEL, include_all_metadata=True
    )
    assert full["messages"][0]["metadata"] == MARK
    assert full["messages"][0]["bot_id"]


async def test_replies_are_parent_then_oldest_first(slack_client: AsyncWebClient) -> None:
    parent = await post(slack_client, "card")
    await post(slack_client, "other card")
    for text in ("a", "b"):
        await post(slack_client, text, thread_ts=parent, metadata=MARK)
    thread = await slack_client.conversations_replies(
        channel=SUPPORT_CHANNEL, ts=parent, include_all_metadata=True
    )
    assert [m["text"] for m in thread["messages"]] == ["card", "a", "b"]
    assert thread["messages"][1]["metadata"] == MARK
    later = await slack_client.conversations_replies(
        channel=SUPPORT_CHANNEL, ts=parent, oldest=parent
    )
    assert [m["text"] for m in later["messages"]] == ["a", "b"]


async def test_reading_errors(slack: SlackEmulator, slack_client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        await slack_client.conversations_replies(channel=SUPPORT_CHANNEL, ts="1.000001")
    assert info.value.response["error"] == "thread_not_found"
    with pytest.raises(SlackApiError) as info:
        await slack_client.conversations_history(channel=GENERAL_CHANNEL)
    assert info.value.response["error"] == "not_in_channel"
    with pytest.raises(SlackApiError) as info:
        await slack_client.conversations_history(channel=SUPPORT_CHANNEL, limit=0)
    assert info.value.response["error"] == "invalid_limit"
    slack.set_scopes(["chat:write"])
    with pytest.raises(SlackApiError) as info:
        await slack_client.conversations_history(channel=SUPPORT_CHANNEL)
    assert (info.value.response["error"], info.value.response["needed"]) == (
        "missing_scope",
        "channels:history",
    )


async def test_a_fault_after_apply_loses_only_the_answer(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack.faults.add("chat.postMessage", status=500, after_apply=True)
    with pytest.raises(SlackApiError) as info:
        await post(slack_client, "landed anyway")
    assert info.value.response.status_code == 500
    assert [m.text for m in slack.messages(SUPPORT_CHANNEL)] == ["landed anyway"]
    assert [(c.status, c.faulted) for c in slack.calls("chat.postMessage")] == [(500, True)]
    impatient = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url, timeout=0.3)
    slack.faults.add("chat.postMessage", status=None, delay=1.0, after_apply=True)
    with pytest.raises(TimeoutError):
        await post(impatient, "also landed")
    assert [m.text for m in slack.messages(SUPPORT_CHANNEL)] == ["landed anyway", "also landed"]
