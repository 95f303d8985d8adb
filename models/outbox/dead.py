"""Dead letters: outbox items given up after `outbox.max_attempts` (or refused for good),
listed for an operator and put back in line on request (`ticketbot outbox`)."""

from __future__ import annotations

from collections.abc import Sequence

from models.clock import Clock, system_clock
from models.outbox.items import OutboxItem, OutboxStatus, Outcome


async def dead_items(limit: int = 200) -> list[OutboxItem]:
    """The dead items, oldest first."""
    return await OutboxItem.filter(status=OutboxStatus.DEAD).order_by("id").limit(limit)


async def dead_count() -> int:
    return await OutboxItem.filter(status=OutboxStatus.DEAD).count()


async def retry_dead(ids: Sequence[int] | None, clock: Clock = system_clock) -> list[int]:
    """Put dead items (`ids`, or all of them for None) back in line with fresh attempts;
    returns the ids that were dead. An item that was tried before looks for an earlier
    post first (its attempts may have landed), so a retry never posts twice."""
    query = OutboxItem.filter(status=OutboxStatus.DEAD)
    if ids is not None:
        query = query.filter(id__in=list(ids))
    found: list[int] = await query.values_list("id", flat=True)  # type: ignore[assignment]
    if found:
        await OutboxItem.filter(id__in=found, status=OutboxStatus.DEAD).update(
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=clock(),
            lease_owner="",
            lease_until=None,
            outcome=Outcome.MAYBE_DELIVERED,
        )
    return sorted(found)
