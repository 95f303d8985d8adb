"""Service levels: when a ticket's first response and resolution are due, and whether the
promise was kept — facts only, computed from instants; no I/O, no words.

The rules (SPEC "Working as a team" → "Service levels"):

- Each clock (first response, resolution) starts when the ticket is created and counts
  business time (`models.business_time`) — except while the ticket is paused (pending:
  waiting for the customer). Pauses are given as intervals; the last may still be open.
- The due instant is the earliest instant at which `target` business minutes, pauses
  left out, have been counted. While a pause that began before that point is still open,
  the due instant is unknown (None): the clock is held.
- The warning instant is the same at `warn_percent` (80 %) of the target.
- A clock stopped (first response sent, ticket closed) at or before its due instant has
  met its target; one stopped later, or still running after it, is breached. So a
  deadline at Friday 17:00 is missed by a reply on Saturday, although no business
  minute passed in between: the promise was an instant, shown to agents as such.
- A priority without a target (or a target without that clock) is not measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from models.business_time import BusinessCalendar
from models.priority import Priority

__all__ = [
    "PRIORITIES",
    "ClockStatus",
    "Pause",
    "Priority",
    "SlaClock",
    "SlaLevel",
    "SlaPolicy",
    "Targets",
    "counted",
    "due_instant",
    "evaluate",
    "normalise_pauses",
]

PRIORITIES: Final[tuple[Priority, ...]] = tuple(Priority)
DEFAULT_WARN_PERCENT: Final = 80


class SlaClock(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class SlaLevel(StrEnum):
    """Where a clock stands: each level is announced once per ticket and clock."""

    OK = "ok"
    WARNING = "warning"  # warn_percent of the target used
    BREACHED = "breached"  # past the due instant, not stopped in time


@dataclass(frozen=True, slots=True)
class Targets:
    """Business minutes allowed for one priority; None = that clock is not measured."""

    first_response_minutes: int | None = None
    resolution_minutes: int | None = None

    def __post_init__(self) -> None:
        for minutes in (self.first_response_minutes, self.resolution_minutes):
            if minutes is not None and minutes < 1:
                raise ValueError(f"a target is at least one minute, not {minutes}")

    def minutes(self, clock: SlaClock) -> int | None:
        if clock is SlaClock.FIRST_RESPONSE:
            return self.first_response_minutes
        return self.resolution_minutes


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """The `sla:` section as the domain needs it; built by the composition root."""

    calendar: BusinessCalendar
    targets: Mapping[Priority, Targets] = field(default_factory=dict)
    # queue name → its own targets per priority, each replacing the global one
    queue_targets: Mapping[str, Mapping[Priority, Targets]] = field(default_factory=dict)
    warn_percent: int = DEFAULT_WARN_PERCENT

    def __post_init__(self) -> None:
        if not 1 <= self.warn_percent <= 99:
            raise ValueError(f"warn_percent is between 1 and 99, not {self.warn_percent}")

    def targets_for(self, queue: str, priority: Priority) -> Targets:
        override = self.queue_targets.get(queue, {}).get(priority)
        if override is not None:
            return override
        return self.targets.get(priority, Targets())

    def evaluate(
        self,
        clock: SlaClock,
        *,
        queue: str,
        priority: Priority,
        created_at: datetime,
        now: datetime,
        pauses: Iterable[Pause] = (),
        stopped_at: datetime | None = None,
    ) -> ClockStatus | None:
        """The clock's status for a ticket, or None when it has no target."""
        minutes = self.targets_for(queue, priority).minutes(clock)
        if minutes is None:
            return None
        return evaluate(
            self.calendar,
            clock,
            minutes,
            created_at=created_at,
            now=now,
            pauses=pauses,
            stopped_at=stopped_at,
            warn_percent=self.warn_percent,
        )


@dataclass(frozen=True, slots=True)
class Pause:
    """Time that does not count (pending); `end` None = still paused."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"a pause ends after it starts: {self.start} > {self.end}")


def normalise_pauses(pauses: Iterable[Pause], since: datetime) -> list[Pause]:
    """Pauses after `since`, clipped to it, sorted, overlaps merged; an open pause ends
    the list (nothing after it can count)."""
    merged: list[Pause] = []
    for pause in sorted(pauses, key=lambda p: p.start):
        if pause.end is not None and pause.end <= since:
            continue
        start = max(pause.start, since)
        if merged and (merged[-1].end is None or start <= merged[-1].end):
            last = merged[-1]
            if last.end is not None:
                end = None if pause.end is None else max(last.end, pause.end)
                merged[-1] = Pause(last.start, end)
            continue
        merged.append(Pause(start, pause.end))
    return merged


def counted(
    calendar: BusinessCalendar, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> timedelta:
    """Business time from `start` to `end`, pauses left out."""
    total = calendar.elapsed(start, end)
    for pause in normalise_pauses(pauses, start):
        if pause.start >= end:
            break
        stop = end if pause.end is None else min(pause.end, end)
        total -= calendar.elapsed(pause.start, stop)
    return total


def due_instant(
    calendar: BusinessCalendar, start: datetime, amount: timedelta, pauses: Iterable[Pause] = ()
) -> datetime | None:
    """The earliest instant with `amount` counted after `start`; None while an open
    pause holds the clock before it is reached."""
    cursor, remaining = start, amount
    for pause in normalise_pauses(pauses, start):
        if pause.start > cursor:
            candidate = calendar.advance(cursor, remaining)
            if candidate <= pause.start:
                return candidate
            remaining -= calendar.elapsed(cursor, pause.start)
        if pause.end is None:
            return None
        cursor = max(cursor, pause.end)
    return calendar.advance(cursor, remaining)


@dataclass(frozen=True, slots=True)
class ClockStatus:
    """One clock of one ticket at one instant."""

    clock: SlaClock
    target_minutes: int
    due_at: datetime | None  # None: held by an open pause
    warn_at: datetime | None
    used: timedelta  # business time counted until stopped_at, else until now
    stopped_at: datetime | None
    level: SlaLevel

    @property
    def left(self) -> timedelta:
        """Business time left before the due instant; negative once overrun."""
        return timedelta(minutes=self.target_minutes) - self.used

    @property
    def met(self) -> bool | None:
        """True/False once the clock stopped; None while it runs."""
        if self.stopped_at is None:
            return None
        return self.level is not SlaLevel.BREACHED

    @property
    def held(self) -> bool:
        """An open pause stops the clock before its due instant: no deadline now."""
        return self.due_at is None


def evaluate(
    calendar: BusinessCalendar,
    clock: SlaClock,
    target_minutes: int,
    *,
    created_at: datetime,
    now: datetime,
    pauses: Iterable[Pause] = (),
    stopped_at: datetime | None = None,
    warn_percent: int = DEFAULT_WARN_PERCENT,
) -> ClockStatus:
    """Due and warning instants, time used and the level reached, by `stopped_at` when
    the clock stopped, else by `now`."""
    pauses = list(pauses)
    target = timedelta(minutes=target_minutes)
    warning = timedelta(seconds=target_minutes * 60 * warn_percent // 100)
    due_at = due_instant(calendar, created_at, target, pauses)
    warn_at = due_instant(calendar, created_at, warning, pauses)
    end = now if stopped_at is None else stopped_at
    if due_at is not None and end > due_at:
        level = SlaLevel.BREACHED
    elif warn_at is not None and end >= warn_at:
        level = SlaLevel.WARNING
    else:
        level = SlaLevel.OK
    return ClockStatus(
        clock=clock,
        target_minutes=target_minutes,
        due_at=due_at,
        warn_at=warn_at,
        used=counted(calendar, created_at, end, pauses),
        stopped_at=stopped_at,
        level=level,
    )
