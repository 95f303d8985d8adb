"""Modal submissions: the reply, note and close forms.

Validation and the database work happen before the ack, so a refusal (empty
text, someone else holds the ticket) comes back inline in the modal; mail and
Slack updates leave through the outbox afterwards.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import ids
from bot.listeners import may_act, plain_mentions, ticket_or_none
from bot.modal_views import TEXT_BLOCK, FormAnswer, read_form
from bot.services import Services
from models import work

logger = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    async def checked(ack: AsyncAck, body: dict[str, Any]) -> tuple[FormAnswer, work.Agent] | None:
        form = read_form(body["view"])
        user = body["user"]["id"]
        ticket = await ticket_or_none(form.ticket_id)
        refusal = "That ticket does not exist (any more)." if ticket is None else None
        if ticket is not None:
            refusal = await may_act(services, ticket, user)
        if refusal:
            await ack(
                response_action="errors",
                errors={TEXT_BLOCK: await plain_mentions(services, refusal)},
            )
            return None
        if form.errors:
            await ack(response_action="errors", errors=form.errors)
            return None
        name = await services.people.name(user, fallback=body["user"].get("name", ""))
        return form, services.agent(user, name)

    async def refuse(ack: AsyncAck, refused: work.Refused) -> None:
        message = await plain_mentions(services, str(refused))
        await ack(response_action="errors", errors={TEXT_BLOCK: message})

    @app.view(ids.REPLY_VIEW)
    async def handle_reply(ack: AsyncAck, body: dict[str, Any]) -> None:
        found = await checked(ack, body)
        if found is None:
            return
        form, agent = found
        try:
            await work.reply(
                form.ticket_id,
                agent,
                form.text,
                services.policy,
                close_after=form.close_after,
                minutes=form.minutes,
                clock=services.clock,
            )
        except work.Refused as refused:
            await refuse(ack, refused)
            return
        await ack()
        services.wake_outbox()

    @app.view(ids.NOTE_VIEW)
    async def handle_note(ack: AsyncAck, body: dict[str, Any]) -> None:
        found = await checked(ack, body)
        if found is None:
            return
        form, agent = found
        try:
            await work.note(
                form.ticket_id, agent, form.text, minutes=form.minutes, clock=services.clock
            )
        except work.Refused as refused:
            await refuse(ack, refused)
            return
        await ack()
        services.wake_outbox()

    @app.view(ids.CLOSE_VIEW)
    async def handle_close(ack: AsyncAck, body: dict[str, Any]) -> None:
        found = await checked(ack, body)
        if found is None:
            return
        form, agent = found
        try:
            await work.close(
                form.ticket_id,
                agent,
                services.policy,
                text=form.text,
                minutes=form.minutes,
                clock=services.clock,
            )
        except work.Refused as refused:
            await refuse(ack, refused)
            return
        await ack()
        services.wake_outbox()
