"""The slash command: help, show, search, mine, queue (answers only the person who asked)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.blocks import build_ticket_details, build_ticket_list
from bot.mrkdwn import escape_within
from bot.services import Services
from models.article import Article
from models.search import search_terms, search_tickets
from models.ticket import Ticket, TicketState
from models.views import ticket_summary

logger = logging.getLogger(__name__)

LIST_LIMIT = 20


def help_text(command: str) -> str:
    return (
        f"*{command} help* — this list\n"
        f"*{command} show <number>* — a ticket with its whole conversation and notes\n"
        f"*{command} search <words>* — tickets mentioning every word (quote a phrase)\n"
        f"*{command} mine* — tickets you hold that are not closed\n"
        f"*{command} queue* — unclaimed tickets waiting for someone"
    )


def register(app: AsyncApp, services: Services, command: str) -> None:
    hook = services.policy.ticket_hook

    async def search(text: str, user: str, respond: AsyncRespond) -> None:
        terms = search_terms(text)
        channels = [
            queue.channel
            for queue in services.policy.queues
            if await services.members.is_member(queue.channel, user)
        ]
        tickets = await search_tickets(terms, channels=channels, limit=LIST_LIMIT)
        title = "Tickets mentioning " + ", ".join(escape_within(t, 100) for t in terms)
        await respond(
            text=title,
            blocks=build_ticket_list(title, tickets, hook),
            response_type="ephemeral",
            replace_original=False,
        )

    @app.command(command)
    async def handle_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        text = body.get("text") or ""
        words = text.split()
        verb = words[0].lower() if words else "help"
        user = body.get("user_id", "")
        if verb == "search" and search_terms(text.strip()[len(verb) :]):
            # Searching reads every article: answer through the response_url, so a large
            # database never costs the 3-second ack.
            await ack()
            services.after_ack(search(text.strip()[len(verb) :], user, respond))
            return
        if verb == "show" and len(words) == 2:
            number = words[1].strip("[]").removeprefix(hook)
            ticket = await Ticket.get_or_none(number=number)
            if ticket is None:
                await ack(text=f"No ticket {number}.", response_type="ephemeral")
                return
            if not await services.members.is_member(ticket.slack_channel, user):
                await ack(text=f"Only members of <#{ticket.slack_channel}> can see it.")
                return
            articles = await Article.filter(ticket_id=ticket.id).order_by("id")
            blocks = build_ticket_details(await ticket_summary(ticket.id), articles, hook)
            await ack(text=f"{hook}{ticket.number}", blocks=blocks, response_type="ephemeral")
            return
        if verb in ("mine", "queue"):
            query = (
                Ticket.filter(owner_id=user).exclude(state=TicketState.CLOSED)
                if verb == "mine"
                else Ticket.filter(owner_id=None).exclude(state=TicketState.CLOSED)
            )
            tickets = await query.order_by("created_at").limit(LIST_LIMIT)
            title = "Your open tickets" if verb == "mine" else "Unclaimed tickets"
            await ack(
                text=title,
                blocks=build_ticket_list(title, tickets, hook),
                response_type="ephemeral",
            )
            return
        await ack(text=help_text(command), response_type="ephemeral")
