"""Who may see and work what, in every Slack surface (SPEC "Who may see what"), against the
emulator with signed requests, on SQLite and PostgreSQL.

The people, all from the emulator's workspace: Alice (an agent of Support, the control), a
guest, a single-channel guest and a Slack Connect member of another organisation (all three
in #support, none an agent), Carol (in no queue channel), Dave (an agent of Billing only)
and Lena (a lead, in no queue channel). Leads see every queue but act only where they are
agents.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.render.forms import build_close_modal, build_note_modal, build_reply_modal
from bot.sandbox.emulator import (
    ALICE,
    BILLING_CHANNEL,
    BOB,
    CAROL,
    DAVE,
    EXTERNAL,
    GUEST,
    LENA,
    SOLO,
    SUPPORT_CHANNEL,
    Message,
    SlackEmulator,
)
from bot.sandbox.signer import SlackDriver
from models.outbox.items import OutboxItem
from models.store.article import Article, ArticleKind
from models.store.ticket import Ticket, TicketState
from models.views import ticket_summary
from tests.bot.running_bot import BILLING, HOOK, SUPPORT, RunningBot, new_ticket, running_bot
from tests.support.slack_fixtures import DriverFactory

NOT_AN_AGENT = (
    f"Only members of <#{SUPPORT_CHANNEL}> can work on its tickets, "
    "and only people of this workspace who are not guests."
)
PERSONAS = [
    pytest.param(GUEST, id="guest"),
    pytest.param(SOLO, id="single-channel-guest"),
    pytest.param(EXTERNAL, id="slack-connect-member"),
    pytest.param(CAROL, id="non-member"),
    pytest.param(DAVE, id="agent-of-another-queue"),
    pytest.param(LENA, id="lead"),
]
IN_SUPPORT = [  # members of #support who are no agents: their messages reach the bot
    pytest.param(GUEST, id="guest"),
    pytest.param(SOLO, id="single-channel-guest"),
    pytest.param(EXTERNAL, id="slack-connect-member"),
]
VISIBLE: dict[str, set[str]] = {  # with leads = {LENA}: which queues' tickets each sees
    ALICE: {"Support"},
    GUEST: set(),
    SOLO: set(),
    EXTERNAL: set(),
    CAROL: set(),
    DAVE: {"Billing"},
    LENA: {"Support", "Billing"},
}


@dataclass
class World:
    bot: RunningBot
    driver: SlackDriver
    waiting: Ticket  # Support, unclaimed
    held: Ticket  # Support, Bob's
    closed: Ticket  # Support, closed
    billing: Ticket  # Billing, unclaimed
    tickets: list[Ticket]

    def card(self, slack: SlackEmulator, ticket: Ticket) -> Message:
        found = slack.message(ticket.slack_channel, ticket.slack_ts or "")
        assert found is not None, f"no card for {ticket.number}"
        return found

    async def refresh(self) -> None:
        self.tickets = [await Ticket.get(id=t.id) for t in self.tickets]
        self.waiting, self.held, self.closed, self.billing = self.tickets[:4]


async def make_world(slack: SlackEmulator, factory: DriverFactory, bot: RunningBot) -> World:
    made = [
        await new_ticket(SUPPORT, "Widget jams"),
        await new_ticket(SUPPORT, "Widget toner", owner=BOB, state=TicketState.OPEN),
        await new_ticket(SUPPORT, "Widget gone", state=TicketState.CLOSED),
        await new_ticket(BILLING, "Widget invoice"),
    ]
    await bot.deliver()
    world = World(bot, await factory(bot.events_url), *made, tickets=list(made))
    await world.refresh()
    return world


@pytest.fixture
async def world(
    database: str, slack: SlackEmulator, slack_driver_factory: DriverFactory
) -> AsyncIterator[World]:
    async with running_bot(slack, leads=[LENA]) as bot:
        yield await make_world(slack, slack_driver_factory, bot)


def answers(slack: SlackEmulator, response_url: str | None) -> list[str]:
    """What the bot said through one interaction's response_url."""
    assert response_url is not None
    url_id = response_url.rsplit("/", 1)[1]
    return [str(p.body.get("text", "")) for p in slack.response_posts() if p.url_id == url_id]


def posted_blocks(slack: SlackEmulator, response_url: str | None) -> str:
    assert response_url is not None
    url_id = response_url.rsplit("/", 1)[1]
    return "".join(
        str(p.body.get("blocks", "")) for p in slack.response_posts() if p.url_id == url_id
    )


async def snapshot() -> list[tuple[str | None, str, int]]:
    """Owner, state and article count of every ticket: what a refused action must not change."""
    return [
        (t.owner_id, str(t.state), await Article.filter(ticket_id=t.id).count())
        for t in await Ticket.all().order_by("id")
    ]


# -- card buttons --------------------------------------------------------------------


@pytest.mark.parametrize("user", PERSONAS)
async def test_card_buttons_refuse_everyone_but_the_queues_agents(
    world: World, slack: SlackEmulator, user: str
) -> None:
    before = await snapshot()
    clicks = [
        (world.waiting, "ticket_claim"),
        (world.waiting, "ticket_reply"),
        (world.waiting, "ticket_note"),
        (world.waiting, "ticket_close"),
        (world.held, "ticket_release"),
        (world.closed, "ticket_reopen"),
    ]
    for ticket, action in clicks:
        click = await world.driver.click(world.card(slack, ticket), action, user=user)
        assert click.status == 200 and click.acked_in_time
        await world.bot.settle()
        assert answers(slack, click.response_url) == [NOT_AN_AGENT], action
    assert await snapshot() == before
    assert slack.views(user_id=user) == []  # no form opened for them


@pytest.mark.parametrize("user", [pytest.param(ALICE, id="agent"), pytest.param(DAVE, id="dave")])
async def test_the_queues_own_agents_do_work_its_cards(
    world: World, slack: SlackEmulator, user: str
) -> None:
    ticket = world.waiting if user == ALICE else world.billing
    click = await world.driver.click(world.card(slack, ticket), "ticket_claim", user=user)
    await world.bot.settle()
    assert click.status == 200 and answers(slack, click.response_url) == []
    assert (await Ticket.get(id=ticket.id)).owner_id == user
    opened = await world.driver.click(world.card(slack, ticket), "ticket_note", user=user)
    await world.bot.settle()
    assert opened.status == 200
    assert [v.callback_id for v in slack.views(user_id=user)] == ["ticket_note"]


async def test_dave_and_the_lead_cannot_claim_in_a_queue_they_are_no_agent_of(
    world: World, slack: SlackEmulator
) -> None:
    for user, ticket, channel in (
        (LENA, world.billing, BILLING_CHANNEL),
        (DAVE, world.waiting, SUPPORT_CHANNEL),
    ):
        click = await world.driver.click(world.card(slack, ticket), "ticket_claim", user=user)
        await world.bot.settle()
        [refusal] = answers(slack, click.response_url)
        assert refusal.startswith(f"Only members of <#{channel}>")
        assert (await Ticket.get(id=ticket.id)).owner_id is None


# -- modal submissions ---------------------------------------------------------------


@pytest.mark.parametrize("user", PERSONAS)
@pytest.mark.parametrize(
    "builder", [build_reply_modal, build_note_modal, build_close_modal], ids=lambda b: b.__name__
)
async def test_forms_from_non_agents_change_nothing(
    world: World, slack: SlackEmulator, user: str, builder: object
) -> None:
    """A form they still have open (say, from before they became a guest) is refused."""
    before, outbox = await snapshot(), await OutboxItem.all().count()
    view = builder(await ticket_summary(world.waiting.id), HOOK)  # type: ignore[operator]
    opened = await world.bot.client.views_open(trigger_id=slack.issue_trigger(user), view=view)
    sent = await world.driver.submit_view(
        opened["view"]["id"], {"text": {"value": "Here is the answer"}, "minutes": {"value": "5"}}
    )
    ack = sent.json()
    assert ack["response_action"] == "errors"
    assert ack["errors"]["text"] == (
        "Only members of the ticket's channel can work on its tickets, "
        "and only people of this workspace who are not guests."
    )
    assert await snapshot() == before
    assert await OutboxItem.all().count() == outbox  # no mail, no thread post


async def test_an_agents_form_is_accepted(world: World, slack: SlackEmulator) -> None:
    view = build_note_modal(await ticket_summary(world.waiting.id), HOOK)
    opened = await world.bot.client.views_open(trigger_id=slack.issue_trigger(ALICE), view=view)
    sent = await world.driver.submit_view(opened["view"]["id"], {"text": {"value": "Checked."}})
    assert sent.status == 200 and not (sent.json() or {}).get("response_action")
    assert await Article.filter(ticket_id=world.waiting.id, kind=ArticleKind.NOTE).count() == 1


# -- thread messages -----------------------------------------------------------------


@pytest.mark.parametrize("user", IN_SUPPORT)
async def test_thread_messages_of_non_agents_do_not_become_notes(
    world: World, slack: SlackEmulator, user: str
) -> None:
    card = world.card(slack, world.waiting)
    outbox = await OutboxItem.all().count()
    delivery = await world.driver.user_message(
        SUPPORT_CHANNEL, user, "I can see this ticket", thread_ts=card.ts
    )
    assert delivery.status == 200
    await world.bot.settle()
    assert await Article.filter(kind=ArticleKind.NOTE).count() == 0
    assert await OutboxItem.all().count() == outbox  # no :memo: reaction on its way


async def test_an_agents_thread_message_becomes_a_note(world: World, slack: SlackEmulator) -> None:
    card = world.card(slack, world.waiting)
    await world.driver.user_message(SUPPORT_CHANNEL, ALICE, "Called them back", thread_ts=card.ts)
    await world.bot.settle()
    [note] = await Article.filter(kind=ArticleKind.NOTE).values("ticket_id", "body", "author")
    assert note == {"ticket_id": world.waiting.id, "body": "Called them back", "author": ALICE}


def test_slack_delivers_no_thread_message_from_outside_the_channel(slack: SlackEmulator) -> None:
    for user in (CAROL, DAVE, LENA):
        with pytest.raises(LookupError, match="not a member"):
            slack.record_user_message(SUPPORT_CHANNEL, user, "hello")


# -- /ticket show, search, mine, queue -----------------------------------------------


async def command(world: World, text: str, user: str) -> tuple[str, str]:
    """(text, blocks) of a /ticket answer, from the ack or from the response_url."""
    delivery = await world.driver.slash_command(text, user=user, channel=SUPPORT_CHANNEL)
    assert delivery.status == 200 and delivery.acked_in_time
    await world.bot.settle()
    ack = delivery.json() or {}
    if ack.get("text"):
        return str(ack["text"]), str(ack.get("blocks", ""))
    said = answers(world.driver.emulator, delivery.response_url)
    return "".join(said), posted_blocks(world.driver.emulator, delivery.response_url)


@pytest.mark.parametrize("user", [pytest.param(ALICE, id="agent"), *PERSONAS])
async def test_show_tells_nothing_about_tickets_of_other_queues(world: World, user: str) -> None:
    missing_text, _ = await command(world, "show 2026112599999999", user)
    assert missing_text == "No ticket 2026112599999999 in your queues."
    for ticket in (world.waiting, world.billing):
        text, blocks = await command(world, f"show {HOOK}{ticket.number}", user)
        if ticket.queue in VISIBLE[user]:
            assert text == f"{HOOK}{ticket.number}" and ticket.subject in blocks
        else:
            assert text == f"No ticket {ticket.number} in your queues."
            assert "<#" not in text and ticket.subject not in blocks


@pytest.mark.parametrize("user", [pytest.param(ALICE, id="agent"), *PERSONAS])
async def test_search_mine_and_queue_list_only_their_queues(world: World, user: str) -> None:
    theirs = [  # tickets they hold in each queue, perhaps from before they were demoted
        await new_ticket(SUPPORT, "Widget support held", owner=user, state=TicketState.OPEN),
        await new_ticket(BILLING, "Widget billing held", owner=user, state=TicketState.OPEN),
    ]
    everything = [*world.tickets, *theirs]

    def expected(tickets: list[Ticket]) -> set[str]:
        return {t.subject for t in tickets if t.queue in VISIBLE[user]}

    def shown(blocks: str) -> set[str]:
        return {t.subject for t in everything if t.subject in blocks}

    _, found = await command(world, "search widget", user)
    assert shown(found) == expected(everything)
    _, mine = await command(world, "mine", user)
    assert shown(mine) == expected(theirs)
    _, waiting = await command(world, "queue", user)
    assert shown(waiting) == expected([world.waiting, world.billing])


# -- /ticket report ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "answer"),
    [
        pytest.param(LENA, "Report", id="lead"),
        *[
            pytest.param(user.values[0], "Reports are for leads.", id=str(user.id))
            for user in PERSONAS[:-1]
        ],
        pytest.param(ALICE, "Reports are for leads.", id="agent"),
    ],
)
async def test_with_leads_set_only_leads_get_reports_over_every_queue(
    world: World, user: str, answer: str
) -> None:
    text, blocks = await command(world, "report today", user)
    assert text.startswith(answer)
    if user == LENA:
        assert "All queues." in blocks and "*Created*\\n4" in blocks


@pytest.mark.parametrize(
    ("user", "scope", "created"),
    [
        pytest.param(ALICE, "Queue: Support.", 3, id="agent"),
        pytest.param(DAVE, "Queue: Billing.", 1, id="agent-of-another-queue"),
    ],
)
async def test_without_leads_an_agent_gets_a_report_over_their_queues(
    database: str,
    slack: SlackEmulator,
    slack_driver_factory: DriverFactory,
    user: str,
    scope: str,
    created: int,
) -> None:
    async with running_bot(slack) as bot:
        world = await make_world(slack, slack_driver_factory, bot)
        text, blocks = await command(world, "report today", user)
    assert text.startswith("Report")
    assert scope in blocks and f"*Created*\\n{created}" in blocks
    other = "Widget invoice" if user == ALICE else "Widget jams"
    assert other not in blocks


@pytest.mark.parametrize("user", [p for p in PERSONAS if p.values != (DAVE,)])
async def test_without_leads_nobody_but_agents_gets_a_report(
    database: str, slack: SlackEmulator, slack_driver_factory: DriverFactory, user: str
) -> None:
    async with running_bot(slack) as bot:
        world = await make_world(slack, slack_driver_factory, bot)
        text, blocks = await command(world, "report today", user)
    assert text == "Reports are for agents of a queue, and you are not one."
    assert blocks in ("", "None")


# -- App Home ------------------------------------------------------------------------


@pytest.mark.parametrize("user", [pytest.param(ALICE, id="agent"), *PERSONAS])
async def test_the_home_tab_shows_only_their_queues(
    world: World, slack: SlackEmulator, user: str
) -> None:
    await new_ticket(SUPPORT, "Widget support held", owner=user, state=TicketState.OPEN)
    await new_ticket(BILLING, "Widget billing held", owner=user, state=TicketState.OPEN)
    assert (await world.driver.app_home_opened(user)).status == 200
    await world.bot.settle()
    home = slack.home_view(user)
    assert home is not None
    shown = str(home.view["blocks"])
    assert ("Widget support held" in shown) == ("Support" in VISIBLE[user])
    assert ("Widget billing held" in shown) == ("Billing" in VISIBLE[user])
    assert (f"<#{SUPPORT_CHANNEL}>" in shown) == ("Support" in VISIBLE[user])
    assert (f"<#{BILLING_CHANNEL}>" in shown) == ("Billing" in VISIBLE[user])
    if not VISIBLE[user]:
        assert "not an agent of any queue" in shown


# -- leaving a queue -----------------------------------------------------------------


async def test_who_leaves_the_channel_stops_seeing_its_tickets_at_once(
    world: World, slack: SlackEmulator
) -> None:
    await world.driver.app_home_opened(BOB)
    await world.bot.settle()
    assert "Widget toner" in str(slack.home_view(BOB).view["blocks"])  # type: ignore[union-attr]
    _, mine = await command(world, "mine", BOB)
    assert "Widget toner" in mine

    slack.remove_member(SUPPORT_CHANNEL, BOB)
    left = {"type": "member_left_channel", "user": BOB, "channel": SUPPORT_CHANNEL}
    assert (await world.driver.send_event({**left, "channel_type": "C"})).status == 200
    await world.bot.settle()

    _, mine = await command(world, "mine", BOB)
    assert "Widget toner" not in mine
    home = str(slack.home_view(BOB).view["blocks"])  # type: ignore[union-attr]
    assert "Widget toner" not in home and "not an agent of any queue" in home
    click = await world.driver.click(world.card(slack, world.held), "ticket_release", user=BOB)
    await world.bot.settle()
    assert answers(slack, click.response_url) == [NOT_AN_AGENT]


# -- Slack cannot tell ---------------------------------------------------------------


async def test_when_slack_cannot_say_who_asks_every_surface_refuses(
    world: World, slack: SlackEmulator
) -> None:
    slack.faults.add("users.info", status=500, times=None)
    before = await snapshot()

    click = await world.driver.click(world.card(slack, world.waiting), "ticket_claim", user=ALICE)
    await world.bot.settle()
    assert answers(slack, click.response_url) == [
        "I cannot check who may work on this ticket right now; please try again."
    ]
    for text in ("show " + world.waiting.number, "mine", "queue", "search widget"):
        said, blocks = await command(world, text, ALICE)
        assert said == "I cannot check which queues you work in right now; please try again."
        assert "Widget" not in blocks, text
    await world.driver.app_home_opened(ALICE)
    await world.bot.settle()
    home = str(slack.home_view(ALICE).view["blocks"])  # type: ignore[union-attr]
    assert "I cannot check which queues you work in" in home and "Widget" not in home

    card = world.card(slack, world.waiting)
    await world.driver.user_message(SUPPORT_CHANNEL, ALICE, "A note", thread_ts=card.ts)
    await world.bot.settle()
    [warning] = [e for e in slack.ephemerals(SUPPORT_CHANNEL, ALICE) if e.source == "api"]
    assert warning.text.startswith("Your message was not saved as a note")
    assert await snapshot() == before

    slack.faults.clear()  # Slack is back: the same people may work again
    click = await world.driver.click(world.card(slack, world.waiting), "ticket_claim", user=ALICE)
    await world.bot.settle()
    assert (await Ticket.get(id=world.waiting.id)).owner_id == ALICE


async def test_without_leads_a_report_needs_slack_to_say_whose_queues(
    database: str, slack: SlackEmulator, slack_driver_factory: DriverFactory
) -> None:
    async with running_bot(slack) as bot:
        world = await make_world(slack, slack_driver_factory, bot)
        slack.faults.add("users.info", status=500, times=None)
        said, blocks = await command(world, "report today", ALICE)
    assert said == "I cannot check which queues you work in right now; please try again."
    assert "Widget" not in blocks


LOOKUPS = ("users.info", "auth.test", "conversations.members")


async def test_the_claim_path_asks_slack_nothing_once_warm(
    world: World, slack: SlackEmulator
) -> None:
    """The hot path stays cheap: membership and who-someone-is come from the caches."""
    card = world.card(slack, world.waiting)
    for user in (ALICE, GUEST):
        await world.driver.click(card, "ticket_claim", user=user)
    await world.bot.settle()
    warm = [c.method for c in slack.calls() if c.method in LOOKUPS]
    assert sorted(c.args["user"] for c in slack.calls("users.info")) == [ALICE, GUEST]
    assert len(slack.calls("conversations.members")) == 1
    for _ in range(5):
        for user in (ALICE, GUEST):
            await world.driver.click(card, "ticket_claim", user=user)
    await world.bot.settle()
    assert [c.method for c in slack.calls() if c.method in LOOKUPS] == warm


async def test_with_allow_guests_guests_are_agents_but_other_workspaces_never(
    database: str, slack: SlackEmulator, slack_driver_factory: DriverFactory
) -> None:
    async with running_bot(slack, allow_guests=True) as bot:
        world = await make_world(slack, slack_driver_factory, bot)
        card = world.card(slack, world.waiting)
        external = await world.driver.click(card, "ticket_claim", user=EXTERNAL)
        await bot.settle()
        assert answers(slack, external.response_url) == [
            f"Only members of <#{SUPPORT_CHANNEL}> can work on its tickets, "
            "and only people of this workspace."
        ]
        guest = await world.driver.click(card, "ticket_claim", user=SOLO)
        await bot.settle()
        assert answers(slack, guest.response_url) == []
        assert (await Ticket.get(id=world.waiting.id)).owner_id == SOLO
        _, mine = await command(world, "mine", SOLO)
        assert "Widget jams" in mine
