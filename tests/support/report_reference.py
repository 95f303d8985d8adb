"""The report as it was computed before issue 11: the tickets and history rows of the period
loaded into Python and counted there. Kept as the reference the SQL report is checked
against (tests/models/test_report.py), never used by the bot."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo

from models.csat_report import CsatCounts
from models.events import HistoryEvent
from models.followup import normalise_subject
from models.priority import PRIORITY_ORDER, Priority
from models.report import AgentLine, Durations, Period, Report
from models.report_sla import SlaCount
from models.sla import SlaClock, SlaLevel, SlaPolicy
from models.sla_state import TicketClocks
from models.store.article import Article
from models.store.ticket import History, Ticket, TicketState

Filter = dict[str, object]
TOP = 5


def _of_queues(queues: Sequence[str] | None, via: str = "") -> Filter:
    """The filter keeping rows of tickets in `queues` (`via` is the path to the ticket)."""
    return {} if queues is None else {f"{via}queue__in": list(queues)}


async def reference_report(
    period: Period, *, hook: str, queues: Sequence[str] | None = None
) -> Report:
    """The report for `period`; with `queues` (names), over those queues only."""
    if queues is not None and not queues:
        return _empty(period)
    start, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    created = (
        await Ticket.filter(created_at__gte=start, created_at__lt=end, **_of_queues(queues))
        .order_by("created_at", "id")
        .values(
            "id",
            "customer_email",
            "customer_name",
            "subject",
            "created_at",
            "first_response_at",
            "priority",
        )
    )
    events = await History.filter(
        created_at__gte=start,
        created_at__lt=end,
        event__in=[HistoryEvent.CLAIMED, HistoryEvent.REPLIED, HistoryEvent.CLOSED],
        **_of_queues(queues, "ticket__"),
    ).values("ticket_id", "event", "actor", "created_at", opened_at="ticket__created_at")
    minutes = await Article.filter(
        created_at__gte=start,
        created_at__lt=end,
        minutes_spent__gt=0,
        **_of_queues(queues, "ticket__"),
    ).values("author", "minutes_spent")

    answered = [t for t in created if t["first_response_at"] is not None]
    first_response = Durations.of(
        [(t["first_response_at"] - t["created_at"]).total_seconds() for t in answered]
    )
    last_close: dict[int, tuple[datetime, datetime]] = {}  # ticket → (closed, created)
    for event in events:
        if event["event"] == HistoryEvent.CLOSED:
            ticket_id, closed = event["ticket_id"], event["created_at"]
            if ticket_id not in last_close or last_close[ticket_id][0] < closed:
                last_close[ticket_id] = (closed, event["opened_at"])
    resolution = Durations.of(
        [(closed - opened).total_seconds() for closed, opened in last_close.values()]
    )
    return Report(
        period=period,
        created=len(created),
        closed=sum(1 for e in events if e["event"] == HistoryEvent.CLOSED),
        reopened=await _reopened(period, queues),
        backlog=await _backlog(period, queues),
        unanswered=len(created) - len(answered),
        first_response=first_response,
        resolution=resolution,
        agents=_agents(events, minutes),
        customers=_top_customers(created),
        subjects=_top_subjects(created, hook),
        daily=_daily(created, events, period),
        queues=None if queues is None else tuple(queues),
        by_priority={
            p.value: sum(1 for t in created if t["priority"] == p) for p in PRIORITY_ORDER
        },
        csat=await _csat(start, end, queues),
    )


async def _csat(start: datetime, end: datetime, queues: Sequence[str] | None) -> CsatCounts:
    """The ratings given in the period, from the history (each rating's entry names the
    agent it counts for), not from the rating requests the SQL counts."""
    rated = await History.filter(
        created_at__gte=start,
        created_at__lt=end,
        event=HistoryEvent.CSAT_RATED,
        **_of_queues(queues, "ticket__"),
    ).values_list("detail", flat=True)
    pairs = Counter((str(d["agent"]), str(d["rating"])) for d in rated if isinstance(d, dict))
    return CsatCounts.of([(agent, rating, n) for (agent, rating), n in pairs.items()])


def _empty(period: Period) -> Report:
    """No queue to count: every number is zero (no query could find anything)."""
    none = Durations.of([])
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
        _daily([], [], period),
        queues=(),
        by_priority={p.value: 0 for p in PRIORITY_ORDER},
    )


async def _reopened(period: Period, queues: Sequence[str] | None) -> int:
    """Closed tickets opened again (by an agent or a customer's mail); a customer's answer
    to a pending ticket is the normal flow, recorded as "reopened" from pending, not counted."""
    details = await History.filter(
        event=HistoryEvent.REOPENED,
        created_at__gte=period.start.astimezone(UTC),
        created_at__lt=period.end.astimezone(UTC),
        **_of_queues(queues, "ticket__"),
    ).values_list("detail", flat=True)
    return sum(
        1
        for detail in details
        if isinstance(detail, dict) and detail.get("from") in (None, "closed")
    )


async def _backlog(period: Period, queues: Sequence[str] | None) -> int:
    if period.to_now:
        return await Ticket.filter(**_of_queues(queues)).exclude(state=TicketState.CLOSED).count()
    end = period.end.astimezone(UTC)
    existing = await Ticket.filter(created_at__lt=end, **_of_queues(queues)).count()
    last: dict[int, str] = {}
    for ticket_id, event in (
        await History.filter(
            event__in=[HistoryEvent.CLOSED, HistoryEvent.REOPENED],
            created_at__lt=end,
            **_of_queues(queues, "ticket__"),
        )
        .order_by("created_at", "id")
        .values_list("ticket_id", "event")
    ):
        last[ticket_id] = event
    return existing - sum(1 for event in last.values() if event == HistoryEvent.CLOSED)


def _agents(events: list[dict[str, object]], minutes: list[dict[str, object]]) -> list[AgentLine]:
    lines: dict[str, AgentLine] = {}

    def line(user: str) -> AgentLine:
        return lines.setdefault(user, AgentLine(user))

    for event in events:
        actor, kind = str(event["actor"]), event["event"]
        if not actor.startswith(("U", "W")):
            continue  # "system", customers' addresses: not agents
        if kind == HistoryEvent.CLAIMED:
            line(actor).claims += 1
        elif kind == HistoryEvent.REPLIED:
            line(actor).replies += 1
        elif kind == HistoryEvent.CLOSED:
            line(actor).closes += 1
    for row in minutes:
        author = str(row["author"])
        if author.startswith(("U", "W")):
            line(author).minutes += int(str(row["minutes_spent"]))
    return sorted(lines.values(), key=lambda a: (-a.activity, -a.minutes, a.user_id))


def _top_customers(created: list[dict[str, object]]) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    for ticket in created:
        email = str(ticket["customer_email"]).lower()
        counts[email] += 1
        names.setdefault(email, str(ticket["customer_name"] or ""))
    return [
        (f"{names[email]} <{email}>" if names[email] else email, n)
        for email, n in counts.most_common(TOP)
    ]


def _top_subjects(created: list[dict[str, object]], hook: str) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for ticket in created:
        subject = str(ticket["subject"] or "")
        key = normalise_subject(subject, hook)
        if key:
            counts[key] += 1
            shown.setdefault(key, " ".join(subject.split()))
    return [(shown[key], n) for key, n in counts.most_common(TOP) if n > 1]


def _daily(
    created: list[dict[str, object]], events: list[dict[str, object]], period: Period
) -> list[tuple[date, int, int]]:
    zone: tzinfo | None = period.start.tzinfo
    made: defaultdict[date, int] = defaultdict(int)
    shut: defaultdict[date, int] = defaultdict(int)
    for ticket in created:
        at = ticket["created_at"]
        assert isinstance(at, datetime)
        made[at.astimezone(zone).date()] += 1
    for event in events:
        at = event["created_at"]
        if event["event"] == HistoryEvent.CLOSED and isinstance(at, datetime):
            shut[at.astimezone(zone).date()] += 1
    days = []
    day = period.start.date()
    while day <= (period.end - timedelta(microseconds=1)).astimezone(zone).date():
        days.append((day, made[day], shut[day]))
        day += timedelta(days=1)
    return days


async def reference_sla(
    period: Period, sla: SlaPolicy, *, queues: Sequence[str] | None, now: datetime
) -> list[SlaCount]:
    """The service-level lines by the domain's own evaluator (models.sla), ticket by ticket:
    a stopped clock met or breached, a running one breached once past its due instant."""
    start, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    tickets = await Ticket.filter(created_at__gte=start, created_at__lt=end, **_of_queues(queues))
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for ticket in tickets:
        clocks = TicketClocks.of(ticket)
        for offset, clock in ((0, SlaClock.FIRST_RESPONSE), (2, SlaClock.RESOLUTION)):
            status = clocks.status(sla, clock, now)
            if status is None:
                continue
            breached = status.level is SlaLevel.BREACHED
            if status.stopped_at is not None or breached:
                counts[(ticket.queue, ticket.priority.value)][offset + breached] += 1
    order = {p.value: i for i, p in enumerate(PRIORITY_ORDER)}
    return [
        SlaCount(queue, Priority(priority), *numbers)
        for (queue, priority), numbers in sorted(
            counts.items(), key=lambda kv: (kv[0][0], order[kv[0][1]])
        )
        if any(numbers)
    ]
