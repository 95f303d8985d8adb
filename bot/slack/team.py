"""The card's second row: priority, transfer, merge, the customer's history.

The same rule as for the card's buttons: only agents of the ticket's queue may act, from
the ticket's own card; the domain change happens before the ack, answers to the clicker
and modals after it. A merge also needs the agent to work in the other ticket's queue.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.notices import refusal_text, user_facts
from bot.render.team import (
    MERGE_BLOCK,
    build_customer_history,
    build_merge_modal,
    read_merge_form,
)
from bot.slack import ids
from bot.slack.actions import CardActions
from bot.slack.directory import CannotCheck
from bot.slack.guards import may_act, may_act_in, tell, ticket_or_none
from bot.slack.services import Services
from models import team, work
from models.events import Refusal
from models.priority import Priority
from models.store.ticket import Ticket

logger = logging.getLogger(__name__)


def selected(body: dict[str, Any]) -> tuple[int, str]:
    """(ticket id, choice) of the select or overflow option that was picked."""
    try:
        value = body["actions"][0]["selected_option"]["value"]
    except (KeyError, IndexError, TypeError):
        return 0, ""
    return ids.read_option_value(value)


class TeamActions:
    def __init__(self, services: Services, card: CardActions) -> None:
        self.services = services
        self.card = card

    async def _changed(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        refusal: str | None,
    ) -> None:
        await ack()
        if refusal:
            self.card.refuse(respond, client, body, refusal)
        else:
            self.services.work_done(body["user"]["id"])

    async def priority(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        ticket_id, choice = selected(body)
        checked, refusal = await self.card.guarded(body, ticket_id)
        if checked is not None:
            try:
                priority = Priority(choice)
            except ValueError:
                refusal = refusal_text(work.Refused(Refusal.NO_TICKET))
            else:
                try:
                    await team.set_priority(
                        checked[0].id,
                        checked[1],
                        priority,
                        self.services.clock,
                        sla=self.services.policy.sla,
                    )
                except work.Refused as refused:
                    refusal = refusal_text(refused)
        await self._changed(ack, body, respond, client, refusal)

    async def transfer(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        ticket_id, queue = selected(body)
        checked, refusal = await self.card.guarded(body, ticket_id)
        if checked is not None:
            ticket, agent = checked
            try:
                stays = await self.owner_stays(ticket, queue)
                await team.transfer(
                    ticket.id,
                    agent,
                    queue,
                    self.services.policy,
                    owner_stays=stays,
                    clock=self.services.clock,
                )
            except work.Refused as refused:
                refusal = refusal_text(refused)
        await self._changed(ack, body, respond, client, refusal)

    async def owner_stays(self, ticket: Ticket, queue: str) -> bool:
        """Does the ticket's owner work in `queue` too? When Slack cannot tell, no: a claim
        dropped is easily taken again, one kept by an outsider blocks the queue."""
        route = next((q for q in self.services.policy.queues if q.name == queue), None)
        if ticket.owner_id is None or route is None:
            return False
        try:
            return await self.services.may_work_in(route.channel, ticket.owner_id)
        except CannotCheck:
            return False

    async def customer_history(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        ticket_id, _ = selected(body)
        checked, refusal = await self.card.guarded(body, ticket_id)
        await ack()
        if checked is None:
            self.card.refuse(respond, client, body, refusal or "")
            return
        self.services.after_ack(self.show_history(checked[0], body, respond, client))

    async def show_history(
        self, ticket: Ticket, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        user = body["user"]["id"]
        try:
            channels = await self.services.visible_channels(user)
        except CannotCheck:
            await tell(respond, client, body, "I cannot check your queues right now; try again.")
            return
        history = await team.customer_history(ticket, channels)
        blocks = build_customer_history(
            ticket.customer_email,
            history,
            self.services.policy.ticket_hook,
            self.services.clock(),
        )
        try:
            await respond(
                text=f"Other tickets of {ticket.customer_email or 'this customer'}"[:200],
                blocks=blocks,
                response_type="ephemeral",
                replace_original=False,
            )
        except Exception:
            logger.exception("could not show the customer's history to %s", user)


class MergeForm:
    """The merge modal's submission: refusals inline under the number."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def refuse(self, ack: AsyncAck, text: str) -> None:
        await ack(response_action="errors", errors={MERGE_BLOCK: text})

    async def refused(self, ack: AsyncAck, refused: work.Refused) -> None:
        names = {user: await self.services.people.name(user) for user in user_facts(refused)}
        await self.refuse(ack, refusal_text(refused, names))

    async def submit(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        hook = self.services.policy.ticket_hook
        form = read_merge_form(body["view"], hook)
        user = body["user"]["id"]
        merged = await ticket_or_none(form.ticket_id)
        if merged is None:
            await self.refused(ack, work.Refused(Refusal.NO_TICKET))
            return
        refusal = await may_act(self.services, merged, user, plain=True)
        if refusal:
            await self.refuse(ack, refusal)
            return
        survivor = await Ticket.get_or_none(number=form.number) if form.number else None
        # Not there and not in a queue of theirs are one answer (SPEC "Who may see what").
        if survivor is None or await may_act_in(
            self.services, survivor.slack_channel, user, plain=True
        ):
            number = form.number or "(none given)"
            await self.refused(ack, work.Refused(Refusal.MERGE_NO_TICKET, number=number))
            return
        name = await self.services.people.name(user, fallback=body["user"].get("name", ""))
        try:
            await team.merge(
                merged.id,
                survivor.id,
                self.services.agent(user, name),
                self.services.policy,
                self.services.clock,
            )
        except work.Refused as refused:
            await self.refused(ack, refused)
            return
        await ack()
        self.services.work_done(user)


def register(app: AsyncApp, services: Services) -> None:
    card = CardActions(services)
    actions = TeamActions(services, card)
    app.action(ids.PRIORITY)(actions.priority)
    app.action(ids.TRANSFER)(actions.transfer)
    app.action(ids.MERGE)(card.opens(build_merge_modal, lambda agent: True))
    app.action(ids.CUSTOMER_HISTORY)(actions.customer_history)
    app.view(ids.MERGE_VIEW)(MergeForm(services).submit)
