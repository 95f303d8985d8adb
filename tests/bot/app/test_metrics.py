"""/metrics: SPEC's names and labels, counted per runtime (own registry), the outbox read at
scrape time through a cache, failed Slack calls counted by the client, acks timed."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from bot.app.metrics import CachedReading, Metrics
from bot.app.web import build_web_app
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.signer import signed_headers
from bot.slack.app import ObservedWebClient, TicketbotApp, api_error_code
from models.intake import IntakeResult
from models.outbox.lag import OutboxLag
from tests.support.slack_fixtures import SIGNING_SECRET

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

SPEC_NAMES = {
    "ticketbot_tickets_created",
    "ticketbot_mails_received",
    "ticketbot_mails_sent",
    "ticketbot_outbox_pending",
    "ticketbot_outbox_oldest_seconds",
    "ticketbot_outbox_dead",
    "ticketbot_slack_api_errors",
    "ticketbot_ack_seconds",
    "ticketbot_imap_last_poll_timestamp",
}


def parse(page: bytes) -> Samples:
    """Every sample of a page as {(name, sorted labels): value}; the parser must accept it."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page.decode())
        for sample in family.samples
    }


class FakeLag:
    """The outbox reading: counts reads; `fail` makes the next reads raise."""

    def __init__(self, lag: OutboxLag | None = None) -> None:
        self.lag = lag or OutboxLag(pending={"mail.send": 2}, oldest_seconds=12.5, dead=1)
        self.reads = 0
        self.fail = False
        self.gate: asyncio.Event | None = None
        self.reading = asyncio.Event()

    async def __call__(self) -> OutboxLag:
        self.reads += 1
        self.reading.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise OSError("database is down")
        return self.lag


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def metrics_with(
    lag: FakeLag, clock: Clock | None = None, last_poll: Callable[[], float | None] = lambda: None
) -> Metrics:
    return Metrics(
        CachedReading(lag, seconds=5.0, clock=clock or Clock()),
        queues=["Support", "Billing"],
        kinds=["slack.card.post"],
        imap_last_poll=last_poll,
    )


async def test_the_page_has_spec_names_and_labels_and_starts_at_zero() -> None:
    metrics = metrics_with(FakeLag(), last_poll=lambda: 1_700_000_000.0)
    samples = parse((await metrics.render())[0])
    names = {name.removesuffix("_total") for name, _ in samples}
    assert SPEC_NAMES - {"ticketbot_slack_api_errors"} <= {
        n.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum") for n in names
    }
    assert samples[("ticketbot_tickets_created_total", (("queue", "Support"),))] == 0
    assert samples[("ticketbot_tickets_created_total", (("queue", "Billing"),))] == 0
    for outcome in ("new_ticket", "followup", "duplicate", "quarantined", "bounce_note"):
        assert samples[("ticketbot_mails_received_total", (("outcome", outcome),))] == 0
    assert samples[("ticketbot_mails_sent_total", ())] == 0
    assert samples[("ticketbot_outbox_pending", (("kind", "mail.send"),))] == 2
    assert samples[("ticketbot_outbox_pending", (("kind", "slack.card.post"),))] == 0
    assert samples[("ticketbot_outbox_oldest_seconds", ())] == 12.5
    assert samples[("ticketbot_outbox_dead", ())] == 1
    assert samples[("ticketbot_imap_last_poll_timestamp", ())] == 1_700_000_000.0
    assert samples[("ticketbot_ack_seconds_count", ())] == 0


async def test_two_runtimes_in_one_process_count_apart() -> None:
    first, second = metrics_with(FakeLag()), metrics_with(FakeLag())
    first.count_mail(IntakeResult("new_ticket", 1, "2026010110000017", queue="Billing"))
    first.count_mail(IntakeResult("duplicate"))
    first.mail_sent()
    one, two = parse((await first.render())[0]), parse((await second.render())[0])
    created = ("ticketbot_tickets_created_total", (("queue", "Billing"),))
    assert (one[created], two[created]) == (1, 0)
    assert one[("ticketbot_mails_received_total", (("outcome", "duplicate"),))] == 1
    assert one[("ticketbot_mails_received_total", (("outcome", "new_ticket"),))] == 1
    assert (one[("ticketbot_mails_sent_total", ())], two[("ticketbot_mails_sent_total", ())]) == (
        1,
        0,
    )


async def test_the_outbox_is_read_at_most_once_per_cache_period() -> None:
    lag, clock = FakeLag(), Clock()
    metrics = metrics_with(lag, clock)
    for _ in range(10):  # a scrape storm
        await metrics.render()
    assert lag.reads == 1
    clock.now += 5.0
    await metrics.render()
    assert lag.reads == 2


async def test_concurrent_scrapes_share_one_read() -> None:
    lag = FakeLag()
    lag.gate = asyncio.Event()
    metrics = metrics_with(lag)
    scrapes = [asyncio.create_task(metrics.render()) for _ in range(5)]
    await lag.reading.wait()
    assert not any(scrape.done() for scrape in scrapes)  # all wait for the one read
    lag.gate.set()
    pages = await asyncio.gather(*scrapes)
    assert lag.reads == 1
    assert len({page.count(b"ticketbot_outbox_dead ") for page, _type in pages}) == 1


async def test_a_database_that_does_not_answer_leaves_the_outbox_gauges_out_for_a_while() -> None:
    lag, clock = FakeLag(), Clock()
    lag.fail = True
    metrics = metrics_with(lag, clock)
    samples = parse((await metrics.render())[0])
    assert not any(name.startswith("ticketbot_outbox") for name, _ in samples)
    assert ("ticketbot_mails_sent_total", ()) in samples  # the rest is still served
    await metrics.render()
    assert lag.reads == 1  # the failure is remembered: probes do not hammer the database
    lag.fail, clock.now = False, clock.now + 5.0
    assert ("ticketbot_outbox_dead", ()) in parse((await metrics.render())[0])


async def test_a_kind_once_seen_keeps_its_series_at_zero() -> None:
    lag, clock = FakeLag(), Clock()
    metrics = metrics_with(lag, clock)
    await metrics.render()
    lag.lag = OutboxLag(pending={}, oldest_seconds=0.0, dead=0)
    clock.now += 10
    samples = parse((await metrics.render())[0])
    assert samples[("ticketbot_outbox_pending", (("kind", "mail.send"),))] == 0
    assert samples[("ticketbot_outbox_oldest_seconds", ())] == 0


async def test_no_poll_timestamp_before_a_pass() -> None:
    samples = parse((await metrics_with(FakeLag()).render())[0])
    assert not any(name == "ticketbot_imap_last_poll_timestamp" for name, _ in samples)


# -- failed Slack calls, counted by the client ------------------------------------------------


async def test_failed_slack_calls_are_counted_by_method_and_error(slack: SlackEmulator) -> None:
    metrics = metrics_with(FakeLag())
    client = ObservedWebClient(
        token=slack.bot_token, base_url=slack.base_url, on_error=metrics.api_error_hook()
    )
    await client.auth_test()  # succeeds: not counted
    with pytest.raises(SlackApiError):
        await client.conversations_info(channel="C0NOSUCH1")
    copied = copy.deepcopy(client)  # bolt's lazy listeners get a deep copy of the client
    slack.revoke_token(slack.bot_token)
    with pytest.raises(SlackApiError):
        await copied.auth_test()
    samples = parse((await metrics.render())[0])
    errors = {
        dict(labels)["method"]: (dict(labels)["error"], value)
        for (name, labels), value in samples.items()
        if name == "ticketbot_slack_api_errors_total"
    }
    assert errors == {
        "conversations.info": ("channel_not_found", 1),
        "auth.test": ("token_revoked", 1),
    }


def test_errors_without_a_slack_code_get_a_bounded_label() -> None:
    assert api_error_code(TimeoutError("slow")) == "TimeoutError"
    assert api_error_code(aiohttp.ClientConnectionError("gone")) == "ClientConnectionError"


# -- the endpoint and the ack timing -------------------------------------------------------


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, Metrics]]:
    metrics = metrics_with(FakeLag())
    app = TicketbotApp(signing_secret=SIGNING_SECRET, token="xoxb-unused")  # url_verification

    async def health() -> dict[str, object]:
        return {"database": "ok", "imap": {"state": "standby"}}

    runner = web.AppRunner(build_web_app(app, "/slack/events", health, metrics=metrics))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", metrics
    finally:
        await runner.cleanup()


async def test_metrics_are_served_as_prometheus_text_and_acks_are_timed(
    served: tuple[str, Metrics],
) -> None:
    base, _metrics = served
    body = json.dumps({"type": "url_verification", "challenge": "c-1", "token": "t"})
    async with aiohttp.ClientSession() as session:
        headers = {"Content-Type": "application/json", **signed_headers(SIGNING_SECRET, body)}
        async with session.post(f"{base}/slack/events", data=body, headers=headers) as answer:
            assert answer.status == 200
        forged = {"Content-Type": "application/json", "X-Slack-Signature": "v0=00"}
        async with session.post(f"{base}/slack/events", data=body, headers=forged) as answer:
            assert answer.status == 401
        async with session.get(f"{base}/metrics") as page:
            assert page.status == 200
            assert page.headers["Content-Type"].startswith("text/plain; version=")
            samples = parse(await page.read())
    assert samples[("ticketbot_ack_seconds_count", ())] == 1  # the refused one is no ack
    assert samples[("ticketbot_ack_seconds_bucket", (("le", "+Inf"),))] == 1


async def test_healthz_fails_only_on_checks_not_on_information(
    served: tuple[str, Metrics],
) -> None:
    base, _metrics = served
    async with aiohttp.ClientSession() as session, session.get(f"{base}/healthz") as answer:
        assert answer.status == 200
        assert await answer.json() == {
            "status": "ok",
            "database": "ok",
            "imap": {"state": "standby"},
        }
