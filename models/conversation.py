"""Which ticket a mail belongs to, in the SPEC's order: the ticket hook in the subject,
then `In-Reply-To`/`References`, then (for the impatient customer) the same question
from the same sender while their ticket is still open.

A mail that names a ticket is only appended when its sender has taken part in that
ticket's conversation (customer, Cc, anyone we wrote to) or it references a mail we
sent for it: a stranger quoting someone else's ticket number gets a new ticket that
says which ticket it claimed to belong to, and nothing reaches the victim's thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.events import MatchReason
from models.facts import MailFacts
from models.followup import addresses, find_ticket_number, normalise_subject
from models.policy import Policy
from models.store.article import Article, ArticleKind
from models.store.ticket import Ticket, TicketState
from models.team import survivor_of

SAME_REQUEST_CANDIDATES = 10
MAX_REFERENCES = 100


@dataclass(frozen=True, slots=True)
class Target:
    """Append to `ticket`; or open a new ticket, linked to `linked` for `reason`."""

    ticket: Ticket | None
    append: bool
    linked: Ticket | None = None
    reason: MatchReason = MatchReason.NONE


NEW = Target(None, False)


async def correspondents(ticket: Ticket, policy: Policy) -> tuple[set[str], set[str]]:
    """(addresses that took part in the conversation, Message-IDs of mail we sent for it)."""
    rows = await Article.filter(
        ticket_id=ticket.id, kind__in=[ArticleKind.EMAIL_IN, ArticleKind.EMAIL_OUT]
    ).values("kind", "sender", "recipients", "cc", "message_id")
    people = addresses([ticket.customer_email])
    sent: set[str] = set()
    for row in rows:
        people |= addresses([row["sender"], *(row["recipients"] or []), *(row["cc"] or [])])
        if row["kind"] == ArticleKind.EMAIL_OUT and row["message_id"]:
            sent.add(row["message_id"])
    return people - policy.our_addresses, sent


async def may_join(ticket: Ticket, sender: str, references: set[str], policy: Policy) -> bool:
    people, sent = await correspondents(ticket, policy)
    return sender in people or bool(references & sent)


async def find_target(mail: MailFacts, policy: Policy, now: datetime) -> Target:
    sender = mail.sender.email.lower() if mail.sender else ""
    references = {*mail.in_reply_to, *mail.references}

    number = find_ticket_number(mail.subject, policy.ticket_hook)
    if number is not None:
        named = await Ticket.get_or_none(number=number)
        if named is not None:
            named = await survivor_of(named)  # a merged ticket's number leads on
            if await may_join(named, sender, references, policy):
                return Target(named, True, reason=MatchReason.HOOK)
            return Target(None, False, named, MatchReason.CLAIMED_NUMBER)

    if references:
        # The newest ids come last; a mail may claim thousands, a query takes a bounded few.
        recent = [*mail.in_reply_to, *mail.references[-MAX_REFERENCES:]][:MAX_REFERENCES]
        known = (
            await Article.filter(message_id__in=recent)
            .order_by("-id")
            .first()
            .prefetch_related("ticket")
        )
        if known is not None:
            if await may_join(known.ticket, sender, references, policy):
                return Target(known.ticket, True, reason=MatchReason.REFERENCES)
            return Target(None, False, known.ticket, MatchReason.CLAIMED_REFERENCE)

    return await same_request(mail, sender, policy, now)


async def same_request(mail: MailFacts, sender: str, policy: Policy, now: datetime) -> Target:
    """The same sender asking the same question again while their ticket is open."""
    if not sender or policy.same_request_window_hours <= 0:
        return NEW
    subject = normalise_subject(mail.subject, policy.ticket_hook)
    if not subject:
        return NEW
    since = now - timedelta(hours=policy.same_request_window_hours)
    candidates = (
        await Ticket.filter(customer_email=sender, last_activity_at__gte=since)
        .exclude(state=TicketState.CLOSED)
        .order_by("-id")
        .limit(SAME_REQUEST_CANDIDATES)
    )
    for ticket in candidates:
        if normalise_subject(ticket.subject, policy.ticket_hook) != subject:
            continue
        asked = await Article.filter(
            ticket_id=ticket.id, kind=ArticleKind.EMAIL_IN, sender=sender, created_at__gte=since
        ).exists()
        if asked:
            return Target(ticket, True, reason=MatchReason.SAME_REQUEST)
    return NEW
