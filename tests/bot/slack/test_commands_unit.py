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
    BOB,
    BOT_USER_ID,
    CAROL,
    GENERAL_CHANNEL,
    LENA,
    SUPPORT_CHANNEL,
    Ephemeral,
    SlackEmulator,
)
from tests.bot.running_bot import HOOK
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
