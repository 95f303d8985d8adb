"""Card buttons, one behaviour each, against the shipped emulator (in-process, signed clicks,
SQLite and PostgreSQL). Every click is checked for its ack within 3 s (`click` asserts it).

Not repeated here: a non-agent's click on each button (refused through the response_url,
nothing changed, no form) is tests/bot/slack/test_visibility.py's
`test_card_buttons_refuse_everyone_but_the_queues_agents`.
"""

from __future__ import annotations

import json

import pytest

from bot.sandbox.emulator import ALICE, BOB, LENA, SUPPORT_CHANNEL, SlackEmulator
from bot.slack import ids
from models.store.ticket import Ticket
from tests.bot.slack.test_visibility import World, answers, snapshot
from tests.support.slack_handlers import click, views_opened_by, world_fixture  # noqa: F401
from tests.support.ticket_flow import action_ids, owner_of, state_of

FORMS = [
    pytest.param(ids.REPLY, id="reply"),
    pytest.param(ids.NOTE, id="note"),
    pytest.param(ids.CLOSE, id="close"),
]
NOT_TICKET_IDS = ["not-a-ticket", "", "0", "-7", "1e3", "99999999999999999999999"]


def holds(slack: SlackEmulator, ticket: Ticket) -> str | None:
    """The owner the ticket's card shows now."""
    return owner_of(slack, ticket.slack_ts or "")


# -- claim -----------------------------------------------------------------------------


async def test_claim_makes_the_agent_the_owner_on_the_card(
    world: World, slack: SlackEmulator
) -> None:
    claimed = await click(world, world.waiting, ids.CLAIM, ALICE)
    await world.bot.deliver()
    assert answers(slack, claimed.response_url) == []
    assert holds(slack, world.waiting) == ALICE
    buttons = action_ids(world.card(slack, world.waiting))
    assert ids.RELEASE in buttons and ids.CLAIM not in buttons


async def test_claim_on_a_card_someone_just_took_says_who_holds_it(
    world: World, slack: SlackEmulator
) -> None:
    await click(world, world.waiting, ids.CLAIM, BOB)  # the card Alice sees is not updated yet
    late = await click(world, world.waiting, ids.CLAIM, ALICE)
    [told] = answers(slack, late.response_url)
    assert world.waiting.number in told and f"<@{BOB}>" in told
    assert (await Ticket.get(id=world.waiting.id)).owner_id == BOB


async def test_claiming_your_own_ticket_again_is_quietly_fine(
    world: World, slack: SlackEmulator
) -> None:
    await click(world, world.waiting, ids.CLAIM, ALICE)
    again = await click(world, world.waiting, ids.CLAIM, ALICE)
    assert answers(slack, again.response_url) == []
    assert (await Ticket.get(id=world.waiting.id)).owner_id == ALICE


# -- the forms: reply, note, close -----------------------------------------------------


@pytest.mark.parametrize("action", FORMS)
async def test_a_form_button_opens_its_modal_with_the_clicks_trigger(
    world: World, slack: SlackEmulator, action: str
) -> None:
    opened = await click(world, world.waiting, action, ALICE)
    [call] = views_opened_by(slack, opened)
    assert call.ok
    [view] = slack.views(user_id=ALICE)
    assert view.callback_id == action and view.trigger_id == opened.trigger_id
    assert json.loads(view.private_metadata)["ticket_id"] == world.waiting.id
    assert answers(slack, opened.response_url) == []


@pytest.mark.parametrize(
    "action", [pytest.param(ids.REPLY, id="reply"), pytest.param(ids.CLOSE, id="close")]
)
async def test_reply_and_close_on_someone_elses_ticket_say_who_holds_it(
    world: World, slack: SlackEmulator, action: str
) -> None:
    refused = await click(world, world.held, action, ALICE)
    [told] = answers(slack, refused.response_url)
    assert world.held.number in told and f"<@{BOB}>" in told
    assert views_opened_by(slack, refused) == []


async def test_any_agent_may_add_a_note_to_someone_elses_ticket(
    world: World, slack: SlackEmulator
) -> None:
    opened = await click(world, world.held, ids.NOTE, ALICE)
    assert [v.callback_id for v in slack.views(user_id=ALICE)] == [ids.NOTE_VIEW]
    assert answers(slack, opened.response_url) == []


async def test_a_lead_who_is_an_agent_may_close_someone_elses_ticket(
    world: World, slack: SlackEmulator
) -> None:
    slack.add_member(SUPPORT_CHANNEL, LENA)
    opened = await click(world, world.held, ids.CLOSE, LENA)
    assert [v.callback_id for v in slack.views(user_id=LENA)] == [ids.CLOSE_VIEW]
    assert answers(slack, opened.response_url) == []


async def test_an_expired_trigger_is_answered_not_swallowed(
    world: World, slack: SlackEmulator
) -> None:
    slack.trigger_ttl = 0.0  # Slack took longer than 3 s to get the modal: the trigger is gone
    opened = await click(world, world.waiting, ids.REPLY, ALICE)
    [call] = views_opened_by(slack, opened)
    assert not call.ok
    assert answers(slack, opened.response_url) == ["Slack did not open the form; please try again."]


# -- release and reopen ----------------------------------------------------------------


async def test_the_owner_releases_and_the_card_offers_claim_again(
    world: World, slack: SlackEmulator
) -> None:
    released = await click(world, world.held, ids.RELEASE, BOB)
    await world.bot.deliver()
    assert answers(slack, released.response_url) == []
    assert holds(slack, world.held) is None
    assert ids.CLAIM in action_ids(world.card(slack, world.held))


async def test_release_of_someone_elses_claim_says_who_holds_it(
    world: World, slack: SlackEmulator
) -> None:
    before = await snapshot()
    refused = await click(world, world.held, ids.RELEASE, ALICE)
    [told] = answers(slack, refused.response_url)
    assert world.held.number in told and f"<@{BOB}>" in told and "lead" in told
    assert await snapshot() == before


async def test_reopen_brings_a_closed_ticket_back_on_its_card(
    world: World, slack: SlackEmulator
) -> None:
    reopened = await click(world, world.closed, ids.REOPEN, ALICE)
    await world.bot.deliver()
    assert answers(slack, reopened.response_url) == []
    assert state_of(slack, world.closed.slack_ts or "") == "New"
    assert ids.CLAIM in action_ids(world.card(slack, world.closed))


# -- values that are no ticket of this card --------------------------------------------

CARD_BUTTONS = [
    pytest.param("waiting", ids.CLAIM, id="claim"),
    pytest.param("held", ids.RELEASE, id="release"),
    pytest.param("waiting", ids.REPLY, id="reply"),
    pytest.param("waiting", ids.NOTE, id="note"),
    pytest.param("waiting", ids.CLOSE, id="close"),
    pytest.param("closed", ids.REOPEN, id="reopen"),
]


@pytest.mark.parametrize(("card", "action"), CARD_BUTTONS)
async def test_a_button_value_that_is_no_ticket_id_is_refused(
    world: World, slack: SlackEmulator, card: str, action: str
) -> None:
    ticket = getattr(world, card)
    before = await snapshot()
    for value in NOT_TICKET_IDS:
        refused = await click(world, ticket, action, BOB, value=value)
        assert answers(slack, refused.response_url) == ["That ticket does not exist (any more)."], (
            value
        )
    assert await snapshot() == before
    assert slack.calls("views.open") == []


@pytest.mark.parametrize(("card", "action"), CARD_BUTTONS)
async def test_a_button_value_naming_another_queues_ticket_changes_nothing(
    world: World, slack: SlackEmulator, card: str, action: str
) -> None:
    """A forged value on a #support card, naming the Billing ticket: refused, and nothing
    of that ticket is touched or shown."""
    before = await snapshot()
    refused = await click(world, getattr(world, card), action, BOB, value=str(world.billing.id))
    [told] = answers(slack, refused.response_url)
    assert world.billing.subject not in told and world.billing.number not in told
    # The same answer as for no ticket at all: that it exists, or where, is not told.
    assert told == "That ticket does not exist (any more)."
    assert await snapshot() == before
    assert slack.calls("views.open") == []
