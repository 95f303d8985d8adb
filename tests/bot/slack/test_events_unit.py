"""`message` events, one behaviour each, against the shipped emulator (in-process, signed,
SQLite and PostgreSQL): an agent's message in a card's thread becomes an internal note,
confirmed with a :memo: reaction; every other message is left alone.

Not repeated here (test_visibility.py has them in-process): messages of non-agents in a
card's thread (guests, single-channel guests, Slack Connect members), and the note's
ticket, body and author.
"""

from __future__ import annotations

import time

import pytest

from bot.sandbox.emulator import ALICE, BOB, BOT_ID, BOT_USER_ID, SUPPORT_CHANNEL, SlackEmulator
from bot.sandbox.signer import Delivery
from models.store.article import Article, ArticleKind
from tests.bot.slack.test_visibility import World
from tests.support.slack_handlers import calls_since, in_time, world_fixture  # noqa: F401

SLACK_WRITES = {"reactions.add", "chat.postMessage", "chat.postEphemeral", "chat.update"}


async def posted(world: World, delivery: Delivery) -> Delivery:
    """Slack delivered a message event: acked in time; the bot's follow-ups have run."""
    await world.bot.settle()
    await world.bot.deliver()
    return in_time(delivery)


async def say(world: World, user: str, text: str, *, thread_ts: str | None = None) -> Delivery:
    """`user` writes in #support (in a thread when `thread_ts`), and Slack tells the bot."""
    delivery = await world.driver.user_message(SUPPORT_CHANNEL, user, text, thread_ts=thread_ts)
    return await posted(world, delivery)


async def notes() -> int:
    return await Article.filter(kind=ArticleKind.NOTE).count()


def nothing_written_since(slack: SlackEmulator, mark: int) -> bool:
    return not SLACK_WRITES & set(calls_since(slack, mark))


# -- an agent's message in a card's thread ---------------------------------------------


async def test_an_agents_thread_message_gets_a_memo_reaction_and_no_repost(
    world: World, slack: SlackEmulator
) -> None:
    card = world.card(slack, world.waiting)
    await say(world, ALICE, "Called them back", thread_ts=card.ts)
    [message] = slack.replies(SUPPORT_CHANNEL, card.ts)  # only hers: the note is not echoed
    assert message.user == ALICE and message.reactions == {"memo": [BOT_USER_ID]}
    assert await notes() == 1


async def test_the_same_message_delivered_again_is_still_one_note(
    world: World, slack: SlackEmulator
) -> None:
    card = world.card(slack, world.waiting)
    first = await say(world, ALICE, "Called them back", thread_ts=card.ts)
    event = dict(first.payload["event"])
    again = await world.driver.send_event(event, retry_num=1, retry_reason="http_timeout")
    await posted(world, again)
    assert await notes() == 1
    assert len(slack.calls("reactions.add")) == 1


# -- messages that are no note ---------------------------------------------------------


async def test_a_message_outside_any_thread_is_no_note(world: World, slack: SlackEmulator) -> None:
    mark = len(slack.calls())
    await say(world, ALICE, "Lunch, anyone?")
    assert await notes() == 0
    assert nothing_written_since(slack, mark)


async def test_a_reply_in_the_thread_of_a_message_that_is_no_card_is_no_note(
    world: World, slack: SlackEmulator
) -> None:
    chat = slack.record_user_message(SUPPORT_CHANNEL, BOB, "Who broke the printer?")
    mark = len(slack.calls())
    await say(world, ALICE, "Not me", thread_ts=chat.ts)
    assert await notes() == 0
    assert nothing_written_since(slack, mark)


async def test_the_bots_own_post_in_a_cards_thread_is_no_note(
    world: World, slack: SlackEmulator
) -> None:
    card = world.card(slack, world.waiting)
    sent = await world.bot.client.chat_postMessage(
        channel=SUPPORT_CHANNEL, thread_ts=card.ts, text="A customer replied."
    )
    own = slack.message(SUPPORT_CHANNEL, str(sent["ts"]))
    assert own is not None and own.bot_id == BOT_ID
    mark = len(slack.calls())
    await posted(world, await world.driver.deliver_message(own))
    assert await notes() == 0
    assert nothing_written_since(slack, mark)


def changed_or_deleted(subtype: str, channel: str, thread_ts: str, ts: str) -> dict[str, object]:
    """Slack's event for an edit or a deletion of the thread reply `ts` (`hidden`, the
    message before and after). It also carries `user`, `text` and `thread_ts` at the top,
    so only the subtype tells it from a new message."""
    now = f"{time.time():.6f}"
    before = {"type": "message", "user": ALICE, "text": "Called them", "ts": ts}
    before["thread_ts"] = thread_ts
    event: dict[str, object] = {
        "type": "message",
        "subtype": subtype,
        "hidden": True,
        "channel": channel,
        "channel_type": "channel",
        "ts": now,
        "event_ts": now,
        "user": ALICE,
        "text": "Called them back, twice",
        "thread_ts": thread_ts,
        "previous_message": before,
    }
    if subtype == "message_changed":
        event["message"] = {
            **before,
            "text": "Called them back, twice",
            "edited": {"user": ALICE, "ts": now},
        }
    else:
        event["deleted_ts"] = ts
    return event


@pytest.mark.parametrize("subtype", ["message_changed", "message_deleted"])
async def test_editing_or_deleting_a_thread_message_adds_nothing(
    world: World, slack: SlackEmulator, subtype: str
) -> None:
    card = world.card(slack, world.waiting)
    noted = await say(world, ALICE, "Called them", thread_ts=card.ts)
    mark = len(slack.calls())
    event = changed_or_deleted(subtype, SUPPORT_CHANNEL, card.ts, noted.payload["event"]["ts"])
    await posted(world, await world.driver.send_event(event))
    assert await notes() == 1
    assert nothing_written_since(slack, mark)
