"""The slash command: help, show, search, mine, queue, report (answers only the person who
asked)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.render.blocks import Block, build_ticket_details, build_ticket_list, mrkdwn
from bot.render.mrkdwn import escape_within
from bot.render.report import build_report_blocks, report_fallback
from bot.render.search import build_search_results, read_more_value
from bot.render.team import build_customer_history, build_history
from bot.slack import ids
from bot.slack.directory import CannotCheck
from bot.slack.services import Services
from models import effects
from models.policy import QueueRoute
from models.report import CHART, CSV, PeriodError, build_report, parse_period, report_payload
from models.search import (
    NOBODY,
    SearchError,
    SearchQuery,
    SearchScope,
    parse_search,
    search_tickets,
)
from models.store.ticket import Ticket
from models.team import customer_history, history_of, survivor_of
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
        f"*{command} search <words> [state:…] [queue:…] [from:…] [owner:@user|me|none] "
        "[priority:low|normal|high|urgent] [after:YYYY-MM-DD] [before:YYYY-MM-DD]* — "
        "tickets mentioning every word (quote a phrase), best match first, 10 at a time\n"
        f"*{command} mine* — tickets you hold that are not closed\n"
        f"*{command} queue* — unclaimed tickets waiting for someone\n"
        f"*{command} report [today|week|month|YYYY-MM-DD..YYYY-MM-DD] [queue:<name>] [csv]* — "
        "created, closed, backlog, response and resolution times, breaches, agents, customers, "
        "with a chart image (and the tickets as CSV) in your DM with me: of every queue for "
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
            elif verb == "search" and not parse_search(rest, strict=False).is_empty:
                await ack()
                self.services.after_ack(self.search(rest.strip(), user, respond))
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
        pointer: list[Block] = []
        if ticket.merged_into_id is not None:  # its number leads to the survivor
            survivor = await survivor_of(ticket)
            pointer = [merged_pointer(ticket, survivor, self.hook)]
            if survivor.slack_channel not in channels:
                await ack(text=pointer_text(ticket, survivor, self.hook), response_type="ephemeral")
                return
            ticket = survivor
        articles = await conversation_of(ticket.id)
        history = build_customer_history(
            ticket.customer_email,
            await customer_history(ticket, channels),
            self.hook,
            self.services.clock(),
        )
        rows = await history_of(ticket.id)
        merged = {row.ticket_id for row in rows} - {ticket.id}
        numbers = {t.id: t.number for t in await Ticket.filter(id__in=list(merged))}
        blocks = build_ticket_details(
            await ticket_summary(ticket.id),
            articles,
            self.hook,
            before=[*pointer, *history, *build_history(rows, numbers, self.hook)],
        )
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

    async def more(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """**More**: the next page, in place of the one clicked (asked again, as the person
        who clicks: what they may see is checked anew)."""
        await ack()
        text, page = read_more_value(str((body.get("actions") or [{}])[0].get("value", "")))
        user = str((body.get("user") or {}).get("id", ""))
        if text:
            self.services.after_ack(self.search(text, user, respond, page=page))

    async def search(self, text: str, user: str, respond: AsyncRespond, *, page: int = 0) -> None:
        try:
            query = parse_search(text)
            scope = await self.search_scope(query, user)
        except (SearchError, CannotCheck) as problem:
            message = (
                CANNOT_CHECK_QUEUES if isinstance(problem, CannotCheck) else f"Search: {problem}."
            )
            await respond(text=escape_within(message, 500), response_type="ephemeral")
            return
        found = await search_tickets(query, scope, hook=self.hook, page=page)
        notes = [f"{flag} is not recorded yet, so it was ignored." for flag in query.ignored]
        await respond(
            text=f"Search: {escape_within(text, 200)}",
            blocks=build_search_results(text, found, self.hook, self.services.clock(), notes),
            response_type="ephemeral",
            replace_original=page > 0,
        )

    async def search_scope(self, query: SearchQuery, user: str) -> SearchScope:
        """What `user` may search, with `queue:` and `owner:` made into a channel and a user."""
        visible = await self.services.visible_queues(user)
        queue = None
        if query.queue is not None:
            queue = self.queue_named(query.queue, visible)
        owner = None
        if query.owner is not None:
            owner = await self.owner_named(query.owner, user, visible)
        return SearchScope(
            channels=tuple(q.channel for q in visible),
            zone=await self.zone_of(user),
            owner=owner,
            queue_channel=queue.channel if queue else None,
        )

    @staticmethod
    def queue_named(name: str, visible: list[QueueRoute]) -> QueueRoute:
        for queue in visible:
            if queue.name.casefold() == name.casefold():
                return queue
        yours = ", ".join(q.name for q in visible) or "none"
        raise SearchError(f"no queue {name} among yours ({yours})")

    async def owner_named(self, text: str, asker: str, visible: list[QueueRoute]) -> str:
        """me, none, a mention (<@U…|name>, <@U…>, @U…) or @name of an agent of the asker's
        queues (the command text carries names when Slack does not escape mentions)."""
        word = text.strip()
        if word.lower() == "me":
            return asker
        if word.lower() in ("none", "nobody"):
            return NOBODY
        mention = _MENTION.fullmatch(word)
        if mention:
            return mention.group(1) or mention.group(2)
        wanted = word.removeprefix("@").casefold()
        for queue in visible:
            for member in sorted(await self.services.members.members(queue.channel)):
                name = (await self.services.people.person(member)).name.casefold()
                if wanted in (name, name.replace(" ", ""), *name.split()[:1]):
                    return member
        raise SearchError(f"owner: no agent called {word} in your queues (owner:@name, me or none)")

    async def zone_of(self, user: str) -> tzinfo:
        zone_name = await self.services.people.timezone(user)
        try:
            return ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC

    async def report_refusal(self, user: str) -> str | None:
        """Leads (every queue) when `slack.leads` names any; otherwise every agent, over
        the queues they work in."""
        if self.services.policy.leads:
            return None if self.services.is_lead(user) else LEADS_ONLY
        return None if await self.services.queues_of(user) else AGENTS_ONLY

    async def report(self, text: str, user: str, respond: AsyncRespond) -> None:
        """The report in Block Kit; its chart image (and with `csv` its rows) are queued for
        the asker's DM with the app."""
        period_text, queue_name, want_csv = report_options(text)
        try:
            visible = await self.services.visible_queues(user)
            if queue_name is not None:
                queues: list[str] | None = [self.queue_named(queue_name, visible).name]
            elif self.services.is_lead(user):
                queues = None
            else:
                queues = [queue.name for queue in await self.services.queues_of(user)]
        except CannotCheck:
            await respond(text=CANNOT_CHECK_QUEUES, response_type="ephemeral")
            return
        except SearchError as error:
            await respond(text=f"Report: {error}.", response_type="ephemeral")
            return
        zone_name = await self.services.people.timezone(user)
        try:
            zone: tzinfo = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone, zone_name = UTC, "UTC"
        now = self.services.clock().astimezone(zone)
        try:
            period = parse_period(period_text, now)
        except PeriodError as error:
            await respond(text=f"Report: {error}.", response_type="ephemeral")
            return
        minutes = self.services.policy.first_response_minutes
        result = await build_report(
            period,
            queues=queues,
            first_response_minutes=minutes,
            now=now,
            sla=self.services.policy.sla is not None,
        )
        payload = report_payload(period, zone_name, queues, minutes)
        await effects.send_report_file(user, CHART, payload, self.services.clock)
        if want_csv:
            await effects.send_report_file(user, CSV, payload, self.services.clock)
        self.services.wake_outbox()
        files = (
            "The chart image"
            + (" and the tickets as CSV are" if want_csv else " is")
            + " on the way to your DM with me (the app's Messages tab)."
        )
        await respond(
            text=report_fallback(result),
            blocks=build_report_blocks(result, zone_name, files),
            response_type="ephemeral",
            replace_original=False,
        )


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|@?([UW][A-Z0-9]{6,})")
_QUEUE = re.compile(r'(?i)\bqueue:(?:"([^"]*)"|(\S+))')


def report_options(text: str) -> tuple[str, str | None, bool]:
    """(period, queue name or None, csv?) from `/ticket report …`, in any order."""
    queue = None
    found = _QUEUE.search(text)
    if found:
        queue = found.group(1) if found.group(1) is not None else found.group(2)
        text = text[: found.start()] + text[found.end() :]
    words = text.split()
    want_csv = any(w.lower() == "csv" for w in words)
    period = " ".join(w for w in words if w.lower() != "csv")
    return period, queue, want_csv


def pointer_text(merged: Ticket, survivor: Ticket, hook: str) -> str:
    return f"{hook}{merged.number} was merged into *{hook}{survivor.number}*."


def merged_pointer(merged: Ticket, survivor: Ticket, hook: str) -> Block:
    text = f":twisted_rightwards_arrows: {pointer_text(merged, survivor, hook)} Shown here:"
    return {"type": "context", "elements": [mrkdwn(text)]}


def no_such_ticket(number: str) -> str:
    """The same words whether the ticket is missing or belongs to a queue not theirs."""
    return f"No ticket {escape_within(number, 40)} in your queues."


def register(app: AsyncApp, services: Services, command: str) -> None:
    ticket_command = TicketCommand(services, command)
    app.command(command)(ticket_command.handle)
    app.action(ids.SEARCH_MORE)(ticket_command.more)
