"""`ticketbot run`: the Slack app, mail poller, outbox worker and jobs in one process."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app.config import Settings
from bot.app.health import health_report
from bot.app.ingest import store_piped
from bot.app.logs import in_log_scope
from bot.app.metrics import CachedReading, Metrics, TimedSocketModeHandler
from bot.app.pipe_server import PipeServer
from bot.app.schedule import Jobs
from bot.app.startup import check_bot_token, connect_socket_mode, prepare_database
from bot.app.web import Traffic, build_web_app
from bot.app.wiring import build_policy, imap_config, parse_limits, smtp_config
from bot.delivery.digest import FloodDigest
from bot.delivery.pace import ChannelPace
from bot.delivery.posts import SlackDelivery
from bot.delivery.report_files import ReportFiles
from bot.delivery.uploads import FileUploads
from bot.slack.app import build_app, build_client
from bot.slack.directory import ChannelMembers, People
from bot.slack.home import HomeTab
from bot.slack.services import Services
from bot.slack.stamps import view_key
from mail.delivery import MailDelivery
from mail.imap import ImapPoller, PolledMessage
from mail.intake import TICKETS_PER_TRANSACTION, Incoming, MailIntake, TicketMaker
from mail.parse_pool import ParsePool
from mail.sent_journal import SentJournal
from mail.smtp import SmtpSender
from models.collision import expire_replying
from models.escalation import escalate
from models.intake import IntakeResult
from models.jobs import release_idle_claims, remind_unclaimed
from models.outbox.lag import outbox_lag
from models.outbox.leases import dead_owner_detector, new_owner
from models.outbox.worker import OutboxWorker
from models.store import db
from models.store.mailbox import DatabaseMailboxStore

logger = logging.getLogger(__name__)

OUTBOX_SWEEP_SECONDS = 5
JOB_SECONDS = 60
HOME_REFRESH_SECONDS = 300  # keeps open Home tabs current without spending the rate limit
# Deliveries wait while Slack requests are being answered, at most this long: a burst of
# clicks gets its acks first, the card updates follow right after.
MAX_DEFER_SECONDS = 10.0
DELIVERIES = 4  # outbox deliveries at once
BACKLOG_DELIVERIES = 1  # … while more than BACKLOG_MAILS wait on IMAP to be stored
BACKLOG_MAILS = 50
SQLITE_TICKETS_PER_TRANSACTION = 5
GRACE_SECONDS = 10.0  # on SIGTERM, how long work in hand may take to finish
SENT_JOURNAL_DIRECTORY = ".sending"


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.policy = build_policy(settings)
        self.owner = new_owner()
        stale_owner = dead_owner_detector(self.owner)
        # Bolt's client opens an HTTP session per call (bolt deep-copies it into lazy
        # listeners, which a shared session cannot survive); the busy paths (outbox
        # delivery, membership and name lookups) share one session instead.
        self.session = aiohttp.ClientSession()
        self.metrics = Metrics(
            CachedReading(outbox_lag),
            queues=[queue.name for queue in settings.queues],
            imap_last_poll=self._imap_last_poll,
        )
        on_error = self.metrics.api_error_hook()
        self.client = build_client(settings.slack, on_error=on_error)
        self.worker_client = build_client(settings.slack, self.session, on_error=on_error)
        delivery_client = build_client(
            settings.slack, self.session, resend_on_connection_error=False, on_error=on_error
        )
        self.smtp = SmtpSender(smtp_config(settings))  # keeps connections open between mails
        # in the attachments directory: the one every deployment keeps across restarts
        self.sent_journal = SentJournal(Path(self.policy.attachments_dir) / SENT_JOURNAL_DIRECTORY)
        # one timeline per channel for every post this process makes
        pace = ChannelPace(per_second=settings.slack.posts_per_second)
        handlers = {
            **SlackDelivery(
                delivery_client,
                settings.mail.ticket_hook,
                pace=pace,
                digest=FloodDigest(settings.slack.flood_threshold, pace, settings.slack.command),
                queues=[queue.name for queue in settings.queues],
                sla=self.policy.sla,
            ).handlers(),
            **FileUploads(delivery_client, self.policy.attachments_dir, pace=pace).handlers(),
            **ReportFiles(delivery_client).handlers(),
            **MailDelivery(
                self.smtp,
                from_name=settings.mail.display_name,
                on_sent=self.metrics.mail_sent,
                journal=self.sent_journal,
            ).handlers(),
        }
        self.metrics.expect_kinds(handlers)
        self.traffic = Traffic()
        self.outbox = OutboxWorker(
            in_log_scope(handlers),
            owner=self.owner,
            max_attempts=settings.outbox.max_attempts,
            stale_owner=stale_owner,
            concurrency=DELIVERIES,
            busy=self.traffic.busy,
            max_defer_seconds=MAX_DEFER_SECONDS,
            share=self._delivery_share,
        )
        self.services = Services(
            policy=self.policy,
            members=ChannelMembers(self.worker_client),
            people=People(self.worker_client),
            wake_outbox=self.outbox.wake,
            view_key=view_key(settings.slack.signing_secret.get_secret_value()),
        )
        self.home = HomeTab(self.worker_client, self.services, settings.slack.command)
        self.app = build_app(settings.slack, self.client, self.services, self.home)
        limits = parse_limits(settings)
        self.parse_pool = ParsePool(limits)
        self.intake = MailIntake(self.policy, self.parse_pool)
        self.tickets = TicketMaker(
            self.intake, self.policy, on_result=self._made, group=self._tickets_per_transaction()
        )
        ingest = settings.ingest
        self.pipe = (
            PipeServer(
                ingest.socket,
                self.receive_piped,
                max_bytes=limits.max_message_bytes,
                mode=ingest.socket_mode,
                group=ingest.socket_group,
            )
            if ingest.socket
            else None
        )
        imap = imap_config(settings)
        self.poller = (
            ImapPoller(
                imap,
                DatabaseMailboxStore(stale_owner=stale_owner),
                self.handle_mail,
                owner=self.owner,
                lease_seconds=max(3 * imap.poll_seconds, 10.0),
                max_bytes=limits.max_message_bytes,
                handle_batch=self.handle_batch,
            )
            if imap
            else None
        )
        self._stopped = asyncio.Event()

    async def handle_mail(self, message: PolledMessage) -> None:
        await self.receive(message.raw, source="imap", identity=message.identity, size=message.size)

    async def handle_batch(
        self, messages: Sequence[PolledMessage]
    ) -> tuple[int, BaseException | None]:
        """A FETCH batch stored raw at once; the ticket maker makes the tickets."""
        outcome = await self.intake.receive_batch(
            [Incoming(m.raw, m.identity, m.size) for m in messages], source="imap"
        )
        for result in outcome.results:
            if result is not None:
                self.metrics.count_mail(result)
        self.tickets.wake()
        self.outbox.wake()
        return len(outcome.results), outcome.error

    def _made(self, result: IntakeResult) -> None:
        """A ticket made from a stored mail: counted, its card and answer on their way."""
        self.metrics.count_mail(result)
        self.outbox.wake()

    async def receive(
        self, raw: bytes, *, source: str, identity: str, size: int | None = None
    ) -> IntakeResult:
        """One mail into the helpdesk (`MailIntake.receive`), counted for /metrics."""
        result = await self.intake.receive(raw, source=source, identity=identity, size=size)
        self.metrics.count_mail(result)
        self.outbox.wake()
        return result

    async def receive_piped(self, raw: bytes, size: int, name: str) -> str | None:
        """A mail `ticketbot ingest` handed over the socket: stored as `ingest` would store
        it (identity, retries, quarantine), counted like any mail; None = try later."""
        return await store_piped(self.receive, raw, size, name, self.parse_pool.limits.max_attempts)

    def _tickets_per_transaction(self) -> int:
        """SQLite runs one transaction at a time on its one connection: while a group of
        tickets is made, a delivery cannot even record that its mail went out. Small groups
        keep that wait short."""
        if self.settings.database.url.startswith("sqlite"):
            return SQLITE_TICKETS_PER_TRANSACTION
        return TICKETS_PER_TRANSACTION

    def _delivery_share(self) -> int:
        """Deliveries at once: fewer while a mail backlog is being stored (one loop serves
        both; storing a mail first is what makes it safe), all of them otherwise."""
        backlog = self.poller.backlog if self.poller is not None else 0
        return BACKLOG_DELIVERIES if backlog > BACKLOG_MAILS else DELIVERIES

    def _imap_last_poll(self) -> float | None:
        return self.poller.status().last_poll if self.poller is not None else None

    async def health(self) -> dict[str, Any]:
        database_ok = await db.ping()
        return health_report(
            database_ok=database_ok,
            imap=self.poller.status() if self.poller is not None else None,
            lag=await self.metrics.lag.get() if database_ok else None,
            now=time.time(),
        )

    def _jobs(self) -> Jobs:
        jobs = Jobs()
        jobs.every(OUTBOX_SWEEP_SECONDS, self.outbox.wake, "outbox_sweep")
        jobs.every(JOB_SECONDS, self._release_idle, "lock_timeout")
        if self.policy.sla is None:  # the old wall-clock reminder
            jobs.every(JOB_SECONDS, self._remind, "first_response")
        else:  # the service levels' warnings and breaches replace it; at start too, so
            # what fell due while no bot ran is announced at once
            jobs.every(JOB_SECONDS, self._escalate, "sla_escalation", at_start=True)
        jobs.every(JOB_SECONDS, self._expire_replying, "replying_expiry")
        jobs.every(HOME_REFRESH_SECONDS, self.home.refresh, "home_refresh")
        if self.poller is not None and self.settings.mail.imap is not None:
            jobs.every(self.settings.mail.imap.poll_seconds, self.poller.wake, "mail_poll")
        return jobs

    async def _release_idle(self) -> None:
        if await release_idle_claims(self.policy):
            self.outbox.wake()

    async def _expire_replying(self) -> None:
        if await expire_replying():
            self.outbox.wake()

    async def _escalate(self) -> None:
        if await escalate(self.policy):
            self.outbox.wake()

    async def _remind(self) -> None:
        if await remind_unclaimed(self.policy):
            self.outbox.wake()

    def stop(self) -> None:
        self._stopped.set()

    async def _preflight(self) -> None:
        """The database (migrated, answering) and the Slack token, before anything starts;
        `StartupError` when the operator must fix something (bot/app/startup.py)."""
        try:
            await prepare_database(self.settings.database.url)
            identity = await check_bot_token(self.client, self.settings.slack.api_url)
        except BaseException:
            await self.session.close()
            await db.close()
            raise
        if identity is not None:
            logger.info("Slack took the bot token: %s", identity)

    async def run(self) -> None:
        await self._preflight()
        await self.sent_journal.settle()  # before the outbox could send any of them again
        await self.parse_pool.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        tasks = [
            asyncio.create_task(self.outbox.run(), name="outbox"),
            asyncio.create_task(self.tickets.run(), name="tickets"),
        ]
        if self.poller is not None:
            tasks.append(asyncio.create_task(self.poller.run(), name="imap"))
        jobs = self._jobs()
        jobs.start()
        # Start-up objects (models, Slack SDK, config) live forever: keep them out of the
        # collector's full scans, which otherwise show up as latency spikes under load.
        gc.collect()
        gc.freeze()
        slack = self.settings.slack
        runner: web.AppRunner | None = None
        socket_handler: AsyncSocketModeHandler | None = None
        try:
            routes = build_web_app(
                None if slack.socket_mode else self.app,
                slack.http.path,
                self.health,
                self.traffic,
                metrics=self.metrics,
                policy=self.policy,
            )
            runner = web.AppRunner(routes, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, slack.http.host, slack.http.port).start()
            if self.pipe is not None and await self.pipe.start():
                logger.info("taking mail from `ticketbot ingest` on %s", self.pipe.path)
            if slack.socket_mode:
                socket_handler = TimedSocketModeHandler(
                    self.app, slack.app_token.get_secret_value(), self.metrics.ack_seconds.observe
                )
                await connect_socket_mode(socket_handler)
                logger.info(
                    "ready: connected to Slack in Socket Mode; /healthz and /metrics "
                    "on http://%s:%d",
                    slack.http.host,
                    slack.http.port,
                )
            else:
                logger.info(
                    "ready: listening for Slack on http://%s:%d%s (and /healthz, /metrics)",
                    slack.http.host,
                    slack.http.port,
                    slack.http.path,
                )
            await self._stopped.wait()
        finally:
            await self._shutdown(tasks, jobs, runner, socket_handler)

    async def _shutdown(
        self,
        tasks: list[asyncio.Task[None]],
        jobs: Jobs,
        runner: web.AppRunner | None,
        socket_handler: AsyncSocketModeHandler | None,
    ) -> None:
        """Stop taking work, let work in hand finish (briefly), then close connections."""
        logger.info("shutting down")
        await jobs.stop(GRACE_SECONDS)
        if socket_handler is not None:
            await socket_handler.close_async()  # type: ignore[no-untyped-call]
        if runner is not None:
            await runner.cleanup()
        if self.pipe is not None:
            await self.pipe.close()
        self.outbox.stop()
        self.tickets.stop()
        if self.poller is not None:
            await self.poller.stop()
        _, pending = await asyncio.wait(tasks, timeout=GRACE_SECONDS) if tasks else ((), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self.services.settle(GRACE_SECONDS)
        await self.parse_pool.close()
        await self.smtp.close()
        self.sent_journal.close()
        await self.session.close()
        await db.close()
