"""Service levels on tickets (issue 13): due instants stored on the ticket, paused while
pending or closed, recomputed on a priority change, and the escalation job's warnings
and breaches, each once — on SQLite and PostgreSQL, with a clock moved by hand."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime
from zoneinfo import ZoneInfo

from models.business_time import BusinessCalendar, LocalInterval
from models.effects import SLACK_THREAD_NOTICE
from models.escalation import escalate
from models.events import HistoryEvent, Notice
from models.outbox.items import OutboxItem
from models.policy import Policy, QueueRoute
from models.priority import Priority
from models.sla import SlaClock, SlaLevel, SlaPolicy, Targets
from models.store import db
from models.store.ticket import History, Ticket, TicketState
from models.team import set_priority
from models.work import Agent, claim, close, reopen, reply
from tests.support.clock import HandClock
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = (LocalInterval.parse("09:00-17:00"),)
SLA = SlaPolicy(
    calendar=BusinessCalendar(BERLIN, (NINE_TO_FIVE,) * 5 + ((), ())),
    targets={
        Priority.URGENT: Targets(first_response_minutes=60, resolution_minutes=480),
        Priority.NORMAL: Targets(first_response_minutes=240, resolution_minutes=960),
    },
)
QUEUES = (
    QueueRoute(
        "Support", "C0SUPPORT", frozenset({"support@ticketbot.example"}), escalation_group="S0TEAM"
    ),
    QueueRoute("Billing", "C0BILLING", frozenset({"billing@ticketbot.example"})),
)
POLICY = Policy(
    queues=QUEUES,
    address="support@ticketbot.example",
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
    sla=SLA,
)
ALICE = Agent("U0ALICE", "Alice Agent")


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in December 2026 in Berlin (the 4th is a Friday, the 7th a Monday)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


async def new_ticket(clock: HandClock, policy: Policy = POLICY, **mail: object) -> Ticket:
    fields: dict[str, object] = {"message_id": "<q1@customer.example>", "subject": "Help"}
    result = await ingest(make_mail(**(fields | mail)), policy, clock=clock)  # type: ignore[arg-type]
    assert result.ticket_id is not None
    return await Ticket.get(id=result.ticket_id)


async def customer_writes(clock: HandClock, ticket: Ticket, n: int) -> None:
    subject = f"Re: [Ticket#{ticket.number}] Help"
    await ingest(
        make_mail(message_id=f"<f{n}@customer.example>", subject=subject), POLICY, clock=clock
    )


async def notices(ticket_id: int) -> list[tuple[str, dict[str, str]]]:
    items = await OutboxItem.filter(kind=SLACK_THREAD_NOTICE).order_by("id")
    return [
        (item.payload["notice"], item.payload["facts"])
        for item in items
        if item.payload["ticket_id"] == ticket_id
    ]


async def test_an_urgent_ticket_of_friday_1650_is_due_monday_0950(database: str) -> None:
    clock = HandClock(berlin(4, 16, 50))
    ticket = await new_ticket(clock)
    # normal: 240 business minutes, 10 of them on Friday
    assert ticket.sla_first_due_at == berlin(7, 12, 50)
    assert ticket.sla_resolution_due_at == berlin(8, 16, 50)  # 960: Monday whole, 7:50 Tuesday
    assert await set_priority(ticket.id, ALICE, Priority.URGENT, clock, sla=SLA)
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.sla_first_due_at == berlin(7, 9, 50)
    assert ticket.sla_first_warn_at == berlin(7, 9, 38)  # 80 % of 60 = 48 minutes
    assert ticket.sla_resolution_due_at == berlin(7, 16, 50)
    assert ticket.sla_first_met is None
    assert ticket.sla_resolution_met is None


async def test_a_priority_change_recomputes_from_the_creation_keeping_pauses(
    database: str,
) -> None:
    clock = HandClock(berlin(7, 9))
    ticket = await new_ticket(clock)
    clock.advance(minutes=30)
    await reply(ticket.id, ALICE, "Which version?", POLICY, clock=clock)  # pending 09:30
    clock.advance(hours=2)
    await customer_writes(clock, ticket, 1)  # 11:30: two hours paused
    clock.advance(minutes=30)  # 12:00
    assert await set_priority(ticket.id, ALICE, Priority.URGENT, clock, sla=SLA)
    ticket = await Ticket.get(id=ticket.id)
    # urgent resolution: 480 minutes from 09:00, the two paused hours added → Tuesday 11:00
    assert ticket.sla_resolution_due_at == berlin(8, 11)
    assert ticket.sla_first_met is True  # the reply at 09:30 was within 60 minutes
    assert ticket.sla_first_due_at is None  # stopped
    history = await History.filter(ticket_id=ticket.id, event=HistoryEvent.PRIORITY_CHANGED)
    assert len(history) == 1


async def test_pending_time_does_not_count(database: str) -> None:
    clock = HandClock(berlin(7, 9))
    ticket = await new_ticket(clock)
    before = ticket.sla_resolution_due_at
    assert before == berlin(8, 17)  # 960 minutes = two whole days
    clock.advance(minutes=45)
    await reply(ticket.id, ALICE, "Can you send a log?", POLICY, clock=clock)
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.state is TicketState.PENDING
    assert ticket.sla_first_met is True
    assert ticket.sla_first_due_at is None
    assert ticket.sla_resolution_due_at is None  # held: no deadline while waiting
    assert ticket.sla_resolution_warn_at is None
    # waiting over the night and the next morning: 09:45 Monday to 11:15 Tuesday is
    # 7 h 15 min + 2 h 15 min = 9 h 30 min of business time
    clock.now = berlin(8, 11, 15)
    await customer_writes(clock, ticket, 1)
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.state is TicketState.OPEN  # the reply claimed it
    assert ticket.sla_resolution_due_at == berlin(10, 10, 30)  # 9 h 30 min business later
    assert ticket.sla_pauses == [[berlin(7, 9, 45).isoformat(), berlin(8, 11, 15).isoformat()]]


async def test_a_reopened_ticket_runs_on_from_where_it_stood(database: str) -> None:
    clock = HandClock(berlin(7, 9))
    ticket = await new_ticket(clock)
    await claim(ticket.id, ALICE, POLICY, clock)
    clock.advance(hours=2)
    closed = await close(ticket.id, ALICE, POLICY, clock=clock)  # 2 of 16 hours used
    assert closed.sla_resolution_met is True
    assert closed.sla_resolution_due_at is None
    assert closed.sla_first_due_at is None  # closed unanswered: that clock holds too
    clock.now = berlin(9, 9)
    reopened = await reopen(ticket.id, ALICE, clock, sla=SLA)
    assert reopened.sla_resolution_met is None
    assert reopened.sla_resolution_due_at == berlin(10, 15)  # 14 h left from Wed 09:00
    assert reopened.sla_first_due_at == berlin(9, 11)  # 2 h of 4 used before the close


async def test_a_late_close_is_a_breach(database: str) -> None:
    clock = HandClock(berlin(7, 9))
    ticket = await new_ticket(clock)
    clock.now = berlin(9, 9)  # 16 business hours later: due Tuesday 17:00
    closed = await close(ticket.id, ALICE, POLICY, clock=clock)
    assert closed.sla_resolution_met is False


async def test_warning_and_breach_are_announced_once_each(database: str) -> None:
    clock = HandClock(berlin(4, 16, 50))
    ticket = await new_ticket(clock)
    await set_priority(ticket.id, ALICE, Priority.URGENT, clock, sla=SLA)
    clock.now = berlin(7, 9, 37)
    assert await escalate(POLICY, clock) == []
    clock.now = berlin(7, 9, 38)
    first = [await escalate(POLICY, clock) for _ in range(3)]
    assert [[(e.clock, e.level) for e in run] for run in first] == [
        [(SlaClock.FIRST_RESPONSE, SlaLevel.WARNING)],
        [],
        [],
    ]
    assert await notices(ticket.id) == [
        (
            Notice.SLA_FIRST_RESPONSE_WARNING.value,
            {
                "owner": "",
                "group": "S0TEAM",
                "due": str(int(berlin(7, 9, 50).timestamp())),
                "minutes": "60",
            },
        )
    ]
    await claim(ticket.id, ALICE, POLICY, clock)
    clock.now = berlin(7, 9, 50)
    assert await escalate(POLICY, clock) == []  # due at 09:50 is not yet passed
    clock.now = berlin(7, 9, 51)
    second = [await escalate(POLICY, clock) for _ in range(3)]
    assert sum(len(run) for run in second) == 1
    found = await notices(ticket.id)
    assert [kind for kind, _ in found] == [
        Notice.SLA_FIRST_RESPONSE_WARNING.value,
        Notice.SLA_FIRST_RESPONSE_BREACHED.value,
    ]
    assert found[1][1]["owner"] == "U0ALICE"  # held: the owner, not the group
    assert found[1][1]["group"] == ""
    events = await History.filter(ticket_id=ticket.id, event__startswith="sla_").order_by("id")
    assert [(e.event, e.detail["clock"]) for e in events] == [
        (HistoryEvent.SLA_WARNED, "first_response"),
        (HistoryEvent.SLA_BREACHED, "first_response"),
    ]
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.sla_first_warned_at == berlin(7, 9, 38)
    assert ticket.sla_first_breached_at == berlin(7, 9, 51)
    # a reply now stops the clock late: breached; no more notices for it
    await reply(ticket.id, ALICE, "Sorry for the wait", POLICY, clock=clock)
    assert (await Ticket.get(id=ticket.id)).sla_first_met is False
    clock.now = berlin(8, 17)
    assert await escalate(POLICY, clock) == []  # pending: resolution held


async def test_a_breach_found_before_its_warning_is_announced_alone(database: str) -> None:
    clock = HandClock(berlin(7, 9))
    ticket = await new_ticket(clock, subject="No group", to="billing@ticketbot.example")
    clock.now = berlin(7, 13, 1)  # past the first-response due instant (13:00)
    done = await escalate(POLICY, clock)
    assert [(e.clock, e.level) for e in done] == [(SlaClock.FIRST_RESPONSE, SlaLevel.BREACHED)]
    assert await escalate(POLICY, clock) == []
    found = await notices(ticket.id)
    assert found == [
        (
            Notice.SLA_FIRST_RESPONSE_BREACHED.value,
            {
                "owner": "",
                "group": "",
                "due": str(int(berlin(7, 13).timestamp())),
                "minutes": "240",
            },
        )
    ]


async def test_racing_escalation_jobs_announce_once(database: str) -> None:
    clock = HandClock(berlin(7, 9))
    tickets = [
        await new_ticket(clock, message_id=f"<r{n}@customer.example>", subject=f"Q{n}")
        for n in range(5)
    ]
    clock.now = berlin(7, 13, 1)
    runs = await asyncio.gather(*(escalate(POLICY, clock) for _ in range(4)))
    announced = sorted(e.ticket_id for run in runs for e in run)
    assert announced == sorted(t.id for t in tickets)
    assert await OutboxItem.filter(kind=SLACK_THREAD_NOTICE).count() == len(tickets)


async def test_without_sla_nothing_is_measured(database: str) -> None:
    clock = HandClock(berlin(7, 9))
    policy = Policy(queues=QUEUES, address="support@ticketbot.example")
    ticket = await new_ticket(clock, policy)
    assert ticket.sla_first_due_at is None
    assert ticket.sla_resolution_due_at is None
    assert ticket.sla_pauses is None
    clock.now = berlin(20, 9)
    assert await escalate(policy, clock) == []
    await reply(ticket.id, ALICE, "Hello", policy, clock=clock)
    assert (await Ticket.get(id=ticket.id)).sla_first_met is None


async def test_the_job_reads_the_partial_indexes(database: str) -> None:
    """Candidates come from the running clocks' partial indexes, not a scan of tickets."""
    connection = db.connection()
    query = (
        "SELECT id FROM ticket WHERE sla_first_due_at < '2026-12-07' "
        "AND sla_first_breached_at IS NULL"
    )
    if database.startswith("postgres"):
        await connection.execute_script("SET enable_seqscan = off")
        rows = await connection.execute_query_dict(f"EXPLAIN {query}")
        plan = " ".join(str(row["QUERY PLAN"]) for row in rows)
    else:
        rows = await connection.execute_query_dict(f"EXPLAIN QUERY PLAN {query}")
        plan = " ".join(str(row["detail"]) for row in rows)
    assert "ticket_sla_first_due_at" in plan


async def test_a_warning_waits_while_the_customer_is_asked(database: str) -> None:
    clock = HandClock(berlin(7, 9))
    ticket = await new_ticket(clock)  # normal: resolution 960 minutes, warning at 768
    assert ticket.sla_resolution_warn_at == berlin(8, 13, 48)
    clock.now = berlin(8, 14)
    await reply(ticket.id, ALICE, "Does it work now?", POLICY, clock=clock)  # late, pending
    clock.now = berlin(8, 15)
    assert await escalate(POLICY, clock) == []  # held: no deadline to warn of
    clock.now = berlin(9, 10)
    await customer_writes(clock, ticket, 1)  # it runs again: 13 h used (8 + 5), 3 h left
    assert (await Ticket.get(id=ticket.id)).sla_resolution_due_at == berlin(9, 13)
    done = await escalate(POLICY, clock)
    assert [(e.clock, e.level) for e in done] == [(SlaClock.RESOLUTION, SlaLevel.WARNING)]
    assert await escalate(POLICY, clock) == []


async def test_a_ticket_from_before_sla_is_never_measured(database: str) -> None:
    clock = HandClock(berlin(7, 9))
    ticket = await new_ticket(clock, Policy(queues=QUEUES, address="support@ticketbot.example"))
    clock.now = berlin(9, 9)
    await set_priority(ticket.id, ALICE, Priority.URGENT, clock, sla=SLA)
    await reply(ticket.id, ALICE, "Hello", POLICY, clock=clock)
    ticket = await Ticket.get(id=ticket.id)
    assert (ticket.sla_first_met, ticket.sla_resolution_due_at, ticket.sla_pauses) == (
        None,
        None,
        None,
    )
    assert await escalate(POLICY, clock) == []
