"""The slash command: help, show, search, mine, queue, report (answers only the person who
asked)."""

from __future__ import annotations

import logging
from datetime import UTC, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.render.blocks import build_ticket_details, build_ticket_list
from bot.render.mrkdwn import escape_within
from bot.render.report import build_report_blocks, report_fallback
from bot.slack.directory import CannotCheck
from bot.slack.services import Services
from models.report import PeriodError, build_report, parse_period
from models.search import search_terms, search_tickets
from models.views import (
    conversation_of,
    open_tickets_of,
    ticket_summary,
    unclaimed_in,
    visible_ticket,
)

logger = logging.getLogger(__name__)

LIST_LIMIT = 20


def help_text(command: str) -> str:
    return (
        f"*{command} help* — this list\n"
        f"*{command} show <number>* — a ticket with its whole conversation and notes\n"
        f"*{command} search <words>* — tickets mentioning every word (quote a phrase)\n"
        f"*{command} mine* — tickets you hold that are not closed\n"
        f"*{command} queue* — unclaimed tickets waiting for someone\n"
        f"*{command} report [today|week|month|YYYY-MM-DD..YYYY-MM-DD]* — created, closed, "
        "backlog, response and resolution times, agents, customers: of every queue for "
        "leads (only they may ask when leads are set), else of the queues you work in"
    )


CANNOT_CHECK_QUEUES = "I cannot check which queues you work in right now; please try again."
LEADS_ONLY = "Reports are for leads."
AGENTS_ONLY = "Reports are for agents of a queue, and you are not one."


class TicketCommand:
    """One verb per method; each answers in the ack when it is quick, else acks first and
    answers through the response_url (searching and reporting read many rows).

    Every verb shows only tickets of the asker's queues (`Services.visible_queues`: leads see all);
    when Slack cannot tell which those are, the answer says so and shows nothing.
    """

    def __init__(self, services: Services, command: str) -> None:
        self.services = services
        self.command = command
        self.hook = services.policy.ticket_hook

    async def handle(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        text = (body.get("text") or "").strip()
        words = text.split()
        verb = words[0].lower() if words else "help"
        rest = text[len(verb) :]
        user = body.get("user_id", "")
        try:
            if verb == "report":
                refusal = await self.report_refusal(user)
                if refusal:
                    await ack(text=refusal, response_type="ephemeral")
                    return
                await ack()
                self.services.after_ack(self.report(rest, user, respond))
            elif verb == "search" and search_terms(rest):
                await ack()
                self.services.after_ack(self.search(rest, user, respond))
            elif verb == "show" and len(words) == 2:
                await self.show(ack, words[1], user)
            elif verb in ("mine", "queue"):
                await self.listing(ack, verb, user)
            else:
                await ack(text=help_text(self.command), response_type="ephemeral")
        except CannotCheck:
            await ack(text=CANNOT_CHECK_QUEUES, response_type="ephemeral")

    async def show(self, ack: AsyncAck, raw_number: str, user: str) -> None:
        """One query for "exists and is yours to see", so a ticket of another queue and no
        ticket at all get the same answer (and the same work)."""
        number = raw_number.strip("[]")
        if number.lower().startswith(self.hook.lower()):  # as in subjects, any case
            number = number[len(self.hook) :]
        channels = await self.services.visible_channels(user)
        ticket = await visible_ticket(number, channels)
        if ticket is None:
            await ack(text=no_such_ticket(number), response_type="ephemeral")
            return
        articles = await conversation_of(ticket.id)
        blocks = build_ticket_details(await ticket_summary(ticket.id), articles, self.hook)
        await ack(text=f"{self.hook}{ticket.number}", blocks=blocks, response_type="ephemeral")

    async def listing(self, ack: AsyncAck, verb: str, user: str) -> None:
        """`mine`: what the user holds in queues they still work in; `queue`: unclaimed
        tickets of their queues (customers' subjects are not for the whole workspace)."""
        channels = await self.services.visible_channels(user)
        tickets = (
            await open_tickets_of(user, channels=channels, limit=LIST_LIMIT)
            if verb == "mine"
            else await unclaimed_in(channels, limit=LIST_LIMIT)
        )
        title = "Your open tickets" if verb == "mine" else "Unclaimed tickets"
        await ack(
            text=title,
            blocks=build_ticket_list(title, tickets, self.hook),
            response_type="ephemeral",
        )

    async def search(self, text: str, user: str, respond: AsyncRespond) -> None:
        terms = search_terms(text)
        try:
            channels = await self.services.visible_channels(user)
        except CannotCheck:
            await respond(text=CANNOT_CHECK_QUEUES, response_type="ephemeral")
            return
        tickets = await search_tickets(terms, channels=channels, limit=LIST_LIMIT)
        title = "Tickets mentioning " + ", ".join(escape_within(t, 100) for t in terms)
        await respond(
            text=title,
            blocks=build_ticket_list(title, tickets, self.hook),
            response_type="ephemeral",
            replace_original=False,
        )

    async def report_refusal(self, user: str) -> str | None:
        """Leads (every queue) when `slack.leads` names any; otherwise every agent, over
        the queues they work in."""
        if self.services.policy.leads:
            return None if self.services.is_lead(user) else LEADS_ONLY
        return None if await self.services.queues_of(user) else AGENTS_ONLY

    async def report(self, text: str, user: str, respond: AsyncRespond) -> None:
        try:
            queues = (
                None
                if self.services.is_lead(user)
                else [queue.name for queue in await self.services.queues_of(user)]
            )
        except CannotCheck:
            await respond(text=CANNOT_CHECK_QUEUES, response_type="ephemeral")
            return
        zone_name = await self.services.people.timezone(user)
        try:
            zone: tzinfo = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone, zone_name = UTC, "UTC"
        try:
            period = parse_period(text, self.services.clock().astimezone(zone))
        except PeriodError as error:
            await respond(text=f"Report: {error}.", response_type="ephemeral")
            return
        result = await build_report(period, hook=self.hook, queues=queues)
        await respond(
            text=report_fallback(result),
            blocks=build_report_blocks(result, zone_name),
            response_type="ephemeral",
            replace_original=False,
        )


def no_such_ticket(number: str) -> str:
    """The same words whether the ticket is missing or belongs to a queue not theirs."""
    return f"No ticket {escape_within(number, 40)} in your queues."


def register(app: AsyncApp, services: Services, command: str) -> None:
    app.command(command)(TicketCommand(services, command).handle)
