"""The emulator answers the real slack_sdk AsyncWebClient the way Slack does (SLACK.md §3–§4)."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import (
    ALICE,
    BILLING_CHANNEL,
    BOB,
    BOT_ID,
    BOT_USER_ID,
    CAROL,
    DAVE,
    EXTERNAL,
    GENERAL_CHANNEL,
    GUEST,
    PARTNER_TEAM_ID,
    SOLO,
    SUPPORT_CHANNEL,
    TEAM_ID,
    Channel,
    ManualClock,
    SlackEmulator,
    User,
    payloads,
)

TS = re.compile(r"^\d{10}\.\d{6}$")
BUTTONS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Ticket#1*"}},
    {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Claim"}, "action_id": "a"}
        ],
    },
]


async def api_error(call: object) -> SlackApiError:
    """The SlackApiError an awaited client call raises."""
    with pytest.raises(SlackApiError) as info:
        await call  # type: ignore[misc]
    return info.value


async def test_auth_test_names_the_bot_and_sends_scopes_header(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    resp = await slack_client.auth_test()
    assert (resp["user_id"], resp["bot_id"], resp["team_id"]) == (BOT_USER_ID, BOT_ID, "T0TICKET01")
    assert "chat:write" in resp.headers["x-oauth-scopes"].split(",")


async def test_post_message_records_a_bot_message_with_increasing_ts(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack.clock = ManualClock()  # frozen: ts must still strictly increase
    sent = [
        await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text=f"m{i}", blocks=BUTTONS)
        for i in range(3)
    ]
    stamps = [r["ts"] for r in sent]
    assert all(TS.match(ts) for ts in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert sent[0]["message"]["bot_id"] == BOT_ID
    assert sent[0]["message"]["bot_profile"]["id"] == BOT_ID
    recorded = slack.messages(SUPPORT_CHANNEL)
    assert [m.text for m in recorded] == ["m0", "m1", "m2"]
    assert recorded[0].blocks == BUTTONS


async def test_thread_replies_hang_off_the_parent(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    parent = await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="card")
    first = await slack_client.chat_postMessage(
        channel=SUPPORT_CHANNEL, text="r1", thread_ts=parent["ts"]
    )
    await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="r2", thread_ts=first["ts"])
    assert [m.text for m in slack.replies(SUPPORT_CHANNEL, parent["ts"])] == ["r1", "r2"]
    assert [m.text for m in slack.messages(SUPPORT_CHANNEL)] == ["card"]
    err = await api_error(
        slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="x", thread_ts="1.000001")
    )
    assert err.response["error"] == "thread_not_found"


async def test_update_keeps_history_and_refuses_foreign_messages(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    posted = await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="v1")
    resp = await slack_client.chat_update(
        channel=SUPPORT_CHANNEL, ts=posted["ts"], text="v2", blocks=BUTTONS
    )
    assert resp["message"]["text"] == "v2"
    msg = slack.message(SUPPORT_CHANNEL, posted["ts"])
    assert msg is not None
    assert (msg.text, msg.blocks, [v.text for v in msg.history]) == ("v2", BUTTONS, ["v1"])
    human = slack.record_user_message(SUPPORT_CHANNEL, ALICE, "hello")
    foreign = await api_error(
        slack_client.chat_update(channel=SUPPORT_CHANNEL, ts=human.ts, text="x")
    )
    missing = await api_error(slack_client.chat_update(channel=SUPPORT_CHANNEL, ts="1.2", text="x"))
    assert (foreign.response["error"], missing.response["error"]) == (
        "cant_update_message",
        "message_not_found",
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": GENERAL_CHANNEL, "text": "x"}, "not_in_channel"),
        ({"channel": "C0NOPE0000", "text": "x"}, "channel_not_found"),
        (
            {"channel": SUPPORT_CHANNEL, "text": "x", "attachments": [{"text": "a"}] * 101},
            "too_many_attachments",
        ),
    ],
)
async def test_post_message_errors(
    slack: SlackEmulator, slack_client: AsyncWebClient, kwargs: dict[str, object], error: str
) -> None:
    err = await api_error(slack_client.chat_postMessage(**kwargs))  # type: ignore[arg-type]
    assert err.response.status_code == 200
    assert err.response["error"] == error
    assert slack.messages(str(kwargs["channel"])) == []


async def test_no_text_and_no_blocks_is_no_text(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    # api_call: chat_postMessage would warn client-side before sending
    for payload in ({"channel": SUPPORT_CHANNEL}, {"channel": SUPPORT_CHANNEL, "blocks": []}):
        err = await api_error(slack_client.api_call("chat.postMessage", json=payload))
        assert err.response["error"] == "no_text"
    assert slack.messages(SUPPORT_CHANNEL) == []


async def test_posting_to_a_user_id_lands_in_the_bots_dm(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    resp = await slack_client.chat_postMessage(channel=ALICE, text="psst")
    assert resp["channel"].startswith("D")
    assert [m.text for m in slack.messages(resp["channel"])] == ["psst"]


async def test_text_above_40000_characters_is_truncated_and_flagged(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    resp = await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="a" * 40_010)
    assert len(resp["message"]["text"]) == 40_000
    assert slack.messages(SUPPORT_CHANNEL)[0].text_truncated


async def test_invalid_blocks_answer_has_slacks_shape(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    err = await api_error(
        slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="t", blocks=blocks)
    )
    pointer = "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    assert err.response.data == {
        "ok": False,
        "error": "invalid_blocks",
        "errors": [pointer],
        "response_metadata": {"messages": [f"[ERROR] {pointer}"]},
    }
    assert slack.messages(SUPPORT_CHANNEL) == []


async def test_ephemeral_goes_to_members_only(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    ok = await slack_client.chat_postEphemeral(channel=SUPPORT_CHANNEL, user=ALICE, text="only you")
    assert TS.match(ok["message_ts"])
    err = await api_error(
        slack_client.chat_postEphemeral(channel=SUPPORT_CHANNEL, user=CAROL, text="no")
    )
    assert err.response["error"] == "user_not_in_channel"
    assert [(e.user, e.text) for e in slack.ephemerals(SUPPORT_CHANNEL)] == [(ALICE, "only you")]
    assert slack.messages(SUPPORT_CHANNEL) == []


async def test_permalink_reactions_and_users(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    posted = await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="card")
    link = await slack_client.chat_getPermalink(channel=SUPPORT_CHANNEL, message_ts=posted["ts"])
    assert link["permalink"].endswith(
        f"/archives/{SUPPORT_CHANNEL}/p{posted['ts'].replace('.', '')}"
    )
    await slack_client.reactions_add(channel=SUPPORT_CHANNEL, timestamp=posted["ts"], name="eyes")
    again = await api_error(
        slack_client.reactions_add(channel=SUPPORT_CHANNEL, timestamp=posted["ts"], name="eyes")
    )
    assert again.response["error"] == "already_reacted"
    assert slack.messages(SUPPORT_CHANNEL)[0].reactions == {"eyes": [BOT_USER_ID]}
    info = await slack_client.users_info(user=BOB)
    assert info["user"]["profile"]["email"] == "bob@example.com"
    found = await slack_client.users_lookupByEmail(email="ALICE@example.com")
    assert found["user"]["id"] == ALICE
    nobody = await api_error(slack_client.users_lookupByEmail(email="who@example.com"))
    assert nobody.response["error"] == "users_not_found"


async def test_conversations_members_paginates_with_cursors(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    ids = [f"U0MANY{i:04d}" for i in range(250)]
    for uid in ids:
        slack.add_user(User(uid, uid.lower()))
    slack.add_channel(Channel("C0BIG00001", "big", [BOT_USER_ID, *ids]))
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        page = await slack_client.conversations_members(
            channel="C0BIG00001", limit=100, cursor=cursor
        )
        seen += page["members"]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert (pages, seen) == (3, [BOT_USER_ID, *ids])
    bad = await api_error(slack_client.conversations_members(channel="C0BIG00001", cursor="zzz"))
    assert bad.response["error"] == "invalid_cursor"


async def test_tokens_are_checked(slack: SlackEmulator) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.base_url)
    none = AsyncWebClient(base_url=slack.base_url)
    app = AsyncWebClient(token=slack.config.app_token, base_url=slack.base_url)
    errors = [
        (await api_error(wrong.chat_postMessage(channel=SUPPORT_CHANNEL, text="x"))).response[
            "error"
        ],
        (await api_error(none.auth_test())).response["error"],
        (await api_error(app.chat_postMessage(channel=SUPPORT_CHANNEL, text="x"))).response[
            "error"
        ],
    ]
    assert errors == ["invalid_auth", "not_authed", "not_allowed_token_type"]
    assert [c.error for c in slack.calls()] == errors


async def test_missing_scope_names_needed_and_provided(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack.set_scopes(["chat:write"])
    err = await api_error(slack_client.users_info(user=ALICE))
    assert (err.response["error"], err.response["needed"], err.response["provided"]) == (
        "missing_scope",
        "users:read",
        "chat:write",
    )


async def test_unknown_method(slack: SlackEmulator, slack_client: AsyncWebClient) -> None:
    err = await api_error(slack_client.api_call("tickets.frobnicate"))
    assert err.response["error"] == "unknown_method"


async def test_form_token_and_bad_json_bodies(slack: SlackEmulator) -> None:
    form = {"token": slack.bot_token, "channel": SUPPORT_CHANNEL, "text": "legacy form"}
    async with aiohttp.ClientSession() as http:
        async with http.post(slack.base_url + "chat.postMessage", data=form) as resp:
            assert (resp.status, (await resp.json())["ok"]) == (200, True)
        headers = {"Authorization": f"Bearer {slack.bot_token}", "Content-Type": "application/json"}
        async with http.post(
            slack.base_url + "chat.postMessage", data="{nope", headers=headers
        ) as r:
            assert (await r.json())["error"] == "invalid_json"
        async with http.post(slack.base_url + "chat.postMessage", data="[1]", headers=headers) as r:
            assert (await r.json())["error"] == "json_not_object"
    assert [m.text for m in slack.messages(SUPPORT_CHANNEL)] == ["legacy form"]


async def test_injected_429_reaches_the_client_and_changes_nothing(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    fault = slack.faults.add("chat.postMessage", status=429, retry_after=7, times=1)
    err = await api_error(slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="x"))
    assert (err.response.status_code, err.response["error"]) == (429, "ratelimited")
    assert err.response.headers["Retry-After"] == "7"
    assert slack.messages(SUPPORT_CHANNEL) == []
    await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="x")
    assert fault.hits == 1
    assert [(c.status, c.faulted) for c in slack.calls("chat.postMessage")] == [
        (429, True),
        (200, False),
    ]


async def test_rate_limit_retry_handler_recovers(slack: SlackEmulator) -> None:
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.faults.add("chat.postMessage", status=429, retry_after=0)
    await client.chat_postMessage(channel=SUPPORT_CHANNEL, text="eventually")
    assert [m.text for m in slack.messages(SUPPORT_CHANNEL)] == ["eventually"]


async def test_server_errors_and_disconnects(slack: SlackEmulator) -> None:
    plain = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    slack.faults.add("chat.postMessage", status=503)
    err = await api_error(plain.chat_postMessage(channel=SUPPORT_CHANNEL, text="x"))
    assert err.response.status_code == 503
    retrying = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.base_url,
        retry_handlers=[AsyncServerErrorRetryHandler(1, FixedValueRetryIntervalCalculator(0.01))],
    )
    slack.faults.add("chat.postMessage", status=500)
    await retrying.chat_postMessage(channel=SUPPORT_CHANNEL, text="after 500")
    slack.faults.add("chat.postMessage", disconnect=True)
    await plain.chat_postMessage(channel=SUPPORT_CHANNEL, text="after disconnect")
    assert [m.text for m in slack.messages(SUPPORT_CHANNEL)] == ["after 500", "after disconnect"]


async def test_per_channel_rate_limit_allows_a_burst_then_429(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    clock = ManualClock()
    slack.clock = clock
    slack.rate_limit.enable(per_second=1.0, burst=2)
    for text in ("a", "b"):
        await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text=text)
    err = await api_error(slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="c"))
    assert (err.response.status_code, err.response.headers["Retry-After"]) == (429, "1")
    await slack_client.chat_postMessage(channel=ALICE, text="other channel is fine")
    clock.advance(1.0)
    await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="c")
    assert [m.text for m in slack.messages(SUPPORT_CHANNEL)] == ["a", "b", "c"]


async def test_wait_for_async_sees_a_concurrent_post(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    waited, _ = await asyncio.gather(
        slack.wait_for_async(lambda: slack.messages(SUPPORT_CHANNEL), timeout=5),
        slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="arrives"),
    )
    assert [m.text for m in waited] == ["arrives"]


def test_wait_for_times_out_with_a_reason(slack: SlackEmulator) -> None:
    with pytest.raises(TimeoutError, match="a card"):
        slack.wait_for(lambda: slack.messages(SUPPORT_CHANNEL), timeout=0.05, what="a card")


async def test_reset_restores_the_workspace(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="x")
    slack.add_user(User("U0TEMP0001", "temp"))
    slack.faults.add("auth.test", status=500, times=None)
    slack.reset()
    assert slack.messages(SUPPORT_CHANNEL) == []
    assert slack.calls() == []
    assert slack.faults.rules == []
    err = await api_error(slack_client.users_info(user="U0TEMP0001"))
    assert err.response["error"] == "user_not_found"


async def test_delay_only_faults_slow_the_call_down_but_apply_it(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack.faults.add("chat.postMessage", status=None, delay=0.3)
    started = time.monotonic()
    await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="slow")
    assert time.monotonic() - started >= 0.3
    assert [m.text for m in slack.messages(SUPPORT_CHANNEL)] == ["slow"]


async def test_error_faults_can_answer_slack_errors_on_http_200(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack.faults.add("chat.update", status=200, error="fatal_error", when=lambda a: "ts" in a)
    err = await api_error(slack_client.chat_update(channel=SUPPORT_CHANNEL, ts="1.2", text="x"))
    assert (err.response.status_code, err.response["error"]) == (200, "fatal_error")


async def test_upload_endpoint_accepts_multipart_too(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    reserved = await slack_client.files_getUploadURLExternal(filename="a.csv", length=5)
    form = aiohttp.FormData()
    form.add_field("file", b"a,b\n1", filename="a.csv")
    async with aiohttp.ClientSession() as http, http.post(reserved["upload_url"], data=form) as r:
        assert (r.status, await r.text()) == (200, "OK - 5")
    assert [f.content for f in slack.files()] == [b"a,b\n1"]


def test_message_event_of_a_bot_post_carries_its_identity(slack: SlackEmulator) -> None:
    resp = WebClient(token=slack.bot_token, base_url=slack.base_url).chat_postMessage(
        channel=SUPPORT_CHANNEL, text="card"
    )
    msg = slack.message(SUPPORT_CHANNEL, resp["ts"])
    assert msg is not None
    envelope = slack.message_event(msg)
    event = envelope["event"]
    assert envelope["type"] == "event_callback"
    assert (event["type"], event["bot_id"], event["user"]) == ("message", BOT_ID, BOT_USER_ID)
    assert (event["channel"], event["ts"], event["channel_type"]) == (
        SUPPORT_CHANNEL,
        msg.ts,
        "channel",
    )
    assert event["bot_profile"]["app_id"] == slack.config.app_id


async def test_users_info_tells_members_guests_and_slack_connect_people_apart(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    """As Slack does: every user object has team_id and both guest flags; a single-channel
    guest is a restricted account too; a Slack Connect member carries their own team."""
    ours = (await slack_client.auth_test())["team_id"]
    seen = {
        user: (info["team_id"], info["is_restricted"], info["is_ultra_restricted"])
        for user in (ALICE, GUEST, SOLO, EXTERNAL)
        for info in [(await slack_client.users_info(user=user))["user"]]
    }
    assert ours == TEAM_ID
    assert seen == {
        ALICE: (TEAM_ID, False, False),
        GUEST: (TEAM_ID, True, False),
        SOLO: (TEAM_ID, True, True),
        EXTERNAL: (PARTNER_TEAM_ID, False, False),
    }
    external = (await slack_client.users_info(user=EXTERNAL))["user"]
    assert external["profile"]["team"] == PARTNER_TEAM_ID
    assert {GUEST, SOLO, EXTERNAL} <= set(slack.channel(SUPPORT_CHANNEL).members)
    assert slack.channel(BILLING_CHANNEL).members == [BOT_USER_ID, DAVE]


async def test_users_info_leaves_the_email_out_without_users_read_email(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack.set_scopes(["users:read"])
    profile = (await slack_client.users_info(user=BOB))["user"]["profile"]
    assert "email" not in profile and profile["real_name"] == "Bob Agent"


def test_only_members_post_and_their_messages_carry_their_own_team(slack: SlackEmulator) -> None:
    with pytest.raises(LookupError, match="not a member"):
        slack.record_user_message(SUPPORT_CHANNEL, CAROL, "let me in")
    external = slack.record_user_message(SUPPORT_CHANNEL, EXTERNAL, "hi from partner")
    assert external.to_api()["team"] == PARTNER_TEAM_ID
    assert slack.record_user_message(SUPPORT_CHANNEL, ALICE, "hi").team == TEAM_ID


def test_interaction_payloads_name_the_users_own_team(slack: SlackEmulator) -> None:
    assert payloads.user_ref(slack.config, slack.user(EXTERNAL))["team_id"] == PARTNER_TEAM_ID
    assert payloads.user_ref(slack.config, slack.user(GUEST))["team_id"] == TEAM_ID
