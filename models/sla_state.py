"""A ticket's service-level clocks as stored on its row: the rules of models/sla.py
applied to one ticket, kept up to date after every change that moves a clock.

The rules as implemented (SPEC "Working as a team" → "Service levels"):

- Both clocks start when the ticket is created, with the targets of its queue and
  priority. Without a target for a clock (or without `sla:`) nothing is stored.
- The clocks hold while the ticket is `pending` (waiting for the customer) or `closed`:
  each such stretch is a pause on the ticket (`sla_pauses`). Leaving it (the customer's
  reply, an agent's reopening) ends the pause, and the due instants move out by the
  business time it covered (`models.sla.due_instant`).
- The first-response clock stops at the first agent reply (`first_response_at`), the
  resolution clock at close. A reopened ticket's resolution clock runs on from where it
  stood: the closed time was a pause. Its earlier outcome is forgotten until it closes
  again (the report counts each ticket once, by its latest close).
- A priority change recomputes both clocks from the creation with the new targets, the
  pauses kept; a clock that already stopped is judged again against the new target.
- Tickets created before `sla:` was configured are never measured.
- Columns: the running due/warning instants (null once stopped, or while a pause that
  began before the due instant holds the clock — then there is no deadline), and for a
  stopped clock whether it was met. `refresh` rewrites them all from the ticket's row,
  so every caller does the same thing: change the ticket, then `refresh` in the same
  transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.priority import Priority
from models.sla import ClockStatus, Pause, SlaClock, SlaLevel, SlaPolicy
from models.store.ticket import Ticket, TicketState

__all__ = [
    "PAUSED_STATES",
    "ClockView",
    "TicketClocks",
    "clock_columns",
    "decode_pauses",
    "encode_pauses",
    "refresh",
    "running_clocks",
    "track_pauses",
]

#: States in which no service-level time counts.
PAUSED_STATES = frozenset({TicketState.PENDING, TicketState.CLOSED})


def decode_pauses(stored: Sequence[Sequence[str | None]] | None) -> list[Pause]:
    """`sla_pauses` as pauses (absent: none)."""
    pauses = []
    for start, end in stored or ():
        assert start is not None
        stop = None if end is None else datetime.fromisoformat(end)
        pauses.append(Pause(datetime.fromisoformat(start), stop))
    return pauses


def encode_pauses(pauses: Sequence[Pause]) -> list[list[str | None]]:
    return [[p.start.isoformat(), None if p.end is None else p.end.isoformat()] for p in pauses]


def track_pauses(pauses: Sequence[Pause], *, paused: bool, now: datetime) -> list[Pause]:
    """The pauses after a change: an open pause begins when the ticket enters a paused
    state, the open one ends when it leaves; otherwise they stay as they were."""
    result = list(pauses)
    is_open = bool(result) and result[-1].end is None
    if paused and not is_open:
        result.append(Pause(now))
    elif not paused and is_open:
        result[-1] = Pause(result[-1].start, max(now, result[-1].start))
    return result


@dataclass(frozen=True, slots=True)
class TicketClocks:
    """What the clocks of one ticket depend on."""

    queue: str
    priority: Priority
    state: TicketState
    created_at: datetime
    first_response_at: datetime | None
    closed_at: datetime | None
    pauses: tuple[Pause, ...] = ()

    @classmethod
    def of(cls, ticket: Ticket) -> TicketClocks:
        return cls(
            queue=ticket.queue,
            priority=ticket.priority,
            state=ticket.state,
            created_at=ticket.created_at,
            first_response_at=ticket.first_response_at,
            closed_at=ticket.closed_at,
            pauses=tuple(decode_pauses(ticket.sla_pauses)),
        )

    def stopped_at(self, clock: SlaClock) -> datetime | None:
        if clock is SlaClock.FIRST_RESPONSE:
            return self.first_response_at
        if self.state is TicketState.CLOSED:
            return self.closed_at or self.created_at
        return None

    def status(self, sla: SlaPolicy, clock: SlaClock, now: datetime) -> ClockStatus | None:
        return sla.evaluate(
            clock,
            queue=self.queue,
            priority=self.priority,
            created_at=self.created_at,
            now=now,
            pauses=self.pauses,
            stopped_at=self.stopped_at(clock),
        )


_PREFIX = {SlaClock.FIRST_RESPONSE: "sla_first", SlaClock.RESOLUTION: "sla_resolution"}


def clock_columns(sla: SlaPolicy | None, clocks: TicketClocks, now: datetime) -> dict[str, Any]:
    """The ticket's service-level columns for `clocks` at `now` (pure)."""
    columns: dict[str, Any] = {"sla_pauses": encode_pauses(clocks.pauses) if sla else None}
    for clock, prefix in _PREFIX.items():
        status = clocks.status(sla, clock, now) if sla is not None else None
        running = status is not None and status.stopped_at is None
        columns[f"{prefix}_due_at"] = status.due_at if running and status else None
        columns[f"{prefix}_warn_at"] = status.warn_at if running and status else None
        columns[f"{prefix}_met"] = status.met if status is not None else None
    return columns


async def refresh(ticket_id: int, sla: SlaPolicy | None, now: datetime) -> None:
    """Bring the ticket's clocks up to date after a change of its state, priority or
    queue (call inside the transaction that changed it). Nothing without `sla:`, nor for
    a ticket created without it (its `sla_pauses` is null: nothing was promised for it,
    so switching `sla:` on breaches no old ticket)."""
    if sla is None:
        return
    ticket = await Ticket.get(id=ticket_id)
    if ticket.sla_pauses is None:
        return
    clocks = TicketClocks.of(ticket)
    pauses = track_pauses(clocks.pauses, paused=clocks.state in PAUSED_STATES, now=now)
    clocks = TicketClocks(
        queue=clocks.queue,
        priority=clocks.priority,
        state=clocks.state,
        created_at=clocks.created_at,
        first_response_at=clocks.first_response_at,
        closed_at=clocks.closed_at,
        pauses=tuple(pauses),
    )
    await Ticket.filter(id=ticket_id).update(**clock_columns(sla, clocks, now))


@dataclass(frozen=True, slots=True)
class ClockView:
    """One running clock as the card and App Home show it."""

    clock: SlaClock
    due_at: datetime | None  # None: held by a pause
    left_seconds: int  # business seconds left; negative once overrun
    paused: bool  # the ticket is pending or closed
    breached: bool  # past its due instant (even when no business time passed since)


def running_clocks(sla: SlaPolicy | None, clocks: TicketClocks, now: datetime) -> list[ClockView]:
    """The clocks still running (or held by a pause), in clock order."""
    if sla is None:
        return []
    views = []
    for clock in SlaClock:
        status = clocks.status(sla, clock, now)
        if status is None or status.stopped_at is not None:
            continue
        views.append(
            ClockView(
                clock=clock,
                due_at=status.due_at,
                left_seconds=int(status.left.total_seconds()),
                paused=clocks.state in PAUSED_STATES,
                breached=status.level is SlaLevel.BREACHED,
            )
        )
    return views
