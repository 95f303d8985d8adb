"""`/ticket`, one behaviour each, against the shipped emulator (in-process, signed, SQLite
and PostgreSQL): every verb answers only the person who asked, within Slack's 3 s.

Not repeated here (test_visibility.py has them in-process): `show` giving the same answer
for a missing ticket and one of another queue, what `search`, `mine` and `queue` list for
each person, and who gets a `report` over which queues.
"""

from __future__ import annotations

import pytest

from bot.sandbox.emulator import (
    ALICE,
    BILLING_CHANNEL,
    BOB,
    BOT_USER_ID,
    CAROL,
    DAVE,
    GENERAL_CHANNEL,
    LENA,
    SUPPORT_CHANNEL,
    Ephemeral,
    SlackEmulator,
)
from bot.slack import ids
from models import effects
from models.outbox.items import OutboxItem
from tests.bot.running_bot import HOOK, SUPPORT, new_ticket
from tests.bot.slack.test_visibility import World
from tests.support.slack_handlers import calls_since, slash, world_fixture  # noqa: F401

VERBS = ("help", "show", "search", "mine", "queue", "report")
SLACK_POSTS = {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}


def only_answer(slack: SlackEmulator) -> Ephemeral:
    """The one message the command produced: an ephemeral (from the ack or the response_url)."""
    [answer] = slack.ephemerals()
    return answer


@pytest.mark.parametrize(
    ("text", "user", "channel"),
    [
        pytest.param("help", ALICE, SUPPORT_CHANNEL, id="help"),
        pytest.param("show {number}", ALICE, SUPPORT_CHANNEL, id="show"),
        pytest.param("search widget", ALICE, SUPPORT_CHANNEL, id="search"),
        pytest.param("mine", BOB, SUPPORT_CHANNEL, id="mine"),
        pytest.param("queue", ALICE, SUPPORT_CHANNEL, id="queue"),
        pytest.param("report today", LENA, GENERAL_CHANNEL, id="report-by-a-lead"),
        pytest.param("report today", ALICE, SUPPORT_CHANNEL, id="report-by-a-non-lead"),
        pytest.param("frobnicate", CAROL, GENERAL_CHANNEL, id="unknown-verb"),
    ],
)
async def test_every_verb_answers_only_the_asker(
    world: World, slack: SlackEmulator, text: str, user: str, channel: str
) -> None:
    seen = {c: slack.channel_with_threads(c) for c in (SUPPORT_CHANNEL, GENERAL_CHANNEL)}
    mark = len(slack.calls())
    await slash(world, text.format(number=world.waiting.number), user, channel)
    answer = only_answer(slack)
    assert (answer.channel, answer.user) == (channel, user) and answer.text
    assert all(p.body.get("response_type") == "ephemeral" for p in slack.response_posts())
    assert not SLACK_POSTS & set(calls_since(slack, mark))
    assert {c: slack.channel_with_threads(c) for c in seen} == seen


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("help", id="help"),
        pytest.param("", id="nothing"),
        pytest.param("  HELP  ", id="shouted"),
        pytest.param("frobnicate the widget", id="unknown-verb"),
        pytest.param("show", id="show-without-number"),
        pytest.param("show 1 2", id="show-with-two-numbers"),
        pytest.param("search   ", id="search-without-words"),
    ],
)
async def test_help_and_anything_unknown_get_the_list_of_verbs(
    world: World, slack: SlackEmulator, text: str
) -> None:
    asked = await slash(world, text, CAROL, GENERAL_CHANNEL)
    ack = asked.json()
    assert ack["response_type"] == "ephemeral"
    for verb in VERBS:
        assert f"*/ticket {verb}" in ack["text"], verb
    assert only_answer(slack).source == "ack"


@pytest.mark.parametrize("hook", [HOOK, HOOK.lower(), HOOK.upper()])
async def test_show_takes_the_number_as_a_mail_subject_writes_it(
    world: World, slack: SlackEmulator, hook: str
) -> None:
    await slash(world, f"show [{hook}{world.waiting.number}]", ALICE, SUPPORT_CHANNEL)
    answer = only_answer(slack)
    assert answer.text == f"{HOOK}{world.waiting.number}"
    assert world.waiting.subject in str(answer.blocks)


async def test_search_answers_after_the_ack_through_the_response_url(
    world: World, slack: SlackEmulator
) -> None:
    asked = await slash(world, "search jams", ALICE, SUPPORT_CHANNEL)
    assert not asked.body  # acked empty: the search runs after the ack
    answer = only_answer(slack)
    assert answer.source == "response"
    assert world.waiting.subject in str(answer.blocks)


async def test_a_report_for_a_lead_arrives_where_the_bot_is_no_member(
    world: World, slack: SlackEmulator
) -> None:
    assert BOT_USER_ID not in slack.channel(GENERAL_CHANNEL).members
    await slash(world, "report today", LENA, GENERAL_CHANNEL)
    answer = only_answer(slack)
    assert answer.source == "response" and answer.text.startswith("Report")
    assert slack.calls("chat.postEphemeral") == []  # it would fail in #general


async def test_a_report_over_a_period_it_cannot_read_says_what_it_takes(
    world: World, slack: SlackEmulator
) -> None:
    await slash(world, "report yesterday", LENA, GENERAL_CHANNEL)
    answer = only_answer(slack)
    assert answer.text.startswith("Report: ") and "today, week, month" in answer.text


async def test_search_pages_through_more_with_filters(world: World, slack: SlackEmulator) -> None:
    """Twelve new Support tickets about gadgets: ten on the first page, More replaces it with
    the other two; Dave (Billing) sees none of them."""
    made = [
        await new_ticket(SUPPORT, f"Gadget {n}", body="The gadget is broken.") for n in range(12)
    ]
    await slash(world, "search gadget state:new", ALICE, SUPPORT_CHANNEL)
    first = only_answer(slack)
    assert first.source == "response" and "1–10" in str(first.blocks)
    assert str(first.blocks).count("*Ticket#") == 10 and "*gadget*" in str(first.blocks)
    clicked = await world.driver.click(first, ids.SEARCH_MORE, user=ALICE)
    await world.bot.settle()
    assert clicked.acked_in_time
    [second] = [e for e in slack.ephemerals(user=ALICE) if e.message_ts == first.message_ts]
    shown = str(second.blocks)
    assert "11–12" in shown and "search_more" not in shown
    assert all(f"Ticket#{t.number}" in shown for t in made[:2])  # the oldest two come last
    await slash(world, "search gadget", DAVE, BILLING_CHANNEL)
    assert "No ticket in your queues matches" in str(slack.ephemerals(user=DAVE)[-1].blocks)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("search printer state:gone", "Search: state: is new, open, pending or closed."),
        ("search printer queue:Billing", "Search: no queue Billing among yours (Support)."),
        ("search printer owner:@nobody-here", "Search: owner: no agent called @nobody-here"),
    ],
)
async def test_a_search_filter_it_cannot_use_says_why(
    world: World, slack: SlackEmulator, text: str, answer: str
) -> None:
    await slash(world, text, ALICE, SUPPORT_CHANNEL)
    assert only_answer(slack).text.startswith(answer)


async def test_owner_filters_take_me_none_and_mentions(world: World, slack: SlackEmulator) -> None:
    for owner in ("me", f"<@{BOB}|bob>", '"@Bob Agent"', "@bob", BOB):
        await slash(world, f"search owner:{owner}", BOB, SUPPORT_CHANNEL)
        shown = str(slack.ephemerals(user=BOB)[-1].blocks)
        assert f"Ticket#{world.held.number}" in shown, owner
        assert f"Ticket#{world.waiting.number}" not in shown, owner
    await slash(world, "search owner:none state:new", ALICE, SUPPORT_CHANNEL)
    shown = str(slack.ephemerals(user=ALICE)[-1].blocks)
    assert f"Ticket#{world.waiting.number}" in shown and world.held.number not in shown


async def test_a_report_sends_its_chart_and_csv_to_the_askers_dm(
    world: World, slack: SlackEmulator
) -> None:
    await slash(world, "report today queue:support csv", LENA, GENERAL_CHANNEL)
    answer = only_answer(slack)
    assert "Queue: Support." in str(answer.blocks) and "DM with me" in str(answer.blocks)
    kinds = await OutboxItem.filter(kind=effects.SLACK_REPORT_FILE).values_list(
        "payload", flat=True
    )
    assert sorted(p["file"] for p in kinds) == ["chart", "csv"]  # type: ignore[index]
    await world.bot.deliver()
    dm = slack.im_channel_id(LENA)
    files = [f for f in slack.files() if f.channel == dm]
    assert sorted(f.filetype for f in files) == ["csv", "png"]
    [table] = [f for f in files if f.filetype == "csv"]
    assert table.content is not None
    assert (
        world.waiting.number in table.content.decode()
        and world.billing.number not in table.content.decode()
    )


async def test_a_report_of_an_unknown_queue_is_refused(world: World, slack: SlackEmulator) -> None:
    await slash(world, "report today queue:Nowhere", LENA, GENERAL_CHANNEL)
    assert only_answer(slack).text == "Report: no queue Nowhere among yours (Support, Billing)."
    assert not await OutboxItem.filter(kind=effects.SLACK_REPORT_FILE).exists()
