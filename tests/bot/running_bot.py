"""The real Slack side of ticketbot in the test's process: bot.slack.app's bolt app behind
bot.app.web's aiohttp server on a loopback port, its Services on the emulator, and the real
outbox worker delivering cards when a test asks. Requests arrive signed through a
SlackDriver, exactly as in `ticketbot run`, but everything runs on the test's loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import count
from typing import Any

from aiohttp import web
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.config import SlackSettings
from bot.app.web import build_web_app
from bot.delivery.posts import SlackDelivery
from bot.delivery.report_files import ReportFiles
from bot.sandbox.emulator import BILLING_CHANNEL, SUPPORT_CHANNEL, SlackEmulator
from bot.slack.app import build_app
from bot.slack.directory import ChannelMembers, People
from bot.slack.home import HomeTab
from bot.slack.services import Services
from models import effects
from models.outbox.items import OutboxItem, OutboxStatus
from models.outbox.worker import OutboxWorker
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind
from models.store.ticket import Ticket, TicketState
from tests.support.slack_fixtures import EVENTS_PATH, SIGNING_SECRET, serve_bolt_app

SUPPORT = QueueRoute("Support", SUPPORT_CHANNEL, frozenset({"support@ticketbot.example"}))
BILLING = QueueRoute("Billing", BILLING_CHANNEL, frozenset({"billing@ticketbot.example"}))
HOOK = "Ticket#"
_numbers = count(1)


@dataclass
class RunningBot:
    events_url: str
    services: Services
    home: HomeTab
    client: AsyncWebClient
    worker: OutboxWorker

    async def deliver(self) -> None:
        """Let the outbox post and update cards now (the test decides when)."""
        for _ in range(10):
            await self.worker.drain_once()
            if not await OutboxItem.filter(status=OutboxStatus.PENDING).exists():
                return
        raise AssertionError("the outbox did not drain")

    async def settle(self) -> None:
        """Wait for the follow-ups that run after an ack (answers, modals, notes)."""
        await self.services.settle(grace_seconds=10)


@asynccontextmanager
async def running_bot(
    slack: SlackEmulator,
    *,
    leads: Iterable[str] = (),
    allow_guests: bool = False,
    verify_in_http: bool = True,
    policy_changes: Mapping[str, Any] | None = None,
) -> AsyncIterator[RunningBot]:
    """Serve the bot through bot.app.web; `verify_in_http` False serves the same app as bolt's
    aiohttp adapter does instead, leaving the signature check to bolt itself."""
    settings = SlackSettings(
        bot_token=SecretStr(slack.bot_token),
        signing_secret=SecretStr(SIGNING_SECRET),
        api_url=slack.base_url,
        leads=list(leads),
        allow_guests=allow_guests,
    )
    policy = Policy(
        queues=(SUPPORT, BILLING),
        address="support@ticketbot.example",
        ticket_hook=HOOK,
        leads=frozenset(leads),
        allow_guests=allow_guests,
    )
    policy = replace(policy, **dict(policy_changes or {}))  # e.g. templates, queues
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    worker = OutboxWorker(
        {
            **SlackDelivery(client, HOOK, queues=[SUPPORT.name, BILLING.name]).handlers(),
            **ReportFiles(client).handlers(),
        },
        owner="test",
    )
    services = Services(
        policy=policy,
        members=ChannelMembers(client),
        people=People(client),
        wake_outbox=lambda: None,
    )
    home = HomeTab(client, services, settings.command)
    app = build_app(settings, client, services, home)

    async def health() -> dict[str, str]:
        return {"database": "ok"}

    async with AsyncExitStack() as stack:
        if verify_in_http:
            runner = web.AppRunner(build_web_app(app, EVENTS_PATH, health), access_log=None)
            await runner.setup()
            stack.push_async_callback(runner.cleanup)
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            url = f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
        else:
            url = await stack.enter_async_context(serve_bolt_app(app))
        bot = RunningBot(url, services, home, client, worker)
        try:
            yield bot
        finally:
            await bot.settle()


async def new_ticket(
    queue: QueueRoute,
    subject: str,
    *,
    owner: str | None = None,
    state: TicketState = TicketState.NEW,
    body: str = "",
) -> Ticket:
    """A ticket as intake leaves it (its first mail kept as an article), its card queued."""
    now = datetime.now(UTC)
    ticket = await Ticket.create(
        number=f"20261125100{next(_numbers):05d}",
        queue=queue.name,
        subject=subject,
        customer_email=f"{subject.lower().replace(' ', '.')}@customer.example",
        customer_name=f"Customer of {subject}",
        state=state,
        owner_id=owner,
        claimed_at=now if owner else None,
        owner_active_at=now if owner else None,
        closed_at=now if state is TicketState.CLOSED else None,
        slack_channel=queue.channel,
        last_activity_at=now,
        created_at=now,
        updated_at=now,
    )
    await Article.create(
        ticket=ticket,
        kind=ArticleKind.EMAIL_IN,
        author=ticket.customer_email,
        subject=subject,
        body=body or f"{subject}: please help.",
        created_at=now,
    )
    await effects.post_card(ticket.id)
    return ticket
