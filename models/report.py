"""`/ticket report`: what happened in a period, computed from the tickets, their history
and their articles (the same rows the cards are rendered from, so the numbers can be
traced back to tickets).

Definitions (stated in the report too):
- created: tickets created in the period; closed / reopened: closes and reopenings of
  closed tickets in it (a ticket closed twice counts twice; a customer answering a
  pending ticket is not a reopening).
- backlog: tickets not closed at the end of the period.
- first response: for tickets created in the period, creation → first agent reply;
  tickets still unanswered are counted, not timed.
- resolution: for tickets closed in the period, creation → their last close in it.
- per agent: claims, replies and closes they did in the period, and the minutes they
  booked on replies, notes and closes in it.

- breaches: tickets created in the period first answered more than
  `tickets.first_response_minutes` after creation, or still unanswered that long after
  creation when the report is made.
- by priority: tickets created in the period per priority (as they are now: a priority
  changed later counts as the new one), most pressing first.
- service levels (with `sla:`): for tickets created in the period, per queue and
  priority, first response and resolution met vs breached (models/report_sla.py).
- customer satisfaction: the ratings customers gave in the period (good / okay / bad),
  overall and per agent (the ticket's owner at the close), models/csat_report.py.
- most frequent subjects: grouped by `Ticket.subject_key` (models.followup.normalise_subject
  when the ticket was created), shown as the first ticket's subject.

With `queues` given, every number (the chart, agents, customers and subjects too) counts
only tickets of those queues: an agent without leads set sees only their own queues.

Everything is counted by the database (GROUP BY, window functions, `percentile_disc` on
PostgreSQL and the same nearest rank with row_number() on SQLite); days are the asker's
days, their bounds computed here (time zones, summer time) and passed as a VALUES list.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from models.csat_report import CsatCounts, count_ratings
from models.errors import PeriodError as PeriodError  # noqa: PLC0414 (re-exported)
from models.priority import PRIORITY_ORDER
from models.report_queries import Counted, count_report
from models.report_sla import SlaCount, sla_counts

MAX_DAYS = 400
CHART, CSV = "chart", "csv"  # the files a report sends to the asker
TOP = 5
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    label: str
    to_now: bool  # ends at the moment of asking (backlog is simply "not closed now")


def parse_period(text: str, now: datetime) -> Period:
    """today | week (since Monday) | month (since the 1st) | YYYY-MM-DD..YYYY-MM-DD
    (both days included), in `now`'s time zone; empty means week."""
    word = text.strip().lower() or "week"
    zone = now.tzinfo
    assert zone is not None, "now must be aware"
    midnight = datetime.combine(now.date(), time(), zone)
    if word == "today":
        return Period(midnight, now, f"Today ({now:%a %d %b %Y})", True)
    if word == "week":
        start = midnight - timedelta(days=now.weekday())
        return Period(start, now, f"This week (since Mon {start:%d %b})", True)
    if word == "month":
        start = midnight.replace(day=1)
        return Period(start, now, f"This month ({now:%B %Y}, so far)", True)
    found = _RANGE.match(word)
    if found is None:
        raise PeriodError("use today, week, month or YYYY-MM-DD..YYYY-MM-DD")
    try:
        first, last = (date.fromisoformat(part) for part in found.groups())
    except ValueError:
        raise PeriodError(f"{word} is not a pair of real dates") from None
    if last < first:
        raise PeriodError("the range ends before it starts")
    if (last - first).days >= MAX_DAYS:
        raise PeriodError(f"ranges are limited to {MAX_DAYS} days")
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    end = min(end, now)
    if end <= start:
        raise PeriodError("the range lies in the future")
    return Period(start, end, f"{first:%d %b %Y} – {last:%d %b %Y}", end == now)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1): always a value that occurred; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Durations:
    count: int  # how many were timed
    median_seconds: float | None
    p90_seconds: float | None

    @staticmethod
    def of(seconds: list[float]) -> Durations:
        return Durations(len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.9))


@dataclass
class AgentLine:
    user_id: str
    claims: int = 0
    replies: int = 0
    closes: int = 0
    minutes: int = 0

    @property
    def activity(self) -> int:
        return self.claims + self.replies + self.closes


@dataclass(frozen=True)
class Report:
    period: Period
    created: int
    closed: int
    reopened: int
    backlog: int
    unanswered: int  # created in the period and not answered yet
    first_response: Durations
    resolution: Durations
    agents: list[AgentLine]
    customers: list[tuple[str, int]]
    subjects: list[tuple[str, int]]
    daily: list[tuple[date, int, int]] = field(default_factory=list)  # day, created, closed
    queues: tuple[str, ...] | None = None  # the queues counted; None: all
    breaches: int | None = None  # None: no first_response_minutes given
    first_response_minutes: int | None = None
    backlog_daily: list[int] = field(default_factory=list)  # at the end of each day of `daily`
    #: Created in the period per priority, every priority in `PRIORITY_ORDER` (zeros too).
    by_priority: dict[str, int] = field(default_factory=dict)
    #: Service levels met/breached per queue and priority; None: no `sla:` configured.
    sla: list[SlaCount] | None = None
    #: The ratings given in the period (models/csat_report.py).
    csat: CsatCounts = field(default_factory=CsatCounts)


def priority_counts(counted: dict[str, int]) -> dict[str, int]:
    """Every priority, most pressing first, with the counts found (0 for the others)."""
    return {p.value: counted.get(p.value, 0) for p in PRIORITY_ORDER}


def day_bounds(period: Period) -> list[tuple[date, datetime, datetime]]:
    """Each day of the period in its time zone: (day, start, end), clipped to the period."""
    zone = period.start.tzinfo
    days = []
    day = period.start.date()
    last = (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last:
        start = max(period.start, datetime.combine(day, time(), zone))
        end = min(period.end, datetime.combine(day + timedelta(days=1), time(), zone))
        days.append((day, start, end))
        day += timedelta(days=1)
    return days


async def build_report(
    period: Period,
    *,
    hook: str = "",
    queues: Sequence[str] | None = None,
    first_response_minutes: int | None = None,
    now: datetime | None = None,
    sla: bool = False,
) -> Report:
    """The report for `period`; with `queues` (names), over those queues only. Breaches are
    judged at `now` (default: the end of the period). `hook` is not needed any more: subjects
    are grouped by the key stored when each ticket was created."""
    del hook
    if queues is not None and not queues:
        return replace(_empty(period), sla=[] if sla else None)
    days = day_bounds(period)
    counted, csat = await asyncio.gather(
        count_report(
            period.start,
            period.end,
            [(start, end) for _, start, end in days],
            queues=None if queues is None else list(queues),
            backlog_now=period.to_now,
            breach_minutes=first_response_minutes,
            now=now or period.end,
        ),
        count_ratings(period.start, period.end, None if queues is None else list(queues)),
    )
    report = replace(_report(period, days, counted, queues, first_response_minutes), csat=csat)
    if not sla:
        return report
    lines = await sla_counts(period.start, period.end, queues=queues, now=now or period.end)
    return replace(report, sla=lines)


def _report(
    period: Period,
    days: list[tuple[date, datetime, datetime]],
    counted: Counted,
    queues: Sequence[str] | None,
    minutes: int | None,
) -> Report:
    backlog_daily = [counted.backlog] * len(days)
    for i in range(len(days) - 1, 0, -1):  # the day before: undo this day's changes
        backlog_daily[i - 1] = (
            backlog_daily[i] - counted.created[i] + counted.closed[i] - counted.reopened[i]
        )
    agents = {user: AgentLine(user) for user in set(counted.agents) | set(counted.minutes)}
    for user, (claims, replies, closes) in counted.agents.items():
        line = agents[user]
        line.claims, line.replies, line.closes = claims, replies, closes
    for user, booked in counted.minutes.items():
        agents[user].minutes = booked
    first = counted.first_response
    return Report(
        period=period,
        created=sum(counted.created),
        closed=sum(counted.closed),
        reopened=sum(counted.reopened),
        backlog=counted.backlog,
        unanswered=sum(counted.created) - first.count,
        first_response=Durations(first.count, first.median, first.p90),
        resolution=Durations(
            counted.resolution.count, counted.resolution.median, counted.resolution.p90
        ),
        agents=sorted(agents.values(), key=lambda a: (-a.activity, -a.minutes, a.user_id)),
        customers=counted.customers,
        subjects=counted.subjects,
        daily=[
            (day, made, shut)
            for (day, _, _), made, shut in zip(days, counted.created, counted.closed, strict=True)
        ],
        queues=None if queues is None else tuple(queues),
        breaches=counted.breaches,
        first_response_minutes=minutes,
        backlog_daily=backlog_daily,
        by_priority=priority_counts(counted.by_priority),
    )


def _empty(period: Period) -> Report:
    """No queue to count: every number is zero (no query could find anything)."""
    none = Durations.of([])
    days = day_bounds(period)
    return Report(
        period,
        0,
        0,
        0,
        0,
        0,
        none,
        none,
        [],
        [],
        [],
        [(day, 0, 0) for day, _, _ in days],
        queues=(),
        backlog_daily=[0] * len(days),
        by_priority=priority_counts({}),
    )


def report_payload(
    period: Period, zone: str, queues: list[str] | None, breach_minutes: int
) -> dict[str, object]:
    """What an outbox row needs to make a report's files again (JSON)."""
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "label": period.label,
        "to_now": period.to_now,
        "zone": zone,
        "queues": queues,
        "first_response_minutes": breach_minutes,
    }


def period_of_payload(report: dict[str, Any]) -> tuple[Period, ZoneInfo]:
    zone = ZoneInfo(str(report["zone"]))
    return (
        Period(
            datetime.fromisoformat(str(report["start"])).astimezone(zone),
            datetime.fromisoformat(str(report["end"])).astimezone(zone),
            str(report["label"]),
            bool(report["to_now"]),
        ),
        zone,
    )
