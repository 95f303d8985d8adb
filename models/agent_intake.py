"""Tickets an agent opens for a customer: from a Slack message, or for a phone call.

The same intake as mail (`models.intake`): a ticket number from the daily counter, the
customer's request as the first article, a `created` history entry, the card and — when
asked for — the acknowledgement in the queue's locale, all in one transaction through
the outbox. The article is the customer's request (kind `email_in`, no Message-ID: it
came by no mail); history records which agent opened it and from where.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tortoise.transactions import in_transaction

from models import effects
from models.autoreply import acknowledgement, autoreply_refusal
from models.clock import Clock, system_clock
from models.events import HistoryEvent
from models.intake import (
    IntakeResult,
    autoreply_suppressed,
    create_ticket,
    queue_autoreply,
    recent_answers,
)
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind
from models.store.ticket import History, Ticket

Source = Literal["slack", "phone"]
MAX_TEXT = 40_000


@dataclass(frozen=True, slots=True)
class Request:
    """What the agent entered (or the Slack message said)."""

    customer_email: str
    customer_name: str
    subject: str
    text: str
    source: Source
    agent: str  # the Slack user id of the agent opening it
    permalink: str = ""  # the Slack message it came from
    acknowledge: bool = False


def first_article_text(request: Request) -> str:
    """The request as stored: a Slack message keeps a link back to where it was written."""
    text = request.text.strip()[:MAX_TEXT]
    if request.permalink:
        text = f"{text}\n\n(From a Slack message: {request.permalink})"
    return text


async def open_for_customer(
    request: Request, queue: QueueRoute, policy: Policy, clock: Clock = system_clock
) -> IntakeResult:
    """Open the ticket; the acknowledgement obeys the same loop and flood caps as mail's."""
    async with in_transaction() as connection:
        now = clock()
        email = request.customer_email.strip().lower()
        subject = " ".join(request.subject.split())[:998]
        ticket = await create_ticket(
            connection,
            policy,
            queue,
            now,
            subject=subject,
            customer_email=email,
            customer_name=request.customer_name.strip(),
        )
        number = ticket.number
        article = await Article.create(
            ticket=ticket,
            kind=ArticleKind.EMAIL_IN,
            author=email,
            author_name=request.customer_name.strip()[:200],
            sender=email,
            to_address=email,
            subject=subject,
            body=first_article_text(request),
            created_at=now,
        )
        detail: dict[str, object] = {
            "queue": queue.name,
            "source": request.source,
            "article_id": article.id,
        }
        if request.permalink:
            detail["permalink"] = request.permalink
        await History.create(
            ticket=ticket,
            event=HistoryEvent.CREATED,
            actor=request.agent,
            detail=detail,
            created_at=now,
        )
        await effects.post_card(ticket.id, clock)
        queued, note = False, "not asked for"
        if request.acknowledge:
            queued, note = await _acknowledge(ticket, queue, policy, clock)
        return IntakeResult(
            "new_ticket", ticket.id, number, autoreply_queued=queued, note=note, queue=queue.name
        )


async def _acknowledge(
    ticket: Ticket, queue: QueueRoute, policy: Policy, clock: Clock
) -> tuple[bool, str]:
    now = clock()
    recipient = ticket.customer_email
    refusal = autoreply_refusal(
        policy=policy,
        sender=recipient,
        is_automatic=False,
        automatic_reason=None,
        is_bounce=False,
        recent=await recent_answers(recipient, now),
    )
    if refusal is not None:
        await autoreply_suppressed(ticket, refusal, now)
        return False, refusal
    subject, body = acknowledgement(policy, ticket.number, ticket.subject, queue)
    await queue_autoreply(
        ticket, policy, recipient=recipient, subject=subject, body=body, now=now, clock=clock
    )
    return True, ""
