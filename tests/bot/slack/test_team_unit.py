"""The card's second row (issue 12, part A): priority, transfer, merge, customer history,
against the shipped emulator (in-process, signed requests, SQLite and PostgreSQL). Every
click and submission is checked for its ack within 3 s (`click`, `in_time`)."""

from __future__ import annotations

import json

from bot.render.team import MERGE_ACTION, MERGE_BLOCK
from bot.sandbox.emulator import (
    ALICE,
    BILLING_CHANNEL,
    BOB,
    CAROL,
    SUPPORT_CHANNEL,
    SlackEmulator,
    ViewRecord,
)
from bot.slack import ids
from models.events import HistoryEvent
from models.priority import Priority
from models.store.article import Article
from models.store.ticket import History, Ticket, TicketState
from tests.bot.slack.test_visibility import World, answers, posted_blocks, snapshot
from tests.support.slack_handlers import (  # noqa: F401
    click,
    form_errors,
    in_time,
    slash,
    world_fixture,
)
from tests.support.ticket_flow import action_ids


def element(world: World, slack: SlackEmulator, ticket: Ticket, action: str) -> dict[str, object]:
    [found] = [
        e
        for block in world.card(slack, ticket).blocks or []
        if block["type"] == "actions"
        for e in block["elements"]
        if e["action_id"] == action
    ]
    return dict(found)


# -- priority -------------------------------------------------------------------------------


async def test_an_agent_sets_the_priority_and_the_card_shows_it(
    world: World, slack: SlackEmulator
) -> None:
    chosen = await click(
        world, world.waiting, ids.PRIORITY, ALICE, value=f"{world.waiting.id}:urgent"
    )
    assert answers(slack, chosen.response_url) == []
    assert (await Ticket.get(id=world.waiting.id)).priority == Priority.URGENT
    [changed] = await History.filter(ticket_id=world.waiting.id, event="priority_changed")
    assert (changed.actor, changed.detail) == (ALICE, {"from": "normal", "to": "urgent"})
    await world.bot.deliver()
    select = element(world, slack, world.waiting, ids.PRIORITY)
    assert select["initial_option"]["value"] == f"{world.waiting.id}:urgent"  # type: ignore[index]
    assert "Urgent" in json.dumps(world.card(slack, world.waiting).blocks)


async def test_someone_not_of_the_queue_cannot_change_the_priority(
    world: World, slack: SlackEmulator
) -> None:
    before = await snapshot()
    refused = await click(
        world, world.waiting, ids.PRIORITY, CAROL, value=f"{world.waiting.id}:urgent"
    )
    [told] = answers(slack, refused.response_url)
    assert "Only members of" in told
    assert await snapshot() == before
    assert (await Ticket.get(id=world.waiting.id)).priority == Priority.NORMAL


async def test_a_priority_naming_another_ticket_or_none_changes_nothing(
    world: World, slack: SlackEmulator
) -> None:
    other = await click(
        world, world.waiting, ids.PRIORITY, ALICE, value=f"{world.billing.id}:urgent"
    )  # the value is checked against the card's channel: Billing's ticket is not on it
    assert answers(slack, other.response_url) != []
    select = element(world, slack, world.waiting, ids.PRIORITY)
    forged = {"text": {"type": "plain_text", "text": "x"}, "value": f"{world.waiting.id}:asap"}
    delivery = await world.driver.click(
        world.card(slack, world.waiting), ids.PRIORITY, user=ALICE, selected=forged
    )
    in_time(delivery)
    await world.bot.settle()
    assert select  # the card had one
    assert {t.priority for t in await Ticket.all()} == {Priority.NORMAL}


# -- transfer -------------------------------------------------------------------------------


async def test_transfer_posts_a_new_card_and_leaves_a_pointer(
    world: World, slack: SlackEmulator
) -> None:
    old_ts = world.held.slack_ts or ""
    options = element(world, slack, world.held, ids.TRANSFER)["options"]
    assert [o["value"] for o in options] == [f"{world.held.id}:Billing"]  # type: ignore[attr-defined, index]
    moved = await click(world, world.held, ids.TRANSFER, ALICE, value=f"{world.held.id}:Billing")
    assert answers(slack, moved.response_url) == []
    ticket = await Ticket.get(id=world.held.id)
    assert (ticket.queue, ticket.owner_id, ticket.state) == ("Billing", None, TicketState.NEW)
    await world.bot.deliver()
    ticket = await Ticket.get(id=world.held.id)
    assert ticket.slack_channel == BILLING_CHANNEL and ticket.slack_ts != old_ts
    [new_card] = [m for m in slack.messages(BILLING_CHANNEL) if m.ts == ticket.slack_ts]
    assert ids.CLAIM in action_ids(new_card)
    pointer = slack.message(SUPPORT_CHANNEL, old_ts)
    assert pointer is not None and action_ids(pointer) == []
    assert "moved to the queue Billing" in pointer.text and f"<@{ALICE}>" in pointer.text
    [notice] = slack.replies(BILLING_CHANNEL, ticket.slack_ts or "")
    assert "Moved here from the queue Support" in notice.text
    [moved_row] = await History.filter(ticket_id=ticket.id, event=HistoryEvent.TRANSFERRED)
    assert moved_row.detail == {"from": "Support", "to": "Billing", "released": BOB}
    # Exactly one card for it in Billing, whatever retries happened.
    assert len([m for m in slack.messages(BILLING_CHANNEL) if m.text == new_card.text]) == 1


async def test_transfer_keeps_the_claim_of_an_owner_who_works_in_the_new_queue(
    world: World, slack: SlackEmulator
) -> None:
    slack.add_member(BILLING_CHANNEL, BOB)
    await click(world, world.held, ids.TRANSFER, ALICE, value=f"{world.held.id}:Billing")
    ticket = await Ticket.get(id=world.held.id)
    assert (ticket.queue, ticket.owner_id, ticket.state) == ("Billing", BOB, TicketState.OPEN)


async def test_only_agents_of_the_current_queue_may_transfer(
    world: World, slack: SlackEmulator
) -> None:
    before = await snapshot()
    refused = await click(
        world, world.waiting, ids.TRANSFER, CAROL, value=f"{world.waiting.id}:Billing"
    )
    assert answers(slack, refused.response_url) != []
    assert await snapshot() == before


async def test_a_move_whose_pointer_failed_posts_no_second_card(
    world: World, slack: SlackEmulator
) -> None:
    """The new card got through, then Slack refused the pointer for now (a rate limit):
    the retry finds the card it posted instead of posting it again."""
    slack.faults.add("chat.update", status=429, retry_after=0)
    await click(world, world.waiting, ids.TRANSFER, ALICE, value=f"{world.waiting.id}:Billing")
    before = len(slack.messages(BILLING_CHANNEL))
    await world.bot.worker.drain_once()  # the card is posted, the pointer is refused
    assert len(slack.messages(BILLING_CHANNEL)) == before + 1
    await world.bot.deliver()
    assert len(slack.messages(BILLING_CHANNEL)) == before + 1
    ticket = await Ticket.get(id=world.waiting.id)
    assert ticket.slack_channel == BILLING_CHANNEL
    pointer = slack.message(SUPPORT_CHANNEL, world.waiting.slack_ts or "")
    assert pointer is not None and action_ids(pointer) == []


# -- merge ----------------------------------------------------------------------------------


async def open_merge(world: World, slack: SlackEmulator, ticket: Ticket, user: str) -> ViewRecord:
    opened = await click(world, ticket, ids.MERGE, user)
    [view] = [v for v in slack.views(user_id=user) if v.trigger_id == opened.trigger_id]
    assert view.callback_id == ids.MERGE_VIEW
    return view


async def submit_number(world: World, view: ViewRecord, number: str) -> dict[str, str]:
    delivery = await world.driver.submit_view(view.id, {MERGE_BLOCK: {MERGE_ACTION: number}})
    await world.bot.settle()
    return form_errors(in_time(delivery))


async def test_merge_through_the_modal(world: World, slack: SlackEmulator) -> None:
    view = await open_merge(world, slack, world.waiting, ALICE)
    assert await submit_number(world, view, f"[Ticket#{world.held.number}]") == {}
    merged = await Ticket.get(id=world.waiting.id)
    assert (merged.state, merged.merged_into_id) == (TicketState.CLOSED, world.held.id)
    assert await Article.filter(ticket_id=world.held.id).count() == 2
    await world.bot.deliver()
    card = world.card(slack, world.waiting)
    assert action_ids(card) == [] and f"Ticket#{world.held.number}" in json.dumps(card.blocks)
    [notice] = slack.replies(SUPPORT_CHANNEL, world.held.slack_ts or "")
    assert f"Ticket#{world.waiting.number} was merged into this ticket" in notice.text


async def test_merge_refusals_are_shown_in_the_form(world: World, slack: SlackEmulator) -> None:
    view = await open_merge(world, slack, world.waiting, ALICE)
    before = await snapshot()
    itself = await submit_number(world, view, world.waiting.number)
    assert "cannot be merged into itself" in itself[MERGE_BLOCK]
    # Billing's ticket: Alice does not work there; the same words as for no ticket at all.
    other_queue = await submit_number(world, view, world.billing.number)
    missing = await submit_number(world, view, "2026112599999999")
    assert other_queue[MERGE_BLOCK] == f"No ticket {world.billing.number} in your queues."
    assert missing[MERGE_BLOCK] == "No ticket 2026112599999999 in your queues."
    assert await snapshot() == before
    assert not slack.view(view.id).closed


# -- customer history -----------------------------------------------------------------------


async def test_the_overflow_lists_the_customers_other_tickets(
    world: World, slack: SlackEmulator
) -> None:
    email = world.waiting.customer_email
    await Ticket.filter(id__in=[world.closed.id, world.billing.id]).update(customer_email=email)
    shown = await click(world, world.waiting, ids.CUSTOMER_HISTORY, ALICE)
    text = posted_blocks(slack, shown.response_url)
    assert world.closed.number in text and world.billing.number not in text
    assert "1 more ticket of this customer is in queues you do not work in" in text
    refused = await click(world, world.waiting, ids.CUSTOMER_HISTORY, CAROL)
    assert posted_blocks(slack, refused.response_url) == ""
    assert "Only members of" in answers(slack, refused.response_url)[0]


async def test_show_includes_the_customers_other_tickets(
    world: World, slack: SlackEmulator
) -> None:
    email = world.waiting.customer_email
    await Ticket.filter(id=world.closed.id).update(customer_email=email)
    shown = await slash(world, f"show {world.waiting.number}", ALICE, SUPPORT_CHANNEL)
    ack = shown.json() or {}
    text = json.dumps(ack.get("blocks"))
    assert "Other tickets of" in text and world.closed.number in text
