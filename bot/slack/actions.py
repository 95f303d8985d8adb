"""Card buttons: claim, release, reply, note, close, reopen.

Slack wants an answer within 3 seconds. Each listener checks who may act, does
the database compare-and-set and acks; the app runs with
`process_before_response`, so the HTTP answer leaves as soon as the listener
returns. Whatever needs Slack afterwards (the ephemeral refusal, the modal
while its trigger_id is fresh) runs as a follow-up task. Card updates travel
through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.forms import (
    build_close_modal,
    build_note_modal,
    build_reply_modal,
    metadata,
    typed_text,
    with_template,
)
from bot.render.notices import refusal_text
from bot.slack import ids
from bot.slack.guards import may_act, may_act_in, tell, ticket_or_none
from bot.slack.services import Services
from bot.slack.stamps import make_stamp
from models import collision, work
from models.events import Refusal
from models.store.ticket import Ticket
from models.templates import fill, reply_values
from models.views import TicketSummary, ticket_summary

logger = logging.getLogger(__name__)

Listener = Callable[[AsyncAck, dict[str, Any], AsyncRespond, AsyncWebClient], Awaitable[None]]
Operation = Callable[[Ticket, work.Agent], Awaitable[object]]
ModalBuilder = Callable[[TicketSummary, str], dict[str, Any]]
ClaimRule = Callable[[work.Agent], bool]  # may this agent act while someone else holds it?


def ticket_id_of(body: dict[str, Any]) -> int:
    try:
        return ids.ticket_id(body["actions"][0]["value"])
    except (KeyError, IndexError):
        return 0


def channel_of(body: dict[str, Any]) -> str:
    return str((body.get("channel") or {}).get("id") or body["container"].get("channel_id", ""))


class CardActions:
    def __init__(self, services: Services) -> None:
        self.services = services

    def refuse(
        self, respond: AsyncRespond, client: AsyncWebClient, body: dict[str, Any], text: str
    ) -> None:
        self.services.after_ack(tell(respond, client, body, text))

    async def claim(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        """The hot path: cached membership, one compare-and-set, ack. Nothing else first."""
        services = self.services
        user, channel = body["user"]["id"], channel_of(body)
        refusal = await may_act_in(services, channel, user)
        if refusal is None:
            try:
                await work.claim(
                    ticket_id_of(body),
                    services.agent(user),
                    services.policy,
                    services.clock,
                    channel=channel,
                )
            except work.Refused as refused:
                refusal = refusal_text(refused)
        await ack()
        if refusal is None:
            services.work_done(user)
        else:
            self.refuse(respond, client, body, refusal)

    async def guarded(
        self, body: dict[str, Any], ticket_id: int | None = None
    ) -> tuple[tuple[Ticket, work.Agent] | None, str | None]:
        """(ticket, acting agent), or None and the reason they may not act. The ticket is
        the button's (`ticket_id` when the click carries it elsewhere, e.g. in a select's
        option)."""
        user = body["user"]["id"]
        ticket = await ticket_or_none(ticket_id_of(body) if ticket_id is None else ticket_id)
        channel = channel_of(body)
        if ticket is None or (channel and ticket.slack_channel != channel):
            # A value naming another channel's ticket is answered as a missing one: the
            # answer must not tell that it exists, nor where.
            return None, refusal_text(work.Refused(Refusal.NO_TICKET))
        refusal = await may_act(self.services, ticket, user)
        if refusal:
            return None, refusal
        agent = self.services.agent(user, self.services.people.cached(user) or "")
        return (ticket, agent), None

    def state_change(self, operation: Operation) -> Listener:
        async def handle(
            ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
        ) -> None:
            checked, refusal = await self.guarded(body)
            if checked is not None:
                try:
                    await operation(*checked)
                except work.Refused as refused:
                    refusal = refusal_text(refused)
            await ack()
            if refusal:
                self.refuse(respond, client, body, refusal)
            else:
                self.services.work_done(body["user"]["id"])

        return handle

    def opens(self, builder: ModalBuilder, claim_rule: ClaimRule) -> Listener:
        async def handle(
            ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
        ) -> None:
            checked, refusal = await self.guarded(body)
            if checked is not None:
                ticket, agent = checked
                if ticket.owner_id not in (None, agent.user_id) and not claim_rule(agent):
                    refusal = refusal_text(work.held(ticket))
            await ack()
            if refusal or checked is None:
                self.refuse(respond, client, body, refusal or "")
                return
            self.services.after_ack(self.open_modal(builder, checked[0].id, body, respond, client))

        return handle

    async def open_modal(
        self,
        builder: ModalBuilder,
        ticket_id: int,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        try:
            summary = await ticket_summary(ticket_id)
            if builder is build_reply_modal:
                view = await self.reply_form(summary, body["user"]["id"])
            else:
                view = builder(summary, self.services.policy.ticket_hook)
            try:
                await client.views_open(trigger_id=body["trigger_id"], view=view)
            except Exception:
                if builder is build_reply_modal:  # no form: nobody is replying after all
                    await collision.stop_replying(ticket_id, body["user"]["id"])
                raise
        except Exception:
            logger.exception("could not open the %s modal", builder.__name__)
            await tell(respond, client, body, "Slack did not open the form; please try again.")
            return
        # Warm the name cache: the form's submission will want it before its ack.
        user = body["user"]
        await self.services.people.name(user["id"], fallback=user.get("name", ""))

    async def reply_form(self, summary: TicketSummary, user: str) -> dict[str, Any]:
        """The Reply form, stamped with when it opened; the card says who is replying."""
        services = self.services
        name = services.people.cached(user) or ""
        opened = await collision.start_replying(summary.id, user, name, services.clock)
        services.wake_outbox()
        return build_reply_modal(
            summary,
            services.policy.ticket_hook,
            templates=services.policy.templates,
            stamp=make_stamp(services.view_key, summary.id, user, opened),
        )

    async def choose_template(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """A canned response was chosen in the Reply form: fill it in (views.update)."""
        await ack()
        self.services.after_ack(self.fill_template(body, client))

    async def fill_template(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        services, view = self.services, body.get("view") or {}
        user = body["user"]["id"]
        meta = metadata(view)
        ticket = await ticket_or_none(ids.ticket_id(meta.get("ticket_id")))
        if ticket is None or await may_act(services, ticket, user):
            return
        templates = services.policy.templates
        try:
            chosen = int(str(body["actions"][0]["selected_option"]["value"]))
            template = templates[chosen]
        except (KeyError, IndexError, TypeError, ValueError):
            return
        summary = await ticket_summary(ticket.id)
        name = await services.people.name(user, fallback=body["user"].get("name", ""))
        values = reply_values(
            customer_name=summary.customer_name,
            number=summary.number,
            subject=summary.subject,
            agent_name=name,
        )
        _, current = typed_text((view.get("state") or {}).get("values") or {})
        text = with_template(
            current, fill(template.text, values), [fill(t.text, values) for t in templates]
        )
        version = meta.get("version")
        version = version + 1 if isinstance(version, int) and 0 <= version < 10_000 else 1
        form = build_reply_modal(
            summary,
            services.policy.ticket_hook,
            templates=templates,
            stamp=str(meta.get("opened") or ""),
            text=text,
            version=version,
        )
        try:
            await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=form)
        except Exception:  # hash_conflict: the agent changed the form meanwhile; theirs wins
            logger.info("could not fill a template into view %s", view.get("id"), exc_info=True)

    async def release(self, ticket: Ticket, agent: work.Agent) -> object:
        return await work.release(ticket.id, agent, self.services.clock)

    async def reopen(self, ticket: Ticket, agent: work.Agent) -> object:
        services = self.services
        return await work.reopen(ticket.id, agent, services.clock, sla=services.policy.sla)


def register(app: AsyncApp, services: Services) -> None:
    actions = CardActions(services)
    app.action(ids.CLAIM)(actions.claim)  # first: the most frequent click matches soonest
    app.action(ids.RELEASE)(actions.state_change(actions.release))
    app.action(ids.REOPEN)(actions.state_change(actions.reopen))
    app.action(ids.REPLY)(actions.opens(build_reply_modal, lambda agent: False))
    app.action(ids.NOTE)(actions.opens(build_note_modal, lambda agent: True))
    app.action(ids.CLOSE)(actions.opens(build_close_modal, lambda agent: agent.is_lead))
    app.action(ids.REPLY_TEMPLATE)(actions.choose_template)
