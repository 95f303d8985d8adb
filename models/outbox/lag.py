"""How far behind the outbox is: items waiting per kind, the oldest one's age, dead letters.

Read for /metrics and /healthz (which cache it: a scrape storm must not load the database).
Three small queries on the (status, …) indexes; done items are never counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tortoise.functions import Count

from models.clock import Clock, system_clock
from models.outbox.dead import dead_count
from models.outbox.items import OutboxItem, OutboxStatus


@dataclass(frozen=True, slots=True)
class OutboxLag:
    pending: Mapping[str, int]  # items waiting (due or in backoff), by kind
    oldest_seconds: float  # how long the oldest waiting item has waited; 0 when none waits
    dead: int  # items given up

    @property
    def pending_total(self) -> int:
        return sum(self.pending.values())


async def outbox_lag(clock: Clock = system_clock) -> OutboxLag:
    rows = (
        await OutboxItem.filter(status=OutboxStatus.PENDING)
        .annotate(count=Count("id"))
        .group_by("kind")
        .values_list("kind", "count")
    )
    oldest = (
        await OutboxItem.filter(status=OutboxStatus.PENDING)
        .order_by("id")  # ids grow with creation: the first is the oldest
        .only("id", "created_at")
        .first()
    )
    dead = await dead_count()
    age = (clock() - oldest.created_at).total_seconds() if oldest is not None else 0.0
    return OutboxLag(
        pending={str(kind): int(count) for kind, count in rows},
        oldest_seconds=max(0.0, age),
        dead=dead,
    )
