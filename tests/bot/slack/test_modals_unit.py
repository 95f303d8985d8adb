"""The reply, note and close forms' `view_submission`, one behaviour each, against the shipped
emulator (in-process, signed, SQLite and PostgreSQL). Each form is opened the way an agent
opens it, by clicking the card's button; every ack is checked for Slack's 3 s.

Not repeated here: forms submitted by people who never were agents
(test_visibility's `test_forms_from_non_agents_change_nothing`) and an agent's note being
accepted (`test_an_agents_form_is_accepted`).
"""

from __future__ import annotations

import pytest

from bot.sandbox.emulator import ALICE, BOB, SUPPORT_CHANNEL, SlackEmulator
from bot.slack import ids
from models import effects
from models.outbox.items import OutboxItem
from models.store.article import Article, ArticleKind
from models.store.ticket import Ticket, TicketState
from tests.bot.slack.test_visibility import World, snapshot
from tests.support.slack_handlers import click, form_errors, open_form, submit, world_fixture  # noqa: F401

REPLY = pytest.param(ids.REPLY, id="reply")
NOTE = pytest.param(ids.NOTE, id="note")
CLOSE = pytest.param(ids.CLOSE, id="close")


async def changes_nothing(
    world: World, slack: SlackEmulator, action: str, *, text: str, minutes: str | None = None
) -> str:
    """Alice opens the form and submits `text` and `minutes`; the form stays open with
    errors, tickets and outbox are as before. Returns the block the only error names."""
    view = await open_form(world, world.waiting, action, ALICE)
    before, outbox = await snapshot(), await OutboxItem.all().count()
    sent = await submit(world, view, text=text, minutes=minutes)
    [(block, _)] = form_errors(sent).items()
    assert not slack.view(view.id).closed
    assert await snapshot() == before
    assert await OutboxItem.all().count() == outbox
    return block


# -- what the agent typed --------------------------------------------------------------


@pytest.mark.parametrize("action", [REPLY, NOTE])
@pytest.mark.parametrize("text", [pytest.param("", id="empty"), pytest.param(" \n\t ", id="blank")])
async def test_a_reply_or_note_without_text_is_an_error_on_the_text(
    world: World, slack: SlackEmulator, action: str, text: str
) -> None:
    assert await changes_nothing(world, slack, action, text=text) == "text"


@pytest.mark.parametrize("action", [REPLY, NOTE, CLOSE])
@pytest.mark.parametrize("minutes", ["ten", "-5", "1441", "2.5"])
async def test_minutes_that_are_no_count_of_minutes_are_an_error_on_the_minutes(
    world: World, slack: SlackEmulator, action: str, minutes: str
) -> None:
    block = await changes_nothing(world, slack, action, text="Done.", minutes=minutes)
    assert block == "minutes"


async def test_a_good_reply_queues_the_mail_and_closes_the_form(
    world: World, slack: SlackEmulator
) -> None:
    view = await open_form(world, world.waiting, ids.REPLY, ALICE)
    sent = await submit(world, view, text="It works again.", minutes="15")
    assert form_errors(sent) == {}
    assert slack.view(view.id).closed
    [mail] = await OutboxItem.filter(kind=effects.MAIL_SEND)
    reply = await Article.get(
        id=mail.payload["article_id"], ticket_id=world.waiting.id, kind=ArticleKind.EMAIL_OUT
    )
    assert reply.recipients == [world.waiting.customer_email]
    assert reply.body.startswith("It works again.") and reply.minutes_spent == 15


async def test_a_reply_with_close_after_sending_closes_the_ticket(
    world: World, slack: SlackEmulator
) -> None:
    view = await open_form(world, world.waiting, ids.REPLY, ALICE)
    await submit(world, view, text="Solved.", close_after=True)
    assert slack.view(view.id).closed
    assert (await Ticket.get(id=world.waiting.id)).state == TicketState.CLOSED


async def test_the_close_forms_note_is_optional(world: World, slack: SlackEmulator) -> None:
    view = await open_form(world, world.waiting, ids.CLOSE, ALICE)
    sent = await submit(world, view)
    assert form_errors(sent) == {}
    assert slack.view(view.id).closed
    assert (await Ticket.get(id=world.waiting.id)).state == TicketState.CLOSED
    assert await Article.filter(ticket_id=world.waiting.id, kind=ArticleKind.NOTE).count() == 0


# -- the world changed while the form was open -----------------------------------------


async def test_who_lost_access_meanwhile_is_refused(world: World, slack: SlackEmulator) -> None:
    view = await open_form(world, world.waiting, ids.REPLY, ALICE)
    slack.remove_member(SUPPORT_CHANNEL, ALICE)
    left = {"type": "member_left_channel", "user": ALICE, "channel": SUPPORT_CHANNEL}
    assert (await world.driver.send_event({**left, "channel_type": "C"})).status == 200
    before, outbox = await snapshot(), await OutboxItem.all().count()

    sent = await submit(world, view, text="Here is the answer.")
    errors = form_errors(sent)
    assert list(errors) == ["text"]
    assert errors["text"].startswith("Only members of the ticket's channel can work on")
    assert not slack.view(view.id).closed
    assert await snapshot() == before
    assert await OutboxItem.all().count() == outbox


async def test_a_reply_after_someone_else_claimed_names_them_in_plain_text(
    world: World, slack: SlackEmulator
) -> None:
    view = await open_form(world, world.waiting, ids.REPLY, ALICE)
    await click(world, world.waiting, ids.CLAIM, BOB)
    sent = await submit(world, view, text="Here is the answer.")
    told = form_errors(sent)["text"]
    assert world.waiting.number in told and "@Bob Agent" in told
    assert "<@" not in told  # a modal's errors are plain text: a mention would show raw
    assert await OutboxItem.filter(kind=effects.MAIL_SEND).count() == 0


async def test_a_form_for_a_ticket_that_is_gone_is_refused(
    world: World, slack: SlackEmulator
) -> None:
    view = await open_form(world, world.waiting, ids.NOTE, ALICE)
    await Ticket.filter(id=world.waiting.id).delete()
    sent = await submit(world, view, text="Checked.")
    assert form_errors(sent) == {"text": "That ticket does not exist (any more)."}
    assert not slack.view(view.id).closed
