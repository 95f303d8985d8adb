"""Card buttons: claim, release, reply, note, close, reopen.

The order matters for Slack's 3-second limit: check, do the database
compare-and-set, ack; only then talk to Slack. Modals open right after the
ack, while the trigger_id is fresh. Card updates travel through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.listeners import may_act, tell, ticket_or_none
from bot.modal_views import build_close_modal, build_note_modal, build_reply_modal
from bot.services import Services
from models import work
from models.ticket import Ticket
from models.views import TicketSummary, ticket_summary

logger = logging.getLogger(__name__)

Operation = Callable[[Ticket, work.Agent], Awaitable[object]]
ModalBuilder = Callable[[TicketSummary, str], dict[str, Any]]
ClaimRule = Callable[[work.Agent], bool]  # may this agent act while someone else holds it?


def _ticket_id(body: dict[str, Any]) -> int:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, ValueError):
        return 0


def register(app: AsyncApp, services: Services) -> None:
    async def guarded(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> tuple[Ticket, work.Agent] | None:
        """The ticket and the acting agent, or None after answering why not (and acking)."""
        user = body["user"]["id"]
        ticket = await ticket_or_none(_ticket_id(body))
        refusal = (
            "That ticket does not exist (any more)."
            if ticket is None
            else await may_act(services, ticket, user)
        )
        if ticket is None or refusal:
            await ack()
            await tell(respond, client, body, refusal or "")
            return None
        return ticket, services.agent(user, services.people.cached(user) or "")

    def state_change(operation: Operation) -> Callable[..., Awaitable[None]]:
        async def handle(
            ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
        ) -> None:
            checked = await guarded(ack, body, respond, client)
            if checked is None:
                return
            ticket, agent = checked
            try:
                await operation(ticket, agent)
            except work.Refused as refused:
                await ack()
                await tell(respond, client, body, str(refused))
                return
            await ack()
            services.wake_outbox()

        return handle

    async def claim(ticket: Ticket, agent: work.Agent) -> object:
        return await work.claim(ticket.id, agent, services.policy, services.clock)

    async def release(ticket: Ticket, agent: work.Agent) -> object:
        return await work.release(ticket.id, agent, services.clock)

    async def reopen(ticket: Ticket, agent: work.Agent) -> object:
        return await work.reopen(ticket.id, agent, services.clock)

    def opens(builder: ModalBuilder, *, claim_rule: ClaimRule) -> Callable[..., Awaitable[None]]:
        async def handle(
            ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
        ) -> None:
            checked = await guarded(ack, body, respond, client)
            if checked is None:
                return
            ticket, agent = checked
            if ticket.owner_id not in (None, agent.user_id) and not claim_rule(agent):
                await ack()
                await tell(respond, client, body, work.holder_text(ticket))
                return
            await ack()
            summary = await ticket_summary(ticket.id)
            await client.views_open(
                trigger_id=body["trigger_id"], view=builder(summary, services.policy.ticket_hook)
            )
            await services.people.name(agent.user_id, fallback=body["user"].get("name", ""))

        return handle

    app.action(ids.CLAIM)(state_change(claim))
    app.action(ids.RELEASE)(state_change(release))
    app.action(ids.REOPEN)(state_change(reopen))
    app.action(ids.REPLY)(opens(build_reply_modal, claim_rule=lambda agent: False))
    app.action(ids.NOTE)(opens(build_note_modal, claim_rule=lambda agent: True))
    app.action(ids.CLOSE)(opens(build_close_modal, claim_rule=lambda agent: agent.is_lead))
