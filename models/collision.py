"""Collision warning: who is writing a reply right now, and what arrived meanwhile.

Opening the Reply form records "agent X is replying to ticket T since t"; the card shows
it until the form is sent or closed, or `REPLYING_MINUTES` pass (a form left open in a
browser tab says nothing after that). Sending checks what arrived after the form was
opened — a customer mail, another agent's reply — so the agent can confirm first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import effects
from models.clock import Clock, system_clock
from models.store.article import Article, ArticleKind
from models.store.ticket import Replying

REPLYING_MINUTES = 15
#: What the confirmation step lists at most (the newest first).
MAX_ARRIVED = 5


@dataclass(frozen=True, slots=True)
class Writer:
    """An agent with the Reply form open."""

    user_id: str
    name: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Arrived:
    """A mail or reply that arrived after a Reply form was opened."""

    kind: ArticleKind
    author: str  # a customer's address, or an agent's user id
    author_name: str
    text: str
    at: datetime


def stale_before(now: datetime) -> datetime:
    return now - timedelta(minutes=REPLYING_MINUTES)


async def start_replying(
    ticket_id: int, user_id: str, name: str, clock: Clock = system_clock
) -> datetime:
    """Record that `user_id` opened the Reply form (again: `since` moves on); the card is
    updated. Returns the moment recorded."""
    now = clock()
    async with in_transaction():
        updated = await Replying.filter(ticket_id=ticket_id, user_id=user_id).update(
            since=now, user_name=name[:200]
        )
        if not updated:
            try:
                async with in_transaction():
                    await Replying.create(
                        ticket_id=ticket_id, user_id=user_id, user_name=name[:200], since=now
                    )
            except IntegrityError:  # the same agent's other click, a moment earlier
                await Replying.filter(ticket_id=ticket_id, user_id=user_id).update(since=now)
        await effects.update_card(ticket_id, clock)
    return now


async def stop_replying(ticket_id: int, user_id: str, clock: Clock = system_clock) -> bool:
    """The form was sent or closed: forget it; the card is updated when it said so."""
    async with in_transaction():
        gone = await Replying.filter(ticket_id=ticket_id, user_id=user_id).delete()
        if gone:
            await effects.update_card(ticket_id, clock)
    return bool(gone)


async def writers(ticket_id: int, now: datetime) -> list[Writer]:
    """Who is replying to the ticket now (stale rows do not count, whether or not the job
    has cleared them yet: the expiry is computed when the card is rendered)."""
    rows = await Replying.filter(ticket_id=ticket_id, since__gte=stale_before(now)).order_by(
        "since"
    )
    return [Writer(r.user_id, r.user_name, r.since) for r in rows]


async def expire_replying(clock: Clock = system_clock) -> list[int]:
    """The job: forget forms open longer than `REPLYING_MINUTES`, update those cards."""
    now = clock()
    async with in_transaction():
        stale = Replying.filter(since__lt=stale_before(now))
        ticket_ids = sorted({int(str(t)) for t in await stale.values_list("ticket_id", flat=True)})
        if not ticket_ids:
            return []
        await Replying.filter(since__lt=stale_before(now)).delete()
        for ticket_id in ticket_ids:
            await effects.update_card(ticket_id, clock)
    return ticket_ids


async def arrived_since(ticket_id: int, user_id: str, since: datetime) -> list[Arrived]:
    """Customer mail and other agents' replies stored after `since`, newest first.

    Our own automatic answers and the agent's own replies do not count: they cannot make
    the customer get two different answers."""
    rows = (
        await Article.filter(
            Q(kind=ArticleKind.EMAIL_IN) | (Q(kind=ArticleKind.EMAIL_OUT) & ~Q(author=user_id)),
            ticket_id=ticket_id,
            created_at__gt=since,
            is_autoreply=False,
        )
        .order_by("-created_at", "-id")
        .limit(MAX_ARRIVED)
    )
    return [
        Arrived(a.kind, a.author, a.author_name, a.display_text or a.body, a.created_at)
        for a in rows
    ]
