"""Slack posts from the outbox are never doubled by a retry, on SQLite and PostgreSQL.

Slack has no idempotency key: an attempt whose answer is lost (a 5xx after the work
was done, a timeout, a crash before we recorded the ts) may have posted. The
emulator's `after_apply` faults do exactly that; the worker is the real one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.config import SlackSettings
from bot.delivery import posts
from bot.delivery.errors import may_have_landed
from bot.delivery.posts import POST_MARK, SlackDelivery
from bot.sandbox.emulator import SUPPORT_CHANNEL, SlackEmulator
from bot.slack.app import build_client
from models import effects
from models.events import Notice
from models.outbox.items import OutboxItem, OutboxStatus, Outcome
from models.outbox.worker import OutboxWorker
from models.store.article import Article, ArticleKind
from models.store.ticket import Ticket
from tests.support.clock import HandClock

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


async def new_ticket() -> Ticket:
    return await Ticket.create(
        number="2026011510000017",
        queue="Support",
        subject="Printer on floor 3 is broken",
        customer_email="alice@example.com",
        customer_name="Alice Customer",
        slack_channel=SUPPORT_CHANNEL,
        last_activity_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def worker(
    client: AsyncWebClient, clock: HandClock, owner: str = "w", **options: Any
) -> OutboxWorker:
    return OutboxWorker(
        SlackDelivery(client, "Ticket#").handlers(), owner=owner, clock=clock, **options
    )


async def drain(work: OutboxWorker, clock: HandClock, rounds: int = 5) -> None:
    """Run the worker until nothing is pending, moving the clock past each backoff."""
    for _ in range(rounds):
        await work.drain_once()
        if not await OutboxItem.filter(status=OutboxStatus.PENDING).exists():
            return
        clock.advance(600)
    raise AssertionError("outbox not drained")


def cards(slack: SlackEmulator) -> list[str]:
    return [m.ts for m in slack.messages(SUPPORT_CHANNEL)]


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 502, "body": "Bad Gateway"}])
async def test_a_card_whose_answer_was_lost_is_adopted_not_posted_again(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient, fault: dict[str, object]
) -> None:
    clock = HandClock(NOW)
    ticket = await new_ticket()
    await effects.post_card(ticket.id, clock)
    slack.faults.add("chat.postMessage", after_apply=True, **fault)  # type: ignore[arg-type]

    await drain(worker(slack_client, clock), clock)

    [ts] = cards(slack)
    assert (await Ticket.get(id=ticket.id)).slack_ts == ts
    assert [c.method for c in slack.calls()] == [
        "chat.postMessage",
        "conversations.history",
        "chat.update",
    ]
    [card] = slack.messages(SUPPORT_CHANNEL)
    assert card.metadata is not None and card.metadata["event_type"] == POST_MARK


async def test_a_dropped_connection_after_the_post_does_not_post_twice(
    database: str, slack: SlackEmulator
) -> None:
    """slack_sdk would re-send at once on a dropped connection (its default retry
    handler); the outbox's client does not, and the outbox's retry finds the card."""
    settings = SlackSettings(bot_token=slack.bot_token, signing_secret="s", api_url=slack.base_url)
    client = build_client(settings, resend_on_connection_error=False)
    clock = HandClock(NOW)
    ticket = await new_ticket()
    await effects.post_card(ticket.id, clock)
    slack.faults.add("chat.postMessage", disconnect=True, after_apply=True)

    await drain(worker(client, clock), clock)

    [ts] = cards(slack)
    assert (await Ticket.get(id=ticket.id)).slack_ts == ts
    assert len(slack.calls("conversations.history")) == 1


async def test_a_rate_limited_card_is_posted_again_without_looking(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    clock = HandClock(NOW)
    ticket = await new_ticket()
    await effects.post_card(ticket.id, clock)
    slack.faults.add("chat.postMessage", status=429, retry_after=3)

    await drain(worker(slack_client, clock), clock)

    [ts] = cards(slack)
    assert (await Ticket.get(id=ticket.id)).slack_ts == ts
    assert [c.method for c in slack.calls()] == ["chat.postMessage", "chat.postMessage"]


async def test_a_card_posted_by_a_worker_that_died_mid_call_is_adopted(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    """The first worker is cancelled while Slack has posted but not answered (as if the
    process were killed): its lease stays behind, and the next worker finds the card."""
    clock = HandClock(NOW)
    ticket = await new_ticket()
    await effects.post_card(ticket.id, clock)
    slack.faults.add("chat.postMessage", status=None, delay=1.5, after_apply=True)
    dying = asyncio.create_task(worker(slack_client, clock, owner="dead").drain_once())
    await slack.wait_for_async(lambda: cards(slack), what="the card to be posted")
    dying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dying
    left = await OutboxItem.get()
    assert left.lease_owner == "dead"
    assert (left.outcome, left.attempts) == (Outcome.PENDING, 0)  # it never wrote one
    assert may_have_landed(left)  # the lease it left says so

    clock.advance(3600)  # past the dead worker's lease
    await drain(worker(slack_client, clock, owner="alive"), clock)

    [ts] = cards(slack)
    assert (await Ticket.get(id=ticket.id)).slack_ts == ts
    assert len(slack.calls("conversations.history")) == 1
    assert len(slack.calls("chat.postMessage")) <= 1  # only the dead worker's, if recorded yet


async def test_a_thread_reply_whose_answer_was_lost_is_not_posted_twice(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    clock = HandClock(NOW)
    ticket = await new_ticket()
    card = await slack_client.chat_postMessage(channel=SUPPORT_CHANNEL, text="card")
    await Ticket.filter(id=ticket.id).update(slack_ts=card["ts"])
    article = await Article.create(
        ticket_id=ticket.id,
        kind=ArticleKind.EMAIL_IN,
        sender="alice@example.com",
        subject="Re: printer",
        body="It is still broken.",
        created_at=NOW,
    )
    await effects.post_article(ticket.id, article.id, clock)
    facts = {"owner": "U0ALICE001", "minutes": "60"}
    await effects.post_notice(ticket.id, Notice.RELEASED_IDLE, facts, clock)
    slack.faults.add("chat.postMessage", status=503, after_apply=True, times=2)

    await drain(worker(slack_client, clock), clock)

    replies = slack.replies(SUPPORT_CHANNEL, str(card["ts"]))
    assert [":unlock: Released" in m.text for m in replies] == [False, True]
    assert (await Article.get(id=article.id)).slack_ts == replies[0].ts
    assert len(slack.calls("conversations.replies")) == 2


async def test_without_the_history_scope_a_retry_posts_and_says_why(
    database: str,
    slack: SlackEmulator,
    slack_client: AsyncWebClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Reading the channel is how a double post is ruled out; an app installed without
    channels:history still delivers (at least once) and the log says what it could not do."""
    clock = HandClock(NOW)
    ticket = await new_ticket()
    await effects.post_card(ticket.id, clock)
    slack.faults.add("chat.postMessage", status=500)  # not applied: nothing to find
    slack.set_scopes([s for s in slack.state.scopes if s != "channels:history"])

    with caplog.at_level(logging.WARNING, logger="bot.delivery.posts"):
        await drain(worker(slack_client, clock), clock)

    assert len(cards(slack)) == 1
    assert "cannot read the channel" in caplog.text


def no_resend_client(slack: SlackEmulator, timeout: float = 15) -> AsyncWebClient:
    """The outbox's own client: slack_sdk does not re-send a call whose connection dropped."""
    settings = SlackSettings(bot_token=slack.bot_token, signing_secret="s", api_url=slack.base_url)
    client = build_client(settings, resend_on_connection_error=False)
    client.timeout = timeout
    return client


@pytest.mark.parametrize(
    ("fault", "outcome", "says"),
    [
        pytest.param(
            {"status": 429, "retry_after": 3}, Outcome.RETRY, "slack rate limited", id="429"
        ),
        pytest.param(
            {"status": 200, "error": "channel_not_found"},
            Outcome.RETRY,
            "slack error: channel_not_found",
            id="slack-answered-an-error",
        ),
        pytest.param({"status": 500}, Outcome.MAYBE_DELIVERED, "slack server error 500", id="500"),
        pytest.param(
            {"status": 502, "body": "Bad Gateway", "after_apply": True},
            Outcome.MAYBE_DELIVERED,
            "slack server error 502",
            id="502-after-the-post",
        ),
        pytest.param(
            {"disconnect": True, "after_apply": True},
            Outcome.MAYBE_DELIVERED,
            "cannot reach slack: ",
            id="dropped-connection-after-the-post",
        ),
        pytest.param(
            {"status": None, "delay": 1.0, "after_apply": True},
            Outcome.MAYBE_DELIVERED,
            "cannot reach slack: ",
            id="timeout-after-the-post",
        ),
    ],
)
async def test_each_kind_of_failed_post_records_its_outcome(
    database: str,
    slack: SlackEmulator,
    fault: dict[str, Any],
    outcome: Outcome,
    says: str,
) -> None:
    """Whether a retry must look for an earlier post is in the row, as the worker wrote it
    for the failed attempt; the retry then posts once, or adopts what Slack had."""
    client = no_resend_client(slack, timeout=0.4)
    clock = HandClock(NOW)
    ticket = await new_ticket()
    await effects.post_card(ticket.id, clock)
    slack.faults.add("chat.postMessage", **fault)
    work = worker(client, clock)

    await work.drain_once()

    item = await OutboxItem.get()
    counted = 0 if fault.get("status") == 429 else 1  # Slack's "later" is no failed attempt
    assert (item.status, item.outcome, item.attempts) == (OutboxStatus.PENDING, outcome, counted)
    assert item.last_error.startswith(says)
    assert may_have_landed(item) is (outcome == Outcome.MAYBE_DELIVERED)

    await drain(work, clock)

    [ts] = cards(slack)
    assert (await Ticket.get(id=ticket.id)).slack_ts == ts
    done = await OutboxItem.get()
    assert (done.status, done.outcome, done.last_error) == (
        OutboxStatus.DONE,
        Outcome.DELIVERED,
        "",
    )
    looked = len(slack.calls("conversations.history"))
    assert looked == (1 if outcome == Outcome.MAYBE_DELIVERED else 0)


async def test_a_card_slack_refuses_for_good_is_dead_at_once(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    clock = HandClock(NOW)
    ticket = await new_ticket()
    await effects.post_card(ticket.id, clock)
    slack.faults.add("chat.postMessage", status=200, error="invalid_blocks")

    await worker(slack_client, clock).drain_once()

    item = await OutboxItem.get()
    assert (item.status, item.outcome, item.attempts) == (OutboxStatus.DEAD, Outcome.DEAD, 1)
    assert item.last_error == "slack refused the call: invalid_blocks"


async def test_out_of_attempts_is_dead_whatever_the_last_failure(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    clock = HandClock(NOW)
    ticket = await new_ticket()
    await effects.post_card(ticket.id, clock)
    slack.faults.add("chat.postMessage", status=500, times=None)

    work = worker(slack_client, clock, max_attempts=2)
    await work.drain_once()
    assert (await OutboxItem.get()).outcome == Outcome.MAYBE_DELIVERED
    clock.advance(600)
    await work.drain_once()

    item = await OutboxItem.get()
    assert (item.status, item.outcome, item.attempts) == (OutboxStatus.DEAD, Outcome.DEAD, 2)
    assert item.last_error == "slack server error 500"


async def test_a_thread_post_before_its_card_was_certainly_not_sent(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    clock = HandClock(NOW)
    ticket = await new_ticket()  # its card is not posted
    facts = {"owner": "U0ALICE001", "minutes": "60"}
    await effects.post_notice(ticket.id, Notice.RELEASED_IDLE, facts, clock)

    await worker(slack_client, clock).drain_once()

    item = await OutboxItem.get()
    assert (item.outcome, item.last_error) == (Outcome.RETRY, "not sent: card not posted yet")
    assert slack.calls() == []


async def test_our_own_failure_after_the_post_may_have_landed(
    database: str,
    slack: SlackEmulator,
    slack_client: AsyncWebClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Slack posted the card, then recording its ts failed (the database, say): the retry
    finds the card instead of posting a second one."""
    clock = HandClock(NOW)
    ticket = await new_ticket()
    await effects.post_card(ticket.id, clock)
    record = posts.card_posted
    failures = [RuntimeError("database is locked")]

    async def failing_once(ticket_id: int, ts: str, *, channel: str | None = None) -> None:
        if failures:
            raise failures.pop()
        await record(ticket_id, ts, channel=channel)

    monkeypatch.setattr(posts, "card_posted", failing_once)
    work = worker(slack_client, clock)

    await work.drain_once()

    item = await OutboxItem.get()
    assert (item.outcome, item.last_error) == (
        Outcome.MAYBE_DELIVERED,
        "RuntimeError: database is locked",
    )
    await drain(work, clock)
    [ts] = cards(slack)
    assert (await Ticket.get(id=ticket.id)).slack_ts == ts
    assert len(slack.calls("chat.postMessage")) == 1
    assert (await OutboxItem.get()).outcome == Outcome.DELIVERED
