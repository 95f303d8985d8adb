"""`GET /metrics`: what the process did and how far behind it is, in Prometheus's text format.

One `Metrics` per runtime, with a registry of its own (never prometheus_client's global
one), so two runtimes in one process — the tests, the sandbox — count apart. models/ knows
nothing of it; the edges count:

- `ticketbot_mails_received_total{outcome}` and `ticketbot_tickets_created_total{queue}`:
  the runtime, from what `MailIntake.receive` returns (`count_mail`);
- `ticketbot_mails_sent_total`: mail/ tells the runtime through `MailDelivery(on_sent=…)`
  once the SMTP server accepted a mail;
- `ticketbot_slack_api_errors_total{method,error}`: every Web API client the runtime builds
  reports its failed calls (`bot.slack.app.ObservedWebClient`), listeners and deliveries alike;
- `ticketbot_ack_seconds`: bot/app/web.py (HTTP mode) and `TimedSocketModeHandler`;
- `ticketbot_outbox_pending{kind}`, `ticketbot_outbox_oldest_seconds`, `ticketbot_outbox_dead`:
  read from the database when scraped, through `CachedReading`, so that a scrape storm (or
  /healthz probes) costs at most one read per `LAG_CACHE_SECONDS`;
- `ticketbot_imap_last_poll_timestamp`: the poller's status when scraped (absent while this
  process has not finished a pass: IMAP not configured, or another replica polls).

Counters with known labels (every intake outcome, every queue) start at 0, so a rate is
defined from the first scrape on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator
from typing import Any, Generic, TypeVar, get_args

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from models.intake import IntakeResult, Outcome
from models.outbox.lag import OutboxLag

logger = logging.getLogger(__name__)

T = TypeVar("T")
Monotonic = Callable[[], float]

LAG_CACHE_SECONDS = 5.0
# Slack wants an answer within 3 s; ticketbot aims at well under 50 ms (README, benchmarks).
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


class CachedReading(Generic[T]):
    """The last value of an async read, at most `seconds` old; concurrent callers share one
    read. A failed read is remembered too (as None) for as long, so a database that is down
    is not asked again by every probe."""

    def __init__(
        self,
        read: Callable[[], Awaitable[T]],
        seconds: float = LAG_CACHE_SECONDS,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self._read = read
        self._seconds = seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._value: T | None = None
        self._read_at: float | None = None

    @property
    def last(self) -> T | None:
        return self._value

    def _fresh(self) -> bool:
        return self._read_at is not None and self._clock() - self._read_at < self._seconds

    async def get(self) -> T | None:
        if self._fresh():
            return self._value
        async with self._lock:
            if self._fresh():  # read by whoever held the lock before us
                return self._value
            try:
                self._value = await self._read()
            except Exception as exc:
                logger.warning("cannot read the outbox's state for metrics: %s", exc)
                self._value = None
            self._read_at = self._clock()
            return self._value


class _StateCollector(Collector):
    """The gauges read at scrape time: the outbox's last reading and the poller's status."""

    def __init__(
        self,
        lag: CachedReading[OutboxLag],
        imap_last_poll: Callable[[], float | None],
        kinds: Iterable[str],
    ) -> None:
        self._lag = lag
        self._imap_last_poll = imap_last_poll
        self.kinds = set(kinds)  # every kind expected or seen keeps its series (0, not absent)

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterator[Metric]:
        lag = self._lag.last
        if lag is not None:
            self.kinds |= set(lag.pending)
            pending = GaugeMetricFamily(
                "ticketbot_outbox_pending",
                "Outbox items waiting to be delivered (due or in backoff), by kind",
                labels=["kind"],
            )
            for kind in sorted(self.kinds):
                pending.add_metric([kind], lag.pending.get(kind, 0))
            yield pending
            yield GaugeMetricFamily(
                "ticketbot_outbox_oldest_seconds",
                "How long the oldest waiting outbox item has waited (0 when none waits)",
                value=lag.oldest_seconds,
            )
            yield GaugeMetricFamily(
                "ticketbot_outbox_dead",
                "Outbox items given up (dead letters; `ticketbot outbox list`)",
                value=lag.dead,
            )
        last_poll = self._imap_last_poll()
        if last_poll is not None:
            yield GaugeMetricFamily(
                "ticketbot_imap_last_poll_timestamp",
                "When this process last finished a pass over the mailbox (Unix time)",
                value=last_poll,
            )


def _never_polled() -> float | None:
    return None


class Metrics:
    """The runtime's counters and its `/metrics` page."""

    def __init__(
        self,
        lag: CachedReading[OutboxLag],
        *,
        queues: Collection[str] = (),
        kinds: Collection[str] = (),
        imap_last_poll: Callable[[], float | None] = _never_polled,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.lag = lag
        registry = self.registry
        self.tickets_created = Counter(
            "ticketbot_tickets_created", "Tickets opened, by queue", ["queue"], registry=registry
        )
        self.mails_received = Counter(
            "ticketbot_mails_received",
            "Mails taken in, by what became of them",
            ["outcome"],
            registry=registry,
        )
        self.mails_sent = Counter(
            "ticketbot_mails_sent",
            "Mails the SMTP server accepted (acknowledgements, replies, notices)",
            registry=registry,
        )
        self.slack_api_errors = Counter(
            "ticketbot_slack_api_errors",
            "Failed Slack Web API calls, by method and Slack's error (or the exception)",
            ["method", "error"],
            registry=registry,
        )
        self.ack_seconds = Histogram(
            "ticketbot_ack_seconds",
            "Time to answer Slack's requests (events, clicks, commands)",
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        for outcome in get_args(Outcome):
            self.mails_received.labels(outcome)
        for queue in queues:
            self.tickets_created.labels(queue)
        ProcessCollector(registry=registry)
        self._state = _StateCollector(lag, imap_last_poll, kinds)
        registry.register(self._state)

    def expect_kinds(self, kinds: Iterable[str]) -> None:
        """Outbox kinds to show from the start (0 waiting), e.g. every kind with a handler."""
        self._state.kinds |= set(kinds)

    def count_mail(self, result: IntakeResult) -> None:
        self.mails_received.labels(result.outcome).inc()
        if result.outcome == "new_ticket":
            self.tickets_created.labels(result.queue or "unknown").inc()

    def mail_sent(self) -> None:
        self.mails_sent.inc()

    def api_error_hook(self) -> Callable[[str, str], None]:
        """For `build_client(on_error=…)`: a plain function, which bolt's deep copies of the
        client share (a bound method would be copied with this object and its registry)."""
        counter = self.slack_api_errors

        def count(method: str, error: str) -> None:
            counter.labels(method, error).inc()

        return count

    async def render(self, accept: str = "") -> tuple[bytes, str]:
        """The page and its content type, in the format the scraper's `Accept` asks for
        (Prometheus text, or OpenMetrics); the outbox is read first (or its cached reading
        used)."""
        await self.lag.get()
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


class TimedSocketModeHandler(AsyncSocketModeHandler):
    """bolt's Socket Mode handler, timing each request until its ack is sent."""

    def __init__(self, app: AsyncApp, app_token: str, observe: Callable[[float], None]) -> None:
        super().__init__(app, app_token)
        self._observe = observe

    async def handle(self, client: Any, req: Any) -> None:
        started = time.perf_counter()
        try:
            await super().handle(client, req)
        finally:
            self._observe(time.perf_counter() - started)
