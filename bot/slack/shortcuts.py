"""Shortcuts: `ticket_from_message` (a Slack message becomes a ticket) and `ticket_new`
(a ticket for a customer who phoned).

Both ack at once and open their form as a follow-up while the trigger_id is fresh (3 s).
Only agents — members of some queue's channel, or leads — get the form; anyone else is
told why. The submission opens the ticket through `models.agent_intake` before the ack,
so a refusal (bad address, a queue the agent does not work in) shows in the form.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.ticket_forms import (
    EMAIL_BLOCK,
    QUEUE_BLOCK,
    Prefill,
    build_message_modal,
    build_phone_modal,
    read_ticket_form,
    subject_from,
)
from bot.slack import ids
from bot.slack.directory import CannotCheck
from bot.slack.guards import CANNOT_CHECK_WORK, tell
from bot.slack.services import Services
from models.agent_intake import Request, open_for_customer
from models.policy import QueueRoute

logger = logging.getLogger(__name__)

NOT_AN_AGENT = (
    "Only agents can open tickets: members of a support queue's channel "
    "(people of this workspace, not guests)."
)


def message_text(message: dict[str, Any]) -> str:
    """A message's text as people read it: Slack escapes only &, < and >."""
    return html.unescape(str(message.get("text") or ""))[:40_000]


class Shortcuts:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def queues_for(self, user: str) -> list[QueueRoute] | None:
        """The queues `user` may open tickets in; None when Slack cannot tell now."""
        try:
            return await self.services.visible_queues(user)
        except CannotCheck:
            return None

    async def refuse_opening(
        self,
        user: str,
        respond: AsyncRespond | None,
        client: AsyncWebClient,
        body: dict[str, Any],
    ) -> list[QueueRoute]:
        """The user's queues, or [] after telling them why they get no form."""
        queues = await self.queues_for(user)
        if queues:
            return queues
        await tell(respond, client, body, CANNOT_CHECK_WORK if queues is None else NOT_AN_AGENT)
        return []

    async def new_ticket(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        self.services.after_ack(self.open_phone_form(body, client))

    async def open_phone_form(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        user = body["user"]["id"]
        queues = await self.refuse_opening(user, None, client, body)
        if queues:
            view = build_phone_modal(queues, queues[0].name)
            await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def from_message(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        self.services.after_ack(self.open_message_form(body, client, respond))

    async def open_message_form(
        self, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        user = body["user"]["id"]
        queues = await self.refuse_opening(user, respond, client, body)
        if not queues:
            return
        channel = str((body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        ts = str(body.get("message_ts") or message.get("ts") or "")
        text = message_text(message)
        here = next((q for q in queues if q.channel == channel), queues[0])
        prefill = Prefill(subject=subject_from(text), text=text, queue=here.name)
        prefill = await self.customer_of(message, prefill)
        permalink = await self.permalink(client, channel, ts)
        view = build_message_modal(queues, prefill, channel=channel, ts=ts, permalink=permalink)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def customer_of(self, message: dict[str, Any], prefill: Prefill) -> Prefill:
        """The message's author as the customer when they are no agent and Slack knows their
        address (a customer in a shared channel); an agent's message (or a bot's) asks."""
        author = str(message.get("user") or "")
        if not author or message.get("bot_id"):
            return prefill
        try:
            if await self.services.queues_of(author):
                return prefill
            person = await self.services.people.person(author)
        except CannotCheck:
            return prefill
        return Prefill(person.email, person.name, prefill.subject, prefill.text, prefill.queue)

    async def permalink(self, client: AsyncWebClient, channel: str, ts: str) -> str:
        if not (channel and ts):
            return ""
        try:
            answer = await client.chat_getPermalink(channel=channel, message_ts=ts)
        except Exception:
            logger.warning("no permalink for %s/%s", channel, ts, exc_info=True)
            return ""
        link = str(answer.get("permalink") or "")
        return link if link.startswith(("https://", "http://")) and len(link) <= 500 else ""

    async def submit(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Either form's submission: checked, then the ticket is opened before the ack."""
        services = self.services
        form = read_ticket_form(body["view"])
        user = body["user"]["id"]
        queues = await self.queues_for(user)
        if not queues:
            text = CANNOT_CHECK_WORK if queues is None else NOT_AN_AGENT
            await ack(response_action="errors", errors={EMAIL_BLOCK: text})
            return
        if form.errors:
            await ack(response_action="errors", errors=form.errors)
            return
        queue = next((q for q in queues if q.name == form.queue), None)
        if queue is None:
            error = "You are not an agent of that queue; choose one of yours."
            await ack(response_action="errors", errors={QUEUE_BLOCK: error})
            return
        from_slack = body["view"].get("callback_id") == ids.FROM_MESSAGE_VIEW
        request = Request(
            customer_email=form.email,
            customer_name=form.name,
            subject=form.subject,
            text=form.text,
            source="slack" if from_slack else "phone",
            agent=user,
            permalink=form.permalink if from_slack else "",
            acknowledge=form.acknowledge,
        )
        await open_for_customer(request, queue, services.policy, services.clock)
        await ack()
        services.work_done(user)


def register(app: AsyncApp, services: Services) -> None:
    shortcuts = Shortcuts(services)
    app.shortcut(ids.NEW_TICKET)(shortcuts.new_ticket)
    app.shortcut(ids.FROM_MESSAGE)(shortcuts.from_message)
    app.view(ids.NEW_TICKET_VIEW)(shortcuts.submit)
    app.view(ids.FROM_MESSAGE_VIEW)(shortcuts.submit)
