"""Modal submissions: the reply, note and close forms.

Validation and the database work happen before the ack, so a refusal (empty
text, someone else holds the ticket) comes back inline in the modal; mail and
Slack updates leave through the outbox afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.render.forms import TEXT_BLOCK, FormAnswer, read_form
from bot.render.notices import refusal_text, user_facts
from bot.slack import ids
from bot.slack.guards import may_act, ticket_or_none
from bot.slack.services import Services
from models import work
from models.events import Refusal

logger = logging.getLogger(__name__)

Submission = Callable[[FormAnswer, work.Agent], Awaitable[object]]


class Forms:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def refuse(self, ack: AsyncAck, text: str) -> None:
        """Inline, under the text field (plain text: Slack shows no markup there)."""
        await ack(response_action="errors", errors={TEXT_BLOCK: text})

    async def refused(self, ack: AsyncAck, refused: work.Refused) -> None:
        """A domain refusal in plain words: the people it names by their names."""
        names = {user: await self.services.people.name(user) for user in user_facts(refused)}
        await self.refuse(ack, refusal_text(refused, names))

    def handler(self, submit: Submission) -> Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]:
        async def handle(ack: AsyncAck, body: dict[str, Any]) -> None:
            form = read_form(body["view"])
            user = body["user"]["id"]
            ticket = await ticket_or_none(form.ticket_id)
            if ticket is None:
                await self.refused(ack, work.Refused(Refusal.NO_TICKET))
                return
            refusal = await may_act(self.services, ticket, user, plain=True)
            if refusal:
                await self.refuse(ack, refusal)
                return
            if form.errors:
                await ack(response_action="errors", errors=form.errors)
                return
            name = await self.services.people.name(user, fallback=body["user"].get("name", ""))
            try:
                await submit(form, self.services.agent(user, name))
            except work.Refused as refused:
                await self.refused(ack, refused)
                return
            await ack()
            self.services.work_done(user)

        return handle

    async def reply(self, form: FormAnswer, agent: work.Agent) -> object:
        return await work.reply(
            form.ticket_id,
            agent,
            form.text,
            self.services.policy,
            close_after=form.close_after,
            minutes=form.minutes,
            clock=self.services.clock,
        )

    async def note(self, form: FormAnswer, agent: work.Agent) -> object:
        return await work.note(
            form.ticket_id, agent, form.text, minutes=form.minutes, clock=self.services.clock
        )

    async def close(self, form: FormAnswer, agent: work.Agent) -> object:
        return await work.close(
            form.ticket_id,
            agent,
            self.services.policy,
            text=form.text,
            minutes=form.minutes,
            clock=self.services.clock,
        )


def register(app: AsyncApp, services: Services) -> None:
    forms = Forms(services)
    app.view(ids.REPLY_VIEW)(forms.handler(forms.reply))
    app.view(ids.NOTE_VIEW)(forms.handler(forms.note))
    app.view(ids.CLOSE_VIEW)(forms.handler(forms.close))
