"""`/ticket report` numbers on SQLite and PostgreSQL, against a history built with the real
operations at known times, plus the pure parts (periods, percentiles)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from models import sla_state
from models.business_time import BusinessCalendar, LocalInterval
from models.csat import Rating, record_rating
from models.csat_token import derive_key, make_token
from models.events import HistoryEvent
from models.policy import CsatPolicy, Policy, QueueRoute
from models.priority import Priority
from models.report import PeriodError, Report, build_report, parse_period, percentile
from models.report_queries import ticket_rows
from models.sla import SlaPolicy, Targets
from models.store.article import Article
from models.store.csat import CsatRequest
from models.store.ticket import History, Ticket
from models.work import Agent, claim, close, reopen, reply
from tests.models.test_work import ALICE, BOB, LEAD, POLICY
from tests.support.intake import ingest
from tests.support.make_mail import make_mail
from tests.support.report_reference import reference_report, reference_sla

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 15, 30, tzinfo=BERLIN)  # a Wednesday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end", "to_now"),
    [
        ("today", datetime(2026, 11, 25, tzinfo=BERLIN), NOW, True),
        ("", datetime(2026, 11, 23, tzinfo=BERLIN), NOW, True),
        ("week", datetime(2026, 11, 23, tzinfo=BERLIN), NOW, True),
        ("MONTH", datetime(2026, 11, 1, tzinfo=BERLIN), NOW, True),
        (
            "2026-10-24..2026-10-26",  # over the end of summer time: 72 h + 1
            datetime(2026, 10, 24, tzinfo=BERLIN),
            datetime(2026, 10, 27, tzinfo=BERLIN),
            False,
        ),
        ("2026-11-20..2026-11-30", datetime(2026, 11, 20, tzinfo=BERLIN), NOW, True),
    ],
)
def test_periods(text: str, start: datetime, end: datetime, to_now: bool) -> None:
    period = parse_period(text, NOW)
    assert (period.start, period.end, period.to_now) == (start, end, to_now)


def test_a_range_over_the_clock_change_is_local_midnight_to_midnight() -> None:
    period = parse_period("2026-10-24..2026-10-26", NOW)
    assert period.end.astimezone(UTC) - period.start.astimezone(UTC) == timedelta(hours=73)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("yesterday", "use today, week, month"),
        ("2026-02-30..2026-03-01", "not a pair of real dates"),
        ("2026-11-10..2026-11-01", "ends before it starts"),
        ("2024-01-01..2026-01-01", "limited to 400 days"),
        ("2027-01-01..2027-01-02", "in the future"),
    ],
)
def test_bad_periods_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text, NOW)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.9, 7.0),
        ([3.0, 1.0, 2.0], 0.5, 2.0),
        ([1.0, 2.0], 0.5, 1.0),
        ([1.0, 2.0], 0.9, 2.0),
        ([float(n) for n in range(1, 101)], 0.9, 90.0),
        ([float(n) for n in range(1, 11)], 0.99, 10.0),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected


async def new(n: int, sender: str, subject: str, when: str) -> int:
    mail = make_mail(message_id=f"<report-{n}@x.example>", from_=sender, subject=subject)
    result = await ingest(mail, POLICY, clock=lambda: at(when))
    assert result.ticket_id is not None
    return result.ticket_id


async def test_a_known_history_gives_known_numbers(database: str) -> None:
    def clock(when: str) -> Callable[[], datetime]:
        return lambda: at(when)

    t0 = await new(0, "old@x.example", "Old request", "2026-10-02 09:00")
    t1 = await new(1, "Ann <ann@x.example>", "Password reset", "2026-10-05 09:00")
    t2 = await new(2, "ann@x.example", "Printer broken", "2026-10-05 12:00")
    t3 = await new(3, "ben@x.example", "Re: printer  BROKEN", "2026-10-06 08:00")
    await claim(t1, ALICE, POLICY, clock("2026-10-05 09:10"))
    await reply(t1, ALICE, "Done.", POLICY, minutes=30, clock=clock("2026-10-05 10:00"))
    number = (await Ticket.get(id=t1)).number
    answer = make_mail(  # the customer answers the pending ticket: not a reopening
        message_id="<report-answer@x.example>",
        from_="ann@x.example",
        subject=f"Re: [Ticket#{number}] Password reset",
    )
    assert (await ingest(answer, POLICY, clock=clock("2026-10-05 11:00"))).outcome == "followup"
    await close(t1, ALICE, POLICY, clock=clock("2026-10-06 09:00"))
    await claim(t3, BOB, POLICY, clock("2026-10-06 08:10"))
    await reply(t3, BOB, "Try this.", POLICY, clock=clock("2026-10-06 08:30"))
    await close(t3, BOB, POLICY, minutes=15, clock=clock("2026-10-06 08:45"))
    await reopen(t3, BOB, clock("2026-10-07 10:00"))
    await close(t0, LEAD, POLICY, clock=clock("2026-10-05 13:00"))
    await close(t2, Agent("U0LATE"), POLICY, clock=clock("2026-10-09 09:00"))  # after

    report = await build_report(
        parse_period("2026-10-05..2026-10-07", NOW.astimezone(UTC)), hook="Ticket#"
    )

    assert (report.created, report.closed, report.reopened) == (3, 3, 1)
    assert report.backlog == 2  # t2 open, t3 reopened; t0 and t1 closed
    assert report.unanswered == 1  # t2
    assert report.first_response.count == 2
    assert (report.first_response.median_seconds, report.first_response.p90_seconds) == (
        1800,
        3600,
    )
    assert report.resolution.count == 3
    assert report.resolution.median_seconds == 24 * 3600  # t1; t3 45 min, t0 3 d 4 h
    assert report.resolution.p90_seconds == 3 * 86400 + 4 * 3600
    lines = {a.user_id: (a.claims, a.replies, a.closes, a.minutes) for a in report.agents}
    assert lines == {
        ALICE.user_id: (1, 1, 1, 30),
        BOB.user_id: (1, 1, 1, 15),
        LEAD.user_id: (0, 0, 1, 0),
    }
    assert report.customers[0] == ("Ann <ann@x.example>", 2)
    assert report.subjects == [("Printer broken", 2)]
    assert report.daily == [
        (date(2026, 10, 5), 2, 1),
        (date(2026, 10, 6), 1, 2),
        (date(2026, 10, 7), 0, 0),
    ]

    first_day = await build_report(
        parse_period("2026-10-05..2026-10-05", NOW.astimezone(UTC)), hook="Ticket#"
    )
    assert first_day.backlog == 2  # t1, t2 open at its end; t0 closed that day
    assert first_day.closed == 1 and first_day.created == 2


TWO_QUEUES = Policy(
    queues=(
        QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),
        QueueRoute("Billing", "C0BILLING", frozenset({"billing@ticketbot.example"})),
    ),
    address="support@ticketbot.example",
)
#: The same, asking for a rating on every close (the random histories' customers rate).
RATED = replace(TWO_QUEUES, csat=CsatPolicy("https://t.example", key=derive_key("test secret")))


async def in_queue(n: int, to: str, sender: str, subject: str, when: str) -> int:
    mail = make_mail(message_id=f"<q-{n}@x.example>", to=to, from_=sender, subject=subject)
    result = await ingest(mail, TWO_QUEUES, clock=lambda: at(when))
    assert result.ticket_id is not None
    return result.ticket_id


def numbers(report: Report) -> tuple[object, ...]:
    return (
        report.created,
        report.closed,
        report.reopened,
        report.backlog,
        report.unanswered,
        report.first_response,
        report.resolution,
        [(a.user_id, a.claims, a.replies, a.closes, a.minutes) for a in report.agents],
        report.customers,
        report.subjects,
        report.daily,
        report.by_priority,
        report.csat,
    )


async def test_a_queue_restriction_restricts_every_number(database: str) -> None:
    """Support and Billing each get a history; a report over one queue is exactly the
    report of a database holding only that queue's tickets."""
    support, billing = "support@ticketbot.example", "billing@ticketbot.example"
    s1 = await in_queue(1, support, "ann@x.example", "Printer broken", "2026-10-05 09:00")
    s2 = await in_queue(2, support, "dan@x.example", "Printer broken", "2026-10-05 10:00")
    b1 = await in_queue(3, billing, "Ben <ben@y.example>", "Invoice wrong", "2026-10-05 11:00")
    b2 = await in_queue(4, billing, "eve@y.example", "Re: invoice  WRONG", "2026-10-06 08:00")
    b3 = await in_queue(5, billing, "cid@y.example", "Refund", "2026-10-06 09:00")
    await claim(s1, ALICE, TWO_QUEUES, lambda: at("2026-10-05 09:30"))
    await reply(s1, ALICE, "Fixed.", TWO_QUEUES, minutes=20, clock=lambda: at("2026-10-05 10:00"))
    await close(s1, ALICE, TWO_QUEUES, clock=lambda: at("2026-10-05 12:00"))
    await claim(b1, BOB, TWO_QUEUES, lambda: at("2026-10-05 11:10"))
    await reply(b1, BOB, "Sorry.", TWO_QUEUES, minutes=7, clock=lambda: at("2026-10-05 11:40"))
    await close(b1, BOB, TWO_QUEUES, minutes=3, clock=lambda: at("2026-10-06 10:00"))
    await reopen(b1, BOB, lambda: at("2026-10-06 11:00"))
    await close(b3, ALICE, TWO_QUEUES, clock=lambda: at("2026-10-06 12:00"))  # Alice in both
    period = parse_period("2026-10-05..2026-10-06", NOW.astimezone(UTC))

    everything = await build_report(period, hook="Ticket#")
    only_support = await build_report(period, hook="Ticket#", queues=["Support"])
    only_billing = await build_report(period, hook="Ticket#", queues=("Billing",))
    both = await build_report(period, hook="Ticket#", queues=["Support", "Billing"])
    nothing = await build_report(period, hook="Ticket#", queues=[])
    assert (everything.queues, only_support.queues, nothing.queues) == (None, ("Support",), ())
    assert numbers(both) == numbers(everything)

    assert (only_support.created, only_support.closed, only_support.reopened) == (2, 1, 0)
    assert (only_billing.created, only_billing.closed, only_billing.reopened) == (3, 2, 1)
    assert (only_support.backlog, only_billing.backlog) == (1, 2)  # s2; b1 reopened, b2
    assert sorted(only_support.customers) == [("ann@x.example", 1), ("dan@x.example", 1)]
    assert ("Ben <ben@y.example>", 1) in only_billing.customers
    assert only_support.subjects == [("Printer broken", 2)]
    assert only_billing.subjects == [("Invoice wrong", 2)]
    assert [(a.user_id, a.claims, a.closes, a.minutes) for a in only_support.agents] == [
        (ALICE.user_id, 1, 1, 20)
    ]
    assert {a.user_id: (a.claims, a.closes, a.minutes) for a in only_billing.agents} == {
        BOB.user_id: (1, 1, 10),
        ALICE.user_id: (0, 1, 0),
    }
    assert only_support.daily == [(date(2026, 10, 5), 2, 1), (date(2026, 10, 6), 0, 0)]
    assert only_billing.daily == [(date(2026, 10, 5), 1, 0), (date(2026, 10, 6), 2, 2)]
    assert only_support.first_response.count == 1 and only_billing.first_response.count == 1
    assert only_support.resolution.median_seconds == 3 * 3600
    assert numbers(nothing)[:5] == (0, 0, 0, 0, 0) and nothing.agents == []

    for ticket_id in (s1, s2):  # the same report without Billing's tickets
        await Ticket.filter(id=ticket_id).update(queue="Elsewhere")
    assert numbers(await build_report(period, hook="Ticket#", queues=["Billing"])) == numbers(
        only_billing
    )
    await Ticket.filter(id__in=[b1, b2, b3]).delete()
    await Ticket.filter(id__in=[s1, s2]).update(queue="Support")
    assert numbers(await build_report(period, hook="Ticket#")) == numbers(only_support)


# -- the SQL report against the definitions (tests/support/report_reference.py) -------------

SUBJECTS = [
    "Printer broken",
    "Re: printer  BROKEN",
    "VPN down",
    "AW: VPN down",
    "Refund",
    "Löschung",
]
SENDERS = ["Ann <ann@x.example>", "ben@x.example", "Cid <CID@y.example>", "dan@y.example"]
AGENTS = [ALICE, BOB, LEAD]


async def random_history(seed: int, count: int = 36, policy: Policy | None = None) -> None:
    """`count` tickets over ten days in two queues, each worked by the real operations at
    random (whole-second and sub-second) times: claims, replies with minutes, closes,
    reopenings, closes again, customers answering."""
    rng = random.Random(seed)
    used = replace(policy or TWO_QUEUES, csat=RATED.csat)  # closes ask for ratings
    start = at("2026-10-01 00:00")
    for n in range(count):
        created = start + timedelta(
            seconds=rng.randrange(10 * 86400), microseconds=rng.randrange(2) * 250_000
        )
        to = rng.choice(["support@ticketbot.example", "billing@ticketbot.example"])
        mail = make_mail(
            message_id=f"<random-{seed}-{n}@x.example>",
            to=to,
            from_=rng.choice(SENDERS),
            subject=rng.choice(SUBJECTS),
        )
        result = await ingest(mail, used, clock=lambda c=created: c)
        ticket_id = result.ticket_id
        assert ticket_id is not None
        if result.outcome != "new_ticket":
            continue  # the same question again: a follow-up of an earlier ticket
        await Ticket.filter(id=ticket_id).update(priority=list(Priority)[n % len(Priority)])
        await sla_state.refresh(ticket_id, used.sla, created)
        when = created
        agent = rng.choice(AGENTS)

        def later(when: datetime) -> datetime:
            return when + timedelta(
                minutes=rng.randrange(1, 3000), microseconds=rng.randrange(1000)
            )

        if rng.random() < 0.8:
            when = later(when)
            await claim(ticket_id, agent, used, lambda w=when: w)
            if rng.random() < 0.8:
                when = later(when)
                await reply(
                    ticket_id,
                    agent,
                    "Done.",
                    used,
                    minutes=rng.randrange(0, 40),
                    clock=lambda w=when: w,
                )
            if rng.random() < 0.7:
                when = later(when)
                await close(
                    ticket_id,
                    agent,
                    used,
                    minutes=rng.randrange(0, 9),
                    clock=lambda w=when: w,
                )
                if rng.random() < 0.3:
                    when = later(when)
                    await reopen(ticket_id, rng.choice(AGENTS), lambda w=when: w, sla=used.sla)
                    if rng.random() < 0.5:
                        when = later(when)
                        await close(ticket_id, agent, used, clock=lambda w=when: w)
                if rng.random() < 0.7:  # the customer rates the latest close, some time later
                    when = later(when)
                    await rate_latest(ticket_id, rng.choice(list(Rating)), when)


async def rate_latest(ticket_id: int, rating: Rating, when: datetime) -> None:
    """The customer clicks the link of the ticket's latest rating mail at `when`."""
    assert RATED.csat is not None
    request = await CsatRequest.filter(ticket_id=ticket_id).order_by("-id").first()
    assert request is not None
    token = make_token(RATED.csat.key, request.id, ticket_id, request.expires_at)
    await record_rating(RATED, token, rating, lambda: when)


@pytest.mark.parametrize(
    ("text", "zone", "queues"),
    [
        ("2026-10-01..2026-10-10", UTC, None),
        ("2026-10-03..2026-10-06", BERLIN, None),
        ("2026-10-02..2026-10-04", ZoneInfo("America/New_York"), ["Billing"]),
        ("2026-10-05..2026-10-05", BERLIN, ["Support"]),
        ("2026-10-01..2026-11-20", BERLIN, ["Support", "Billing"]),  # per week in the chart
        ("month", BERLIN, None),  # to now: the backlog is the state now
    ],
)
async def test_every_number_is_the_reference_definition(
    database: str, text: str, zone: ZoneInfo, queues: list[str] | None
) -> None:
    await random_history(seed=len(text) + len(str(zone)))
    now = datetime(2026, 10, 12, 15, 30, tzinfo=zone) if text == "month" else NOW.astimezone(zone)
    period = parse_period(text, now)
    expected = await reference_report(period, hook="Ticket#", queues=queues)
    got = await build_report(period, queues=queues)
    assert numbers(got) == numbers(expected)
    assert got.created > 0  # not a comparison of two empty reports
    if text == "2026-10-01..2026-11-20":
        assert got.csat.total > 0 and len(got.csat.agents) > 1  # ratings were compared too


SLA = SlaPolicy(
    calendar=BusinessCalendar(BERLIN, ((LocalInterval.parse("09:00-17:00"),),) * 5 + ((), ())),
    targets={
        Priority.URGENT: Targets(first_response_minutes=30, resolution_minutes=240),
        Priority.HIGH: Targets(first_response_minutes=120, resolution_minutes=960),
        Priority.NORMAL: Targets(first_response_minutes=480),
    },
    queue_targets={"Billing": {Priority.LOW: Targets(resolution_minutes=2400)}},
)


@pytest.mark.parametrize(
    ("text", "queues"),
    [("2026-10-01..2026-10-10", None), ("2026-10-03..2026-10-08", ["Billing"])],
)
async def test_service_levels_are_the_reference_definition(
    database: str, text: str, queues: list[str] | None
) -> None:
    """Met and breached per queue and priority, counted by one SQL statement over the
    ticket's columns, equal the domain's evaluator run ticket by ticket."""
    await random_history(seed=len(text) + 7, count=48, policy=replace(TWO_QUEUES, sla=SLA))
    period = parse_period(text, NOW.astimezone(BERLIN))
    for now in (NOW, at("2026-10-06 12:00")):  # running clocks judged at the asking time
        got = await build_report(period, queues=queues, now=now, sla=True)
        assert got.sla is not None
        assert got.sla == await reference_sla(period, SLA, queues=queues, now=now)
        assert sum(line.first_met + line.first_breached for line in got.sla) > 0
        assert sum(line.resolution_breached for line in got.sla) > 0
    assert (await build_report(period, queues=queues)).sla is None


async def test_the_backlog_line_and_breaches(database: str) -> None:
    await random_history(seed=11)
    period = parse_period("2026-10-01..2026-10-12", NOW.astimezone(UTC))
    report = await build_report(period, first_response_minutes=600, now=NOW)
    for i, (day, _, _) in enumerate(report.daily):  # each day's end is a period of its own
        own = parse_period(f"2026-10-01..{day}", NOW.astimezone(UTC))
        assert report.backlog_daily[i] == (await build_report(own)).backlog, day
    late = [
        t
        for t in await Ticket.filter(created_at__gte=period.start, created_at__lt=period.end)
        if (t.first_response_at or NOW) - t.created_at > timedelta(minutes=600)
    ]
    assert report.breaches == len(late) > 0
    assert (await build_report(period)).breaches is None


async def test_ticket_rows_for_the_csv(database: str) -> None:
    await random_history(seed=5, count=12)
    period = parse_period("2026-10-01..2026-10-12", NOW.astimezone(UTC))
    rows = [
        row async for page in ticket_rows(period.start, period.end, ["Billing"]) for row in page
    ]
    tickets = await Ticket.filter(queue="Billing").order_by("created_at", "id")
    assert [r.number for r in rows] == [t.number for t in tickets]
    for row, ticket in zip(rows, tickets, strict=True):
        booked = sum(a.minutes_spent for a in await Article.filter(ticket_id=ticket.id))
        assert (row.queue, row.state, row.customer, row.owner, row.minutes) == (
            "Billing",
            ticket.state.value,
            ticket.customer_email,
            ticket.owner_id or "",
            booked,
        )
        assert (row.created, row.first_response, row.closed) == (
            ticket.created_at,
            ticket.first_response_at,
            ticket.closed_at,
        )


# -- what the ticket keeps for the report (migration 0007) ----------------------------------


async def history_says(ticket_id: int) -> tuple[datetime | None, datetime | None]:
    """The ticket's latest close and its first reply, as its history rows tell them."""
    rows = await History.filter(ticket_id=ticket_id).order_by("created_at", "id")
    closes = [row.created_at for row in rows if row.event == HistoryEvent.CLOSED]
    replies = [row.created_at for row in rows if row.event == HistoryEvent.REPLIED]
    return (max(closes) if closes else None, replies[0] if replies else None)


async def kept(ticket_id: int) -> tuple[datetime | None, datetime | None]:
    ticket = await Ticket.get(id=ticket_id)
    return ticket.last_closed_at, ticket.first_response_at


async def test_the_ticket_keeps_its_latest_close_and_first_reply(database: str) -> None:
    """Claim, reply, close, reopen, reply-and-close, reopen, reply, close: after each step the
    ticket's last_closed_at and first_response_at are what its history says."""
    ticket_id = await new(0, "ann@x.example", "Kept times", "2026-10-05 09:00")
    steps: list[tuple[str, Callable[[Callable[[], datetime]], Any]]] = [
        ("2026-10-05 09:10", lambda c: claim(ticket_id, ALICE, POLICY, c)),
        ("2026-10-05 09:30", lambda c: reply(ticket_id, ALICE, "One.", POLICY, clock=c)),
        ("2026-10-05 12:00", lambda c: close(ticket_id, ALICE, POLICY, clock=c)),
        ("2026-10-06 08:00", lambda c: reopen(ticket_id, BOB, c)),
        (
            "2026-10-06 09:00",
            lambda c: reply(ticket_id, ALICE, "Two.", POLICY, close_after=True, clock=c),
        ),
        ("2026-10-07 10:00", lambda c: reopen(ticket_id, ALICE, c)),
        ("2026-10-07 11:00", lambda c: reply(ticket_id, ALICE, "Three.", POLICY, clock=c)),
        ("2026-10-08 09:00", lambda c: close(ticket_id, LEAD, POLICY, clock=c)),
    ]
    assert await kept(ticket_id) == await history_says(ticket_id) == (None, None)
    for when, step in steps:
        await step(lambda w=when: at(w))
        assert await kept(ticket_id) == await history_says(ticket_id), when
    assert await kept(ticket_id) == (at("2026-10-08 09:00"), at("2026-10-05 09:30"))
    assert (await Ticket.get(id=ticket_id)).closed_at == at("2026-10-08 09:00")


async def test_every_ticket_keeps_what_its_history_says(database: str) -> None:
    await random_history(seed=3, count=48)
    tickets = await Ticket.all()
    assert any(t.last_closed_at is not None and t.closed_at is None for t in tickets)  # reopened
    for ticket in tickets:
        assert await kept(ticket.id) == await history_says(ticket.id), ticket.number


async def test_a_ticket_closed_again_after_the_period_counts_its_close_in_it(
    database: str,
) -> None:
    """Resolution: creation → the last close in the period, read from the history when the
    ticket was closed again after the period's end."""
    ticket_id = await new(0, "ann@x.example", "Closed twice", "2026-10-05 09:00")
    await close(ticket_id, ALICE, POLICY, clock=lambda: at("2026-10-05 12:00"))
    await reopen(ticket_id, ALICE, lambda: at("2026-10-05 13:00"))
    await close(ticket_id, ALICE, POLICY, clock=lambda: at("2026-10-05 15:00"))
    await reopen(ticket_id, BOB, lambda: at("2026-10-06 10:00"))
    await close(ticket_id, BOB, POLICY, clock=lambda: at("2026-10-09 09:00"))
    now = NOW.astimezone(UTC)
    early = await build_report(parse_period("2026-10-05..2026-10-07", now))
    assert early.closed == 2
    assert early.resolution.count == 1
    assert early.resolution.median_seconds == early.resolution.p90_seconds == 6 * 3600
    whole = await build_report(parse_period("2026-10-05..2026-10-10", now))
    assert whole.closed == 3 and whole.resolution.count == 1
    assert whole.resolution.median_seconds == 4 * 86400
    later = await build_report(parse_period("2026-10-06..2026-10-10", now))
    assert later.resolution.count == 1 and later.resolution.median_seconds == 4 * 86400
    before = await build_report(parse_period("2026-10-06..2026-10-08", now))
    assert before.closed == 0 and before.resolution.count == 0
