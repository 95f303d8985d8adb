"""Views with trigger_id rules, the files v2 upload flow and response_url, via the real SDK."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sandbox.emulator import (
    ALICE,
    SUPPORT_CHANNEL,
    ManualClock,
    ResponseOrigin,
    SlackEmulator,
)


def reply_modal(title: str = "Reply", **over: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "ticket_reply",
        "private_metadata": '{"ticket": 17}',
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reply",
                "label": {"type": "plain_text", "text": "Reply"},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            }
        ],
        **over,
    }


HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "0"}}]}


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


async def test_views_open_records_the_modal_for_the_triggering_user(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    trigger = slack.issue_trigger(ALICE)
    resp = await slack_client.views_open(trigger_id=trigger, view=reply_modal())
    view = resp["view"]
    assert view["id"].startswith("V") and view["hash"]
    assert (view["callback_id"], view["private_metadata"]) == ("ticket_reply", '{"ticket": 17}')
    [rec] = slack.views(user_id=ALICE, callback_id="ticket_reply")
    assert (rec.id, rec.trigger_id, rec.type) == (view["id"], trigger, "modal")


async def test_trigger_ids_work_once(slack: SlackEmulator, slack_client: AsyncWebClient) -> None:
    trigger = slack.issue_trigger(ALICE)
    await slack_client.views_open(trigger_id=trigger, view=reply_modal())
    err = await api_error(slack_client.views_open(trigger_id=trigger, view=reply_modal()))
    assert err.response["error"] == "exchanged_trigger_id"
    assert len(slack.views()) == 1


async def test_trigger_ids_expire_after_three_seconds(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    clock = ManualClock()
    slack.clock = clock
    fresh, stale = slack.issue_trigger(ALICE), slack.issue_trigger(ALICE)
    clock.advance(2.9)
    await slack_client.views_open(trigger_id=fresh, view=reply_modal())
    clock.advance(0.2)
    err = await api_error(slack_client.views_open(trigger_id=stale, view=reply_modal()))
    assert err.response["error"] == "expired_trigger_id"


async def test_unknown_trigger_is_invalid_arguments(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    err = await api_error(slack_client.views_open(trigger_id="1.2.3", view=reply_modal()))
    assert err.response["error"] == "invalid_arguments"
    assert err.response["response_metadata"]["messages"] == ["invalid `trigger_id`"]


async def test_an_invalid_view_is_rejected_without_burning_the_trigger(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    trigger = slack.issue_trigger(ALICE)
    err = await api_error(
        slack_client.views_open(trigger_id=trigger, view=reply_modal(title="t" * 25))
    )
    assert err.response["error"] == "invalid_arguments"
    assert err.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    await slack_client.views_open(trigger_id=trigger, view=reply_modal())
    assert len(slack.views()) == 1


async def test_oversized_view_is_view_too_large(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    big = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}
    view = reply_modal(blocks=[big] * 90, submit=None)
    err = await api_error(slack_client.views_open(trigger_id=slack.issue_trigger(ALICE), view=view))
    assert err.response["error"] == "view_too_large"


async def test_views_update_by_id_or_external_id_checks_hash(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    opened = await slack_client.views_open(
        trigger_id=slack.issue_trigger(ALICE), view=reply_modal(external_id="t17")
    )
    view_id, first_hash = opened["view"]["id"], opened["view"]["hash"]
    updated = await slack_client.views_update(
        view_id=view_id, hash=first_hash, view=reply_modal(title="Reply (2)", external_id="t17")
    )
    assert updated["view"]["hash"] != first_hash
    stale = await api_error(
        slack_client.views_update(view_id=view_id, hash=first_hash, view=reply_modal())
    )
    assert stale.response["error"] == "hash_conflict"
    await slack_client.views_update(external_id="t17", view=reply_modal(title="Reply (3)"))
    rec = slack.view(view_id)
    assert rec.view["title"]["text"] == "Reply (3)"
    assert [v["title"]["text"] for v in rec.history] == ["Reply", "Reply (2)"]
    gone = await api_error(slack_client.views_update(view_id="V0NOPE", view=reply_modal()))
    assert gone.response["error"] == "not_found"


async def test_views_publish_keeps_one_home_per_user(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    first = await slack_client.views_publish(user_id=ALICE, view=HOME)
    second = await slack_client.views_publish(user_id=ALICE, view=HOME)
    assert first["view"]["id"] == second["view"]["id"]
    home = slack.home_view(ALICE)
    assert home is not None and home.type == "home" and len(home.history) == 1
    modal = await api_error(slack_client.views_publish(user_id=ALICE, view=reply_modal()))
    assert modal.response["error"] == "invalid_arguments"


async def test_files_upload_v2_shares_the_bytes_into_a_thread(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    card = await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="card")
    resp = await slack_client.files_upload_v2(
        content=b"%PDF-1.7 fake",
        filename="invoice.pdf",
        title="Invoice",
        channel=SUPPORT_CHANNEL,
        thread_ts=card["ts"],
        initial_comment="Attachment from the customer",
    )
    [file] = slack.files()
    assert resp["file"]["id"] == file.id
    assert (file.filename, file.title, file.content) == ("invoice.pdf", "Invoice", b"%PDF-1.7 fake")
    assert (file.channel, file.thread_ts, file.completed) == (SUPPORT_CHANNEL, card["ts"], True)
    [share] = slack.replies(SUPPORT_CHANNEL, card["ts"])
    assert (share.text, share.files) == ("Attachment from the customer", [file.id])
    # Only this upload's calls: the emulator is shared by the session, and a post from an
    # earlier test's leftover task may land in its log between them.
    assert [c.method for c in slack.calls() if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]


async def test_files_complete_once_and_only_after_upload(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    reserved = await slack_client.files_getUploadURLExternal(filename="a.txt", length=3)
    files = [{"id": reserved["file_id"], "title": "a"}]
    early = await api_error(slack_client.files_completeUploadExternal(files=files))
    assert early.response["error"] == "file_not_found"
    await slack_client.files_upload_v2(content="abc", filename="b.txt", channel=SUPPORT_CHANNEL)
    done = slack.files()[-1]
    again = await api_error(slack_client.files_completeUploadExternal(files=[{"id": done.id}]))
    assert again.response["error"] == "file_not_found"


async def test_response_url_replaces_posts_and_wears_out(slack: SlackEmulator) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    card = await client.chat_postMessage(channel=SUPPORT_CHANNEL, text="card v1")
    url = slack.issue_response_url(ResponseOrigin("message", ALICE, SUPPORT_CHANNEL, card["ts"]))
    hook = AsyncWebhookClient(url)
    replaced = await hook.send(text="card v2", replace_original=True)
    assert replaced.status_code == 200
    await hook.send(text="just for alice")
    await hook.send(text="for everyone", response_type="in_channel")
    await hook.send_dict(
        {"text": "in the thread", "response_type": "in_channel", "thread_ts": card["ts"]}
    )
    await hook.send_dict({"text": "", "delete_original": True})
    worn = await hook.send(text="sixth")
    assert (worn.status_code, worn.body) == (404, '{"ok": false, "error": "used_url"}')
    msg = slack.message(SUPPORT_CHANNEL, card["ts"])
    assert msg is not None and msg.deleted and msg.text == "card v2"
    assert [m.text for m in slack.messages(SUPPORT_CHANNEL)] == ["for everyone"]
    assert [m.text for m in slack.replies(SUPPORT_CHANNEL, card["ts"])] == ["in the thread"]
    assert [e.text for e in slack.ephemerals(user=ALICE)] == ["just for alice"]
    assert [p.status for p in slack.response_posts()] == [200] * 5 + [404]


async def test_response_url_expires_after_30_minutes(slack: SlackEmulator) -> None:
    clock = ManualClock()
    slack.clock = clock
    url = slack.issue_response_url(ResponseOrigin("command", ALICE, SUPPORT_CHANNEL))
    clock.advance(30 * 60 + 1)
    resp = await AsyncWebhookClient(url).send(text="late")
    assert resp.status_code == 404
    assert slack.ephemerals() == []


async def test_uploads_are_checked_for_their_length_and_typed_by_their_bytes(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    reserved = await slack_client.files_getUploadURLExternal(filename="chart.png", length=5)
    async with (
        aiohttp.ClientSession() as session,
        session.post(reserved["upload_url"], data=b"abc") as short,
    ):
        assert (short.status, await short.text()) == (
            400,
            "length_mismatch: 3 bytes sent, 5 announced",
        )
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
    await slack_client.files_upload_v2(content=png, filename="chart.png", channel=SUPPORT_CHANNEL)
    await slack_client.files_upload_v2(
        content=b"a,b\r\n1,2\r\n", filename="t.csv", channel=SUPPORT_CHANNEL
    )
    await slack_client.files_upload_v2(
        content=b"not a png", filename="fake.png", channel=SUPPORT_CHANNEL
    )
    typed = [(f.filename, f.filetype, f.mimetype) for f in slack.files() if f.completed]
    assert typed == [
        ("chart.png", "png", "image/png"),
        ("t.csv", "csv", "text/csv"),
        ("fake.png", "text", "text/plain"),
    ]
