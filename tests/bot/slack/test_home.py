"""The App Home tab: a pure view checked against Slack's rules, and HomeTab publishing and
refreshing it through the emulator on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.blocks import Block
from bot.render.home import build_home_view
from bot.sandbox.emulator import ALICE, BOB, CAROL, SUPPORT_CHANNEL, SlackEmulator
from bot.sandbox.emulator.validation import validate_view
from bot.slack.directory import ChannelMembers, People
from bot.slack.home import HomeTab
from bot.slack.services import Services
from models.business_time import BusinessCalendar
from models.policy import Policy, QueueRoute
from models.priority import Priority
from models.sla import SlaPolicy, Targets
from models.store.ticket import Ticket, TicketState
from models.team import set_priority
from models.views import by_urgency
from models.work import Agent, claim
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)
SUPPORT = QueueRoute("Support", SUPPORT_CHANNEL, frozenset({"support@ticketbot.example"}))
BILLING = QueueRoute("Billing", "C0BILLING1")


def text_of(view: Block) -> str:
    return str(view["blocks"])


def ticket(number: str, subject: str, state: TicketState) -> Ticket:
    return Ticket(number=number, subject=subject, state=state, queue="Support")


def test_an_agents_home_lists_their_tickets_and_each_queues_backlog() -> None:
    view = build_home_view(
        [ticket("2026112510000017", "<!channel> printer *on fire*", TicketState.OPEN)],
        [SUPPORT, BILLING],
        {"Support": 3},
        hook="Ticket#",
        command="/ticket",
        now=NOW,
    )
    assert validate_view(view, kinds=("home",)) == []
    text = text_of(view)
    assert "Ticket#2026112510000017" in text and "&lt;!channel&gt;" in text
    assert "<!channel>" not in text
    assert f"<#{SUPPORT_CHANNEL}>: 3 unclaimed" in text
    assert "*Billing* in <#C0BILLING1>: nothing unclaimed" in text


def test_an_empty_home_says_so_and_a_non_agent_is_told_why() -> None:
    empty = build_home_view([], [SUPPORT], {}, hook="Ticket#", command="/ticket", now=NOW)
    assert validate_view(empty, kinds=("home",)) == []
    assert "You hold no open tickets" in text_of(empty)
    outsider = build_home_view([], [], {}, hook="Ticket#", command="/ticket", now=NOW)
    assert validate_view(outsider, kinds=("home",)) == []
    assert "not an agent of any queue" in text_of(outsider)
    assert "Ticket#" not in text_of(outsider)


POLICY = Policy(queues=(SUPPORT,), address="support@ticketbot.example")


@pytest.fixture
def services(slack_client: AsyncWebClient) -> Services:
    return Services(
        policy=POLICY,
        members=ChannelMembers(slack_client),
        people=People(slack_client),
        wake_outbox=lambda: None,
    )


@pytest.fixture
def home(slack_client: AsyncWebClient, services: Services) -> HomeTab:
    return HomeTab(slack_client, services, "/ticket")


async def test_opening_publishes_and_the_refresh_job_keeps_it_current(
    database: str, slack: SlackEmulator, home: HomeTab
) -> None:
    policy = POLICY
    for n in range(2):
        await ingest(make_mail(message_id=f"<home-{n}@x.example>", subject=f"Home {n}"), policy)

    home.opened(ALICE)
    home.opened(CAROL)
    alice = await slack.wait_for_async(lambda: slack.home_view(ALICE), what="Alice's Home")
    assert "2 unclaimed" in str(alice.view["blocks"])
    assert "You hold no open tickets" in str(alice.view["blocks"])
    carol = await slack.wait_for_async(lambda: slack.home_view(CAROL), what="Carol's Home")
    assert "not an agent of any queue" in str(carol.view["blocks"])

    first = await Ticket.filter(subject="Home 0").get()
    await claim(first.id, Agent(ALICE), policy)
    await home.refresh()

    refreshed = str(slack.home_view(ALICE).view["blocks"])  # type: ignore[union-attr]
    assert first.number in refreshed and "1 unclaimed" in refreshed
    assert len([c for c in slack.calls("views.publish") if c.args["user_id"] == ALICE]) == 2


async def test_an_agents_own_changes_update_their_open_home_once_per_burst(
    database: str, slack: SlackEmulator, services: Services, home: HomeTab
) -> None:
    policy = POLICY
    ids = []
    for n in range(3):
        mail = make_mail(message_id=f"<burst-{n}@x.example>", subject=f"Burst {n}")
        ids.append((await ingest(mail, policy)).ticket_id)
    home.opened(ALICE)
    await slack.wait_for_async(lambda: slack.home_view(ALICE), what="Alice's Home")

    for ticket_id in ids:
        assert ticket_id is not None
        await claim(ticket_id, Agent(ALICE), policy)
        services.work_done(ALICE)
    services.work_done(BOB)  # never opened the tab: nothing to refresh

    def publishes(user: str) -> int:
        return len([c for c in slack.calls("views.publish") if c.args["user_id"] == user])

    await services.settle(grace_seconds=10)  # every follow-up publish has finished
    assert publishes(ALICE) == 2  # the opening, then one refresh for the burst
    shown = str(slack.home_view(ALICE).view["blocks"])  # type: ignore[union-attr]
    assert all(f"Burst {n}" in shown for n in range(3)) and "nothing unclaimed" in shown
    assert publishes(BOB) == 0


# -- service levels: closest to a breach first, with the time left -----------------------

SLA_POLICY = replace(
    POLICY,
    sla=SlaPolicy(
        calendar=BusinessCalendar.always(),
        targets={
            Priority.URGENT: Targets(first_response_minutes=180),
            Priority.NORMAL: Targets(first_response_minutes=240),
        },
    ),
)


def due_ticket(number: str, due: datetime | None, resolution: datetime | None = None) -> Ticket:
    return Ticket(
        number=number,
        subject=number,
        state=TicketState.OPEN,
        queue="Support",
        sla_first_due_at=due,
        sla_resolution_due_at=resolution,
    )


def test_held_tickets_are_ordered_by_their_nearest_due_instant() -> None:
    later, sooner, none, overdue = (
        due_ticket("later", NOW + timedelta(hours=2)),
        due_ticket("sooner", NOW + timedelta(hours=3), resolution=NOW + timedelta(minutes=5)),
        due_ticket("none", None),
        due_ticket("overdue", NOW - timedelta(minutes=1)),
    )
    ordered = by_urgency([none, later, sooner, overdue])
    assert [t.number for t in ordered] == ["overdue", "sooner", "later", "none"]


async def test_home_shows_my_tickets_closest_to_a_breach_first(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    now = datetime.now(UTC)
    numbers = {}
    # urgent, 180 minutes, two hours in: one hour left; normal, 240 minutes, 230 in: ten
    # minutes left; low: no target. Priority alone would put the urgent one first.
    for name, age, priority in (
        ("Urgent", 120, Priority.URGENT),
        ("Normal", 230, Priority.NORMAL),
        ("Low", 300, Priority.LOW),
    ):
        created = now - timedelta(minutes=age)
        mail = make_mail(message_id=f"<sla-{name}@x.example>", subject=f"SLA {name}")
        result = await ingest(mail, SLA_POLICY, clock=lambda c=created: c)
        assert result.ticket_id is not None
        await set_priority(
            result.ticket_id, Agent(ALICE), priority, lambda c=created: c, sla=SLA_POLICY.sla
        )
        await claim(result.ticket_id, Agent(ALICE), SLA_POLICY)
        assert result.ticket_number is not None
        numbers[name] = result.ticket_number
    services = Services(
        policy=SLA_POLICY,
        members=ChannelMembers(slack_client),
        people=People(slack_client),
        wake_outbox=lambda: None,
    )
    view = await HomeTab(slack_client, services, "/ticket").view_for(ALICE)
    assert validate_view(view, kinds=("home",)) == []
    mine = str(view["blocks"][1]["text"]["text"])
    lines = mine.splitlines()
    assert [next(n for n, num in numbers.items() if num in line) for line in lines] == [
        "Normal",
        "Urgent",
        "Low",
    ]
    assert "left for the first response" in lines[0]
    assert "left for the first response" in lines[1]
    assert "left" not in lines[2]
