"""Read models: what the Slack card and commands show, loaded from the database."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from tortoise.functions import Count

from models.collision import Writer, writers
from models.priority import Priority
from models.sla import SlaPolicy
from models.sla_state import ClockView, TicketClocks, running_clocks
from models.store.article import Article, ArticleKind, Attachment
from models.store.ticket import Ticket, TicketState
from models.team import by_priority


@dataclass(frozen=True, slots=True)
class TicketSummary:
    id: int
    number: str
    queue: str
    subject: str
    customer_name: str
    customer_email: str
    state: TicketState
    owner_id: str | None
    created_at: datetime
    excerpt: str
    attachment_count: int
    slack_channel: str
    slack_ts: str | None
    linked_number: str | None = None
    link_reason: str = ""
    reply_address: str = ""  # where replies go when not to customer_email
    incomplete: str | None = None  # why the first mail could not be read fully
    writers: tuple[Writer, ...] = ()  # agents with the Reply form open (collision warning)
    priority: Priority = Priority.NORMAL
    merged_into_number: str | None = None  # merged: the card points there, no buttons
    clocks: tuple[ClockView, ...] = ()  # running service-level clocks (with `sla:`)


async def ticket_summary(ticket_id: int, sla: SlaPolicy | None = None) -> TicketSummary:
    ticket = await Ticket.get(id=ticket_id).prefetch_related("linked_ticket", "merged_into")
    # Its own first mail: a ticket merged into this one may have brought older mails along.
    mails = Article.filter(ticket_id=ticket_id, kind=ArticleKind.EMAIL_IN)
    first = (
        await mails.filter(created_at__gte=ticket.created_at).order_by("created_at", "id").first()
        or await mails.order_by("id").first()
    )
    attachments = (
        await Attachment.filter(article__ticket_id=ticket_id, is_inline=False).count()
        if first is not None
        else 0
    )
    excerpt = (first.display_text or first.body) if first else ""
    summary = summarise(ticket, excerpt, attachments, first.incomplete if first else None)
    now = datetime.now(UTC)
    clocks = tuple(running_clocks(sla, TicketClocks.of(ticket), now))
    return replace(summary, writers=tuple(await writers(ticket_id, now)), clocks=clocks)


def summarise(
    ticket: Ticket, excerpt: str, attachment_count: int, incomplete: str | None = None
) -> TicketSummary:
    linked = ticket.linked_ticket if ticket.linked_ticket_id else None
    merged_into = ticket.merged_into if ticket.merged_into_id else None
    return TicketSummary(
        id=ticket.id,
        number=ticket.number,
        queue=ticket.queue,
        subject=ticket.subject,
        customer_name=ticket.customer_name,
        customer_email=ticket.customer_email,
        state=ticket.state,
        owner_id=ticket.owner_id,
        created_at=ticket.created_at,
        excerpt=excerpt,
        attachment_count=attachment_count,
        slack_channel=ticket.slack_channel,
        slack_ts=ticket.slack_ts,
        linked_number=linked.number if linked else None,
        link_reason=ticket.link_reason,
        reply_address=ticket.reply_address,
        incomplete=incomplete,
        priority=ticket.priority,
        merged_into_number=merged_into.number if merged_into else None,
    )


async def ticket_of_card(channel: str, ts: str) -> Ticket | None:
    """The ticket whose card is the message `ts` in `channel` (a thread's parent)."""
    return await Ticket.get_or_none(slack_channel=channel, slack_ts=ts)


async def visible_ticket(number: str, channels: Collection[str]) -> Ticket | None:
    """The ticket numbered `number` if it lives in one of `channels`: one query, so a ticket
    of another queue and no ticket at all are the same answer (and the same work)."""
    if not channels:
        return None
    return await Ticket.get_or_none(number=number, slack_channel__in=list(channels))


async def conversation_of(ticket_id: int) -> list[Article]:
    """Every article of a ticket, oldest first (mails, replies, notes; a merged ticket's
    articles joined it, so time orders them, not ids)."""
    return await Article.filter(ticket_id=ticket_id).order_by("created_at", "id")


async def waiting_cards(channel: str) -> int:
    """Tickets of `channel` whose card is not posted yet (a flood drains through these)."""
    return await Ticket.filter(slack_channel=channel, slack_ts__isnull=True).count()


async def open_tickets_of(
    user_id: str, *, channels: Collection[str], limit: int = 20
) -> list[Ticket]:
    """Tickets `user_id` holds that are not closed, in `channels` (the queues they may see
    now: a ticket kept from a queue they left is not theirs to see): closest to a
    service-level breach first, then most pressing, then oldest."""
    if not channels:
        return []
    held = Ticket.filter(owner_id=user_id, slack_channel__in=list(channels)).exclude(
        state=TicketState.CLOSED
    )
    # An agent holds a handful: all of them (up to a bound) are ordered by urgency here.
    return by_urgency(await by_priority(held).limit(MAX_HELD))[:limit]


#: How many held tickets App Home orders by their due instants before showing `limit`.
MAX_HELD = 500


def nearest_due(ticket: Ticket) -> datetime | None:
    """The nearest due instant of the ticket's running service-level clocks, if any."""
    dues = [d for d in (ticket.sla_first_due_at, ticket.sla_resolution_due_at) if d is not None]
    return min(dues, default=None)


def by_urgency(tickets: list[Ticket]) -> list[Ticket]:
    """Closest to a breach first (the nearest running due instant; overdue ones lead), the
    tickets without a running deadline after them in the order they came (pure)."""
    due = [(nearest_due(t), i, t) for i, t in enumerate(tickets)]
    timed = sorted((d, i, t) for d, i, t in due if d is not None)
    return [t for _, _, t in timed] + [t for d, _, t in due if d is None]


async def unclaimed_in(channels: Collection[str], *, limit: int = 20) -> list[Ticket]:
    """Tickets waiting for an owner in `channels`, most pressing first, then oldest."""
    if not channels:
        return []
    waiting = Ticket.filter(owner_id=None, slack_channel__in=list(channels)).exclude(
        state=TicketState.CLOSED
    )
    return await by_priority(waiting).limit(limit)


async def unclaimed_by_queue(queues: Collection[str]) -> dict[str, int]:
    """How many tickets wait for an owner in each of `queues` (by name; none waiting:
    absent)."""
    if not queues:
        return {}
    rows = (
        await Ticket.filter(owner_id=None, queue__in=list(queues))
        .exclude(state=TicketState.CLOSED)
        .annotate(waiting=Count("id"))
        .group_by("queue")
        .values("queue", "waiting")
    )
    return {str(row["queue"]): int(row["waiting"]) for row in rows}
