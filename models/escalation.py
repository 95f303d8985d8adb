"""Escalation that reaches people: a notice in the ticket's thread when a service-level
clock reaches its warning instant (`warn_percent` of the target), and one when it
passes its due instant unstopped.

Once per level, clock and ticket, however many processes run the job: each notice is
queued in the transaction whose compare-and-set UPDATE sets its marker column
(`sla_first_warned_at`…), so only the process whose UPDATE changed the row queues it.
A breach found before its warning was announced marks the warning too (a warning after
the breach would only confuse). Candidates come from the running clocks' instants,
which partial indexes hold (migration 0011): the job never reads closed tickets.

The warning mentions the owner, or when no one holds the ticket its queue's
`escalation_group` (none configured: no mention, just the notice).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from tortoise.transactions import in_transaction

from models import effects
from models.clock import Clock, system_clock
from models.events import HistoryEvent, Notice
from models.policy import Policy
from models.sla import SlaClock, SlaLevel
from models.store.ticket import History, Ticket, TicketState

logger = logging.getLogger(__name__)

__all__ = ["LEVELS", "Escalated", "Level", "escalate"]


@dataclass(frozen=True, slots=True)
class Level:
    """One announcement: which clock, which level, the instant that triggers it, the
    marker that makes it once-only and the notice that says it."""

    clock: SlaClock
    level: SlaLevel
    instant: str  # the column whose passing triggers it
    marker: str  # set once, by the one process that announces it
    notice: Notice
    event: HistoryEvent
    also_marks: str = ""  # a breach also settles the warning of the same clock


#: Breaches first: a clock found past both instants gets the breach notice only.
LEVELS: Final[tuple[Level, ...]] = (
    Level(
        SlaClock.FIRST_RESPONSE,
        SlaLevel.BREACHED,
        "sla_first_due_at",
        "sla_first_breached_at",
        Notice.SLA_FIRST_RESPONSE_BREACHED,
        HistoryEvent.SLA_BREACHED,
        also_marks="sla_first_warned_at",
    ),
    Level(
        SlaClock.RESOLUTION,
        SlaLevel.BREACHED,
        "sla_resolution_due_at",
        "sla_resolution_breached_at",
        Notice.SLA_RESOLUTION_BREACHED,
        HistoryEvent.SLA_BREACHED,
        also_marks="sla_resolution_warned_at",
    ),
    Level(
        SlaClock.FIRST_RESPONSE,
        SlaLevel.WARNING,
        "sla_first_warn_at",
        "sla_first_warned_at",
        Notice.SLA_FIRST_RESPONSE_WARNING,
        HistoryEvent.SLA_WARNED,
    ),
    Level(
        SlaClock.RESOLUTION,
        SlaLevel.WARNING,
        "sla_resolution_warn_at",
        "sla_resolution_warned_at",
        Notice.SLA_RESOLUTION_WARNING,
        HistoryEvent.SLA_WARNED,
    ),
)

_DUE = {SlaClock.FIRST_RESPONSE: "sla_first_due_at", SlaClock.RESOLUTION: "sla_resolution_due_at"}


@dataclass(frozen=True, slots=True)
class Escalated:
    ticket_id: int
    clock: SlaClock
    level: SlaLevel


def _reached(level: Level, now: datetime) -> dict[str, object]:
    """The filter of a passed instant, not yet announced, on a ticket not closed: due is
    passed strictly after it (models.sla), the warning from its instant on. A warning
    waits while a pause holds its clock (no due instant: nothing to do yet); it comes
    when the clock runs again."""
    if level.level is SlaLevel.BREACHED:
        passed: dict[str, object] = {f"{level.instant}__lt": now}
    else:
        passed = {f"{level.instant}__lte": now, f"{_DUE[level.clock]}__isnull": False}
    return passed | {f"{level.marker}__isnull": True, "state__not": TicketState.CLOSED}


async def escalate(policy: Policy, clock: Clock = system_clock) -> list[Escalated]:
    """Announce every warning and breach due by now, each once; what was announced."""
    sla = policy.sla
    if sla is None:
        return []
    now = clock().astimezone(UTC)  # SQLite compares the stored text: one offset for all
    done: list[Escalated] = []
    for level in LEVELS:
        candidates: Sequence[int] = await Ticket.filter(**_reached(level, now)).values_list(
            "id", flat=True
        )  # type: ignore[assignment]
        for ticket_id in candidates:
            if await _announce(policy, level, ticket_id, now, clock):
                done.append(Escalated(ticket_id, level.clock, level.level))
    if done:
        logger.info("announced %d service-level warning(s) and breach(es)", len(done))
    return done


async def _announce(
    policy: Policy, level: Level, ticket_id: int, now: datetime, clock: Clock
) -> bool:
    async with in_transaction():
        changes: dict[str, object] = {level.marker: now}
        marked = await Ticket.filter(id=ticket_id, **_reached(level, now)).update(**changes)
        if not marked:
            return False  # another process announced it, or the clock stopped meanwhile
        if level.also_marks:
            await Ticket.filter(id=ticket_id, **{f"{level.also_marks}__isnull": True}).update(
                **{level.also_marks: now}
            )
        ticket = await Ticket.get(id=ticket_id)
        due: datetime | None = getattr(ticket, _DUE[level.clock])
        assert policy.sla is not None
        target = policy.sla.targets_for(ticket.queue, ticket.priority).minutes(level.clock)
        await History.create(
            ticket_id=ticket_id,
            event=level.event,
            actor="system",
            detail={
                "clock": level.clock.value,
                "due_at": due.isoformat() if due else None,
                "minutes": target,
            },
            created_at=now,
        )
        group = "" if ticket.owner_id else policy.queue(ticket.queue).escalation_group
        facts = {
            "owner": ticket.owner_id or "",
            "group": group,
            "due": str(int(due.timestamp())) if due else "",
            "minutes": str(target or ""),
        }
        await effects.post_notice(ticket_id, level.notice, facts, clock)
        await effects.update_card(ticket_id, clock)
        return True
