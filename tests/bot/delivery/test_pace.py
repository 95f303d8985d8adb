"""Pacing per channel and the flood digest: Slack's ~1 message/s/channel is met by the bot
itself, a 429 never counts as an attempt, and a flood gets one digest - with the real worker
against the emulator enforcing Slack's limit, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.digest import FloodDigest
from bot.delivery.pace import STALE_SECONDS, ChannelPace
from bot.delivery.posts import SlackDelivery
from bot.sandbox.emulator import BILLING_CHANNEL, SUPPORT_CHANNEL, SlackEmulator
from models import effects
from models.errors import RetryLater
from models.outbox.items import OutboxItem, OutboxStatus
from models.outbox.worker import OutboxWorker
from models.store.ticket import Ticket
from tests.support.clock import HandClock

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


class Seconds:
    """A hand-moved monotonic clock for the pacer."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_at_once_then_one_a_second_each_keeping_its_slot() -> None:
    clock = Seconds()
    pace = ChannelPace(per_second=1.0, burst=3, clock=clock)
    assert [pace.wait(SUPPORT_CHANNEL, n) for n in range(3)] == [0.0, 0.0, 0.0]
    assert [pace.wait(SUPPORT_CHANNEL, n) for n in range(3, 6)] == [1.0, 2.0, 3.0]
    assert pace.wait(BILLING_CHANNEL, "b") == 0.0  # channels do not share a timeline
    assert pace.wait(SUPPORT_CHANNEL, 4) == 2.0  # asked again early: the same slot
    clock.now += 2.0
    assert pace.wait(SUPPORT_CHANNEL, 4) == 0.0  # its slot has come
    assert pace.wait(SUPPORT_CHANNEL, 3) == 0.0  # 3's came a second ago: still 3's
    assert pace.wait(SUPPORT_CHANNEL, 6) == 2.0  # a newcomer queues behind 5's slot


def test_a_paced_item_is_told_to_come_back_uncounted() -> None:
    clock = Seconds()
    pace = ChannelPace(per_second=2.0, burst=1, clock=clock)
    pace.take(SUPPORT_CHANNEL, "first")
    with pytest.raises(RetryLater) as later:
        pace.take(SUPPORT_CHANNEL, "second")
    assert (later.value.after, later.value.counts, later.value.maybe_delivered) == (
        0.5,
        False,
        False,
    )
    pace.jump(SUPPORT_CHANNEL)  # the digest goes first; later newcomers wait longer
    assert pace.wait(SUPPORT_CHANNEL, "third") == 1.5


async def tickets(count: int) -> list[Ticket]:
    made = []
    for n in range(count):
        ticket = await Ticket.create(
            number=f"20260115100{n:05d}",
            queue="Support",
            subject=f"Request {n}",
            customer_email=f"c{n}@customer.example",
            slack_channel=SUPPORT_CHANNEL,
            last_activity_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
        await effects.post_card(ticket.id, lambda: NOW)
        made.append(ticket)
    return made


async def test_a_429_is_later_not_no_it_never_uses_up_attempts(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    [ticket] = await tickets(1)
    slack.faults.add("chat.postMessage", status=429, retry_after=1, times=30)
    clock = HandClock(NOW)
    worker = OutboxWorker(
        SlackDelivery(slack_client, "Ticket#").handlers(), owner="w", clock=clock, max_attempts=3
    )
    for _ in range(31):
        await worker.drain_once()
        clock.advance(2)
    item = await OutboxItem.get(kind=effects.SLACK_CARD_POST)
    assert (item.status, item.attempts) == (OutboxStatus.DONE, 1)
    assert (await Ticket.get(id=ticket.id)).slack_ts is not None
    assert len(slack.calls("chat.postMessage")) == 31


async def test_a_flood_gets_one_digest_and_its_cards_at_slacks_pace(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack.rate_limit.enable(per_second=1.0, burst=3)  # Slack's own limit, enforced
    await tickets(12)
    seconds, clock = Seconds(), HandClock(NOW)
    pace = ChannelPace(per_second=1.0, burst=3, clock=seconds)
    digest = FloodDigest(threshold=5, pace=pace, refresh_seconds=4.0, clock=seconds)
    delivery = SlackDelivery(slack_client, "Ticket#", pace=pace, digest=digest)
    worker = OutboxWorker(delivery.handlers(), owner="w", clock=clock)
    slack.rate_limit.per_second = 1000.0  # the emulator's clock is real time; ours is not

    posted_by_second: list[int] = []
    for _ in range(30):
        await worker.drain_once()
        posted_by_second.append(len(slack.calls("chat.postMessage")))
        seconds.now += 1.0
        clock.advance(1)
        if not await OutboxItem.filter(status=OutboxStatus.PENDING).exists():
            break

    messages = slack.messages(SUPPORT_CHANNEL)
    digests = [m for m in messages if "new tickets" in m.text or "new ticket " in m.text]
    card_messages = [m for m in messages if m not in digests]
    assert len(card_messages) == 12 and len(digests) == 1
    assert digests[0].ts < card_messages[3].ts  # told before the cards that had to wait
    first = digests[0].history[0].text  # how the flood was announced: N waiting …
    waiting = int(first.split()[1])
    assert first == f":inbox_tray: {waiting} new tickets — `/ticket queue`" and waiting > 5
    # … and closed when the last card was in
    assert digests[0].text == f":inbox_tray: All {waiting} new tickets are in — `/ticket queue`"
    # The burst, then about one a second (a post may share its second with a digest update).
    per_second = [b - a for a, b in zip([0, *posted_by_second], posted_by_second, strict=False)]
    assert max(per_second[1:]) <= 2 and per_second[0] <= 4
    assert await OutboxItem.filter(status=OutboxStatus.DEAD).count() == 0
    assert all(item.attempts <= 1 for item in await OutboxItem.all())


def test_behind_says_whether_posts_wait_for_their_slots() -> None:
    clock = Seconds()
    pace = ChannelPace(per_second=1.0, burst=2, clock=clock)
    assert not pace.behind(SUPPORT_CHANNEL)
    pace.wait(SUPPORT_CHANNEL, 1)
    pace.wait(SUPPORT_CHANNEL, 2)
    assert not pace.behind(SUPPORT_CHANNEL)  # the burst went at once
    assert pace.wait(SUPPORT_CHANNEL, 3) == 1.0
    assert pace.behind(SUPPORT_CHANNEL)  # 3 waits for its slot
    clock.now += 1.0
    assert pace.wait(SUPPORT_CHANNEL, 3) == 0.0
    assert not pace.behind(SUPPORT_CHANNEL)


def test_a_slot_whose_item_never_came_back_is_forgotten() -> None:
    clock = Seconds()
    pace = ChannelPace(per_second=1.0, burst=1, clock=clock)
    pace.wait(SUPPORT_CHANNEL, "first")
    assert pace.wait(SUPPORT_CHANNEL, "gone") == 1.0  # held; its item is never seen again
    assert pace.behind(SUPPORT_CHANNEL)
    clock.now += STALE_SECONDS + 5.0
    pace.wait(BILLING_CHANNEL, "other")  # any later call looks for stale slots
    assert not pace.behind(SUPPORT_CHANNEL)
