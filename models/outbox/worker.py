"""Deliver outbox items: claim by lease, run the handler for their kind, retry with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from tortoise.expressions import Q, Subquery
from tortoise.functions import Min
from tortoise.queryset import QuerySet

from models.clock import Clock, system_clock
from models.errors import PermanentFailure, RetryLater
from models.outbox.items import OutboxItem, OutboxStatus, Outcome
from models.outbox.leases import StaleOwner, never_stale

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxItem], Awaitable[None]]
DEFER_STEP = 0.01
HEADS_PER_PASS = 100
#: How many of the longest-due rows are looked at to find the streams worth a look.
DUE_WINDOW = 500
#: A pass claims up to this many times `concurrency` heads (one per stream) at once.
BATCH_FACTOR = 16


def backoff_seconds(attempt: int, cap: float = 300.0) -> float:
    """1, 2, 4, … seconds, capped, with jitter so many items don't retry in lock-step."""
    base: float = min(cap, 2.0 ** max(0, attempt - 1))
    return base * random.uniform(0.8, 1.2)


async def _unknown_kind(item: OutboxItem) -> None:
    raise PermanentFailure(f"no handler for outbox kind {item.kind!r}")


class OutboxWorker:
    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        owner: str,
        clock: Clock = system_clock,
        max_attempts: int = 20,
        lease_seconds: float = 120.0,
        concurrency: int = 4,
        idle_seconds: float = 5.0,
        stale_owner: StaleOwner = never_stale,
        busy: Callable[[], bool] = lambda: False,
        max_defer_seconds: float = 2.0,
        share: Callable[[], int] | None = None,
    ) -> None:
        """`share`: how many deliveries may run at once right now (at most `concurrency`),
        asked every pass; e.g. fewer while a mail backlog is being stored, so storing
        keeps most of the event loop and delivery still moves."""
        self._handlers = dict(handlers)
        self._owner = owner
        self._clock = clock
        self._max_attempts = max_attempts
        self._lease = timedelta(seconds=lease_seconds)
        self._concurrency = concurrency
        self._idle_seconds = idle_seconds
        self._stale_owner = stale_owner
        self._busy = busy
        self._max_defer = max_defer_seconds
        self._share = share or (lambda: concurrency)
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def due(self) -> list[OutboxItem]:
        """Heads of their streams that are due and not leased by a live worker.

        Heads are chosen before the limit: picking the oldest due rows first would let one
        stream with hundreds of rows behind a head in backoff fill the batch, and every
        other ticket's card and mail would wait behind it. Cheap first: the streams of the
        longest-due rows (a flood's paced cards wait in the future and are never read), and
        the heads of just those streams; only when that window holds no head at all are
        all pending rows grouped by stream. (Every step is a plain index range or a
        GROUP BY: no correlated subquery whose cached plan could turn quadratic.)
        """
        now = self._clock()
        window = (
            await OutboxItem.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .limit(DUE_WINDOW)
            .values_list("id", "stream")
        )
        if not window:
            return []
        streams = list({str(stream) for _, stream in window})
        heads = OutboxItem.filter(status=OutboxStatus.PENDING, stream__in=streams)
        candidates = await self._heads(heads, now)
        if not candidates and len(window) == DUE_WINDOW:
            candidates = await self._heads(OutboxItem.filter(status=OutboxStatus.PENDING), now)
        return [
            item
            for item in candidates
            if item.status == OutboxStatus.PENDING
            and (
                not item.lease_owner
                or item.lease_until is None
                or item.lease_until < now
                or self._stale_owner(item.lease_owner)
            )
        ]

    async def _heads(self, pending: QuerySet[OutboxItem], now: datetime) -> list[OutboxItem]:
        """The due, unleased heads among the streams of `pending`, oldest first."""
        heads = pending.annotate(head=Min("id")).group_by("stream").values("head")
        return (
            await OutboxItem.filter(id__in=Subquery(heads), next_attempt_at__lte=now)
            .filter(
                Q(lease_owner="") | Q(lease_until__isnull=True) | Q(lease_until__lt=now)
                if self._stale_owner is never_stale
                else Q()
            )
            .order_by("id")
            .limit(HEADS_PER_PASS)
        )

    async def _claim(self, item: OutboxItem) -> bool:
        """Compare-and-set on what we saw: nobody else claimed or finished it meanwhile."""
        claimed = await OutboxItem.filter(
            id=item.id,
            status=OutboxStatus.PENDING,
            lease_owner=item.lease_owner,
            attempts=item.attempts,
        ).update(lease_owner=self._owner, lease_until=self._clock() + self._lease)
        return claimed == 1

    async def _claim_all(self, items: list[OutboxItem]) -> list[OutboxItem]:
        """Claim heads in two statements instead of one per item; returns them as stored now.

        Unleased (or expired) heads are claimed together, still due and pending; what we got
        is read back, so a head delivered or rescheduled by another worker meanwhile is
        either not ours or comes with its current attempts and payload. Heads a dead process
        still holds are taken over one by one (`_claim`).
        """
        now = self._clock()
        free = [
            i for i in items if not i.lease_owner or i.lease_until is None or i.lease_until < now
        ]
        claimed: list[OutboxItem] = []
        if free:
            ids = [item.id for item in free]
            await (
                OutboxItem.filter(id__in=ids, status=OutboxStatus.PENDING, next_attempt_at__lte=now)
                .filter(Q(lease_owner="") | Q(lease_until__isnull=True) | Q(lease_until__lt=now))
                .update(lease_owner=self._owner, lease_until=now + self._lease)
            )
            seen = {item.id: item for item in free}
            claimed = await OutboxItem.filter(
                id__in=ids, status=OutboxStatus.PENDING, lease_owner=self._owner
            ).order_by("id")
            for fresh in claimed:  # the lease it had before ours tells how its last try ended
                before = seen[fresh.id]
                unchanged = fresh.attempts == before.attempts
                fresh.lease_owner = before.lease_owner if unchanged else ""
                fresh.lease_until = before.lease_until if unchanged else None
        for item in items:
            if item not in free and await self._claim(item):
                claimed.append(item)
        return claimed

    async def _deliver(self, item: OutboxItem) -> None:
        handler = self._handlers.get(item.kind, _unknown_kind)
        attempts = item.attempts + 1
        try:
            await handler(item)
        except RetryLater as exc:
            outcome = Outcome.MAYBE_DELIVERED if exc.maybe_delivered else Outcome.RETRY
            counted = attempts if exc.counts else item.attempts  # "later" is never "no"
            await self._reschedule(item, counted, str(exc), exc.after, outcome)
        except PermanentFailure as exc:
            await self._bury(item, attempts, str(exc))
        except Exception as exc:  # ours, perhaps after the call went out: it may have landed
            logger.exception("outbox item %s failed unexpectedly", item)
            error = f"{type(exc).__name__}: {exc}"
            await self._reschedule(item, attempts, error, None, Outcome.MAYBE_DELIVERED)
        else:
            await OutboxItem.filter(id=item.id).update(
                status=OutboxStatus.DONE,
                attempts=attempts,
                done_at=self._clock(),
                lease_owner="",
                lease_until=None,
                last_error="",
                outcome=Outcome.DELIVERED,
            )

    async def _reschedule(
        self,
        item: OutboxItem,
        attempts: int,
        error: str,
        after: float | None,
        outcome: Outcome,
    ) -> None:
        if attempts >= self._max_attempts:
            await self._bury(item, attempts, error)
            return
        delay = after if after is not None else backoff_seconds(attempts)
        if attempts > item.attempts:
            logger.info("outbox item %s: %s; retry %d in %.1fs", item, error, attempts, delay)
        else:
            logger.debug("outbox item %s: %s; again in %.1fs", item, error, delay)
        await OutboxItem.filter(id=item.id).update(
            attempts=attempts,
            next_attempt_at=self._clock() + timedelta(seconds=delay),
            lease_owner="",
            lease_until=None,
            last_error=error[:2000],
            outcome=outcome,
        )

    async def _bury(self, item: OutboxItem, attempts: int, error: str) -> None:
        logger.error("outbox item %s given up after %d attempts: %s", item, attempts, error)
        await OutboxItem.filter(id=item.id).update(
            status=OutboxStatus.DEAD,
            attempts=attempts,
            lease_owner="",
            lease_until=None,
            last_error=error[:2000],
            outcome=Outcome.DEAD,
        )

    async def drain_once(self) -> int:
        """Deliver what is due now, several streams at a time; returns how many were tried."""
        tried = 0

        async def one(item: OutboxItem, semaphore: asyncio.Semaphore) -> None:
            async with semaphore:
                await self._make_way()
                await self._deliver(item)

        while not self._stopping:
            await self._make_way()
            limit = max(1, min(self._concurrency, self._share()))
            due = (await self.due())[: limit * BATCH_FACTOR]
            batch = await self._claim_all(due)
            if not batch:
                return tried
            semaphore = asyncio.Semaphore(limit)
            await asyncio.gather(*(one(item, semaphore) for item in batch))
            tried += len(batch)
        return tried

    async def _make_way(self) -> None:
        """Let time-critical work (Slack's 3-second acks) go first, but never starve."""
        deferred = 0.0
        while self._busy() and deferred < self._max_defer and not self._stopping:
            await asyncio.sleep(DEFER_STEP)
            deferred += DEFER_STEP

    async def _next_due_in(self) -> float:
        upcoming = (
            await OutboxItem.filter(status=OutboxStatus.PENDING).order_by("next_attempt_at").first()
        )
        if upcoming is None:
            return self._idle_seconds
        wait = (upcoming.next_attempt_at - self._clock()).total_seconds()
        return max(0.05, min(self._idle_seconds, wait))

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain_once()
                timeout = await self._next_due_in()
            except Exception:
                logger.exception("outbox worker pass failed; retrying")
                timeout = self._idle_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
