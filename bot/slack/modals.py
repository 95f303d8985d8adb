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

from bot.render.forms import TEXT_BLOCK, FormAnswer, build_reply_modal, metadata, read_form
from bot.render.notices import refusal_text, user_facts
from bot.slack import ids
from bot.slack.guards import may_act, ticket_or_none
from bot.slack.services import Services
from bot.slack.stamps import make_stamp, opened_at
from models import collision, work
from models.events import Refusal
from models.views import ticket_summary

logger = logging.getLogger(__name__)

Submission = Callable[[FormAnswer, work.Agent], Awaitable[object]]


class Forms:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def refuse(self, ack: AsyncAck, text: str, block: str = TEXT_BLOCK) -> None:
        """Inline, under the text field (plain text: Slack shows no markup there)."""
        await ack(response_action="errors", errors={block: text})

    async def refused(self, ack: AsyncAck, refused: work.Refused, block: str = TEXT_BLOCK) -> None:
        """A domain refusal in plain words: the people it names by their names."""
        names = {user: await self.services.people.name(user) for user in user_facts(refused)}
        await self.refuse(ack, refusal_text(refused, names), block)

    def handler(
        self, submit: Submission, *, collision_check: bool = False
    ) -> Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]:
        async def handle(ack: AsyncAck, body: dict[str, Any]) -> None:
            form = read_form(body["view"])
            user = body["user"]["id"]
            ticket = await ticket_or_none(form.ticket_id)
            if ticket is None:
                await self.refused(ack, work.Refused(Refusal.NO_TICKET), form.text_block)
                return
            refusal = await may_act(self.services, ticket, user, plain=True)
            if refusal:
                await self.refuse(ack, refusal, form.text_block)
                return
            if form.errors:
                await ack(response_action="errors", errors=form.errors)
                return
            if collision_check and await self.confirm_first(ack, form, user):
                return
            name = await self.services.people.name(user, fallback=body["user"].get("name", ""))
            try:
                await submit(form, self.services.agent(user, name))
            except work.Refused as refused:
                await self.refused(ack, refused, form.text_block)
                return
            await ack()
            if collision_check:
                await collision.stop_replying(form.ticket_id, user, self.services.clock)
            self.services.work_done(user)

        return handle

    async def confirm_first(self, ack: AsyncAck, form: FormAnswer, user: str) -> bool:
        """When a customer mail or another agent's reply arrived after the form was opened,
        show it and ask again (`response_action: update`) instead of sending: True then.
        The shown form gets a new stamp, so sending it now sends (unless more arrived)."""
        services = self.services
        since = opened_at(services.view_key, form.ticket_id, user, form.opened)
        arrived = await collision.arrived_since(form.ticket_id, user, since)
        if not arrived:
            return False
        name = services.people.cached(user) or ""
        now = await collision.start_replying(form.ticket_id, user, name, services.clock)
        view = build_reply_modal(
            await ticket_summary(form.ticket_id),
            services.policy.ticket_hook,
            templates=services.policy.templates,
            stamp=make_stamp(services.view_key, form.ticket_id, user, now),
            text=form.text,
            version=form.version + 1,
            arrived=arrived,
        )
        await ack(response_action="update", view=view)
        services.wake_outbox()
        return True

    async def closed(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """The Reply form was dismissed: the card stops saying the agent is replying."""
        await ack()
        ticket_id = ids.ticket_id(metadata(body.get("view") or {}).get("ticket_id"))
        if ticket_id and await collision.stop_replying(
            ticket_id, body["user"]["id"], self.services.clock
        ):
            self.services.wake_outbox()

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
    app.view(ids.REPLY_VIEW)(forms.handler(forms.reply, collision_check=True))
    app.view_closed(ids.REPLY_VIEW)(forms.closed)
    app.view(ids.NOTE_VIEW)(forms.handler(forms.note))
    app.view(ids.CLOSE_VIEW)(forms.handler(forms.close))
