"""What agents do to tickets: claim, release, reply, note, close, reopen.

Every operation is one transaction: the state change (guarded by a
compare-and-set where two agents could race), its history entry, and the
outbox rows for the Slack card, the thread and the mail. Callers get either
the result or a `Refused` whose message can be shown to the agent as is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import effects, sla_state
from models.autoreply import new_message_id
from models.claiming import claimable, take_claim
from models.clock import Clock, system_clock
from models.csat import ask_for_rating
from models.errors import MinutesOutOfRange
from models.errors import Refused as Refused  # noqa: PLC0414 (re-exported: work.Refused)
from models.events import HistoryEvent, Notice, Refusal
from models.lifecycle import Move, allowed, next_state
from models.numbers import reply_subject
from models.policy import Policy
from models.sla import SlaPolicy
from models.store.article import Article, ArticleKind
from models.store.ticket import History, Ticket, TicketState
from models.templates import fill, reply_values, with_signature

logger = logging.getLogger(__name__)

MAX_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class Agent:
    user_id: str
    name: str = ""
    is_lead: bool = False


@dataclass(frozen=True, slots=True)
class ClaimResult:
    ticket_id: int
    changed: bool


def held(ticket: Ticket, reason: Refusal = Refusal.HELD) -> Refused:
    """Someone else holds the ticket: who, so the agent can talk to them."""
    return Refused(reason, number=ticket.number, owner=ticket.owner_id or "")


async def _get(ticket_id: int) -> Ticket:
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        raise Refused(Refusal.NO_TICKET)
    return ticket


def _latest(now: datetime, last_closed_at: datetime | None) -> datetime:
    """A close's `last_closed_at`: the newest close time (the history's max, even if a
    clock ever stepped back)."""
    return now if last_closed_at is None else max(now, last_closed_at)


def _lock_expiry(policy: Policy, now: datetime) -> datetime:
    return now - timedelta(minutes=policy.lock_timeout_minutes)


async def _take(ticket_id: int, agent: Agent, policy: Policy, now: datetime) -> bool:
    """The claim's compare-and-set inside the caller's transaction (`claimable`: the same
    condition as a Claim click); the caller sets the state its own move leads to."""
    taken = await Ticket.filter(claimable(ticket_id, _lock_expiry(policy, now))).update(
        owner_id=agent.user_id, owner_active_at=now, updated_at=now
    )
    return taken == 1


async def claim(
    ticket_id: int,
    agent: Agent,
    policy: Policy,
    clock: Clock = system_clock,
    *,
    channel: str = "",
) -> ClaimResult:
    """Take the ticket; `Refused` names who holds it. Claiming your own ticket is a no-op."""
    now = clock()
    if await take_claim(ticket_id, agent.user_id, channel, policy, now):
        return ClaimResult(ticket_id, changed=True)
    current = await _get(ticket_id)
    if channel and current.slack_channel != channel:  # as if missing: tells nothing of it
        raise Refused(Refusal.NO_TICKET)
    if current.owner_id == agent.user_id:
        await Ticket.filter(id=ticket_id, owner_id=agent.user_id).update(owner_active_at=now)
        return ClaimResult(ticket_id, changed=False)
    if current.state == TicketState.CLOSED:
        raise Refused(Refusal.CLOSED, number=current.number)
    raise held(current)


async def release(
    ticket_id: int, agent: Agent, clock: Clock = system_clock, *, reason: str = ""
) -> Ticket:
    async with in_transaction():
        now = clock()
        ticket = await _get(ticket_id)
        if ticket.owner_id is None:
            raise Refused(Refusal.NOT_CLAIMED, number=ticket.number)
        if ticket.owner_id != agent.user_id and not agent.is_lead:
            raise held(ticket, Refusal.HELD_NO_RELEASE)
        state = ticket.state
        if allowed(Move.RELEASE, state):  # open means held: a released open ticket is new
            state = next_state(Move.RELEASE, state, owned=False)
        released = await Ticket.filter(
            id=ticket_id, owner_id=ticket.owner_id, state=ticket.state
        ).update(owner_id=None, owner_active_at=None, updated_at=now, state=state)
        if not released:
            raise Refused(Refusal.RACE)
        await History.create(
            ticket_id=ticket_id,
            event=HistoryEvent.RELEASED,
            actor=agent.user_id,
            detail={"owner": ticket.owner_id, **({"reason": reason} if reason else {})},
            created_at=now,
        )
        if ticket.owner_id != agent.user_id:
            facts = {"agent": agent.user_id, "owner": ticket.owner_id}
            await effects.post_notice(ticket_id, Notice.RELEASED_BY, facts, clock)
        await effects.update_card(ticket_id, clock)
        return await _get(ticket_id)


async def _claim_for_work(ticket: Ticket, agent: Agent, policy: Policy, now: datetime) -> None:
    """Replying or closing claims an unclaimed ticket; someone else's claim refuses."""
    if ticket.owner_id == agent.user_id:
        await Ticket.filter(id=ticket.id).update(owner_active_at=now)
        return
    if not await _take(ticket.id, agent, policy, now):
        raise held(await _get(ticket.id))
    await Ticket.filter(id=ticket.id).update(claimed_at=now)
    await History.create(
        ticket_id=ticket.id,
        event=HistoryEvent.CLAIMED,
        actor=agent.user_id,
        detail={},
        created_at=now,
    )


def check_minutes(minutes: int) -> int:
    if not 0 <= minutes <= MAX_MINUTES:
        raise MinutesOutOfRange(minutes, MAX_MINUTES)
    return minutes


def reply_recipient(ticket: Ticket) -> str:
    """Where agents' replies go: the ticket's customer (or the single Reply-To of the mail
    that opened it), never an address a later mail slipped in (SPEC "Hostile mail")."""
    return ticket.reply_address or ticket.customer_email


def signature(agent: Agent, policy: Policy, ticket: Ticket | None = None) -> str:
    """What goes under an agent's reply: the queue's `signature` (placeholders filled) when
    it has one, else the agent's name and the team's."""
    queue = policy.queue(ticket.queue) if ticket is not None else None
    if queue is None or not queue.signature.strip():
        return f"\n\n-- \n{agent.name or 'Support'}\n{policy.display_name}\n"
    values = reply_values(
        customer_name=ticket.customer_name if ticket else "",
        number=ticket.number if ticket else "",
        subject=ticket.subject if ticket else "",
        agent_name=agent.name or policy.display_name,
    )
    return with_signature("", fill(queue.signature, values))


async def reply(
    ticket_id: int,
    agent: Agent,
    text: str,
    policy: Policy,
    *,
    close_after: bool = False,
    minutes: int = 0,
    clock: Clock = system_clock,
) -> Article:
    """Email the customer; claims an unclaimed ticket; state → pending (or closed)."""
    body = text.strip()
    if not body:
        raise Refused(Refusal.EMPTY_REPLY)
    check_minutes(minutes)
    async with in_transaction():
        now = clock()
        ticket = await _get(ticket_id)
        await _claim_for_work(ticket, agent, policy, now)
        latest = (
            await Article.filter(ticket_id=ticket_id, kind=ArticleKind.EMAIL_IN)
            .order_by("-id")
            .first()
        )
        recipient = reply_recipient(ticket)
        if not recipient:
            raise Refused(Refusal.NO_CUSTOMER)
        references = [*latest.references, latest.message_id] if latest and latest.message_id else []
        queue = policy.queue(ticket.queue)
        sender = min(queue.addresses) if queue.addresses else policy.address
        article = await Article.create(
            ticket_id=ticket_id,
            kind=ArticleKind.EMAIL_OUT,
            author=agent.user_id,
            author_name=agent.name[:200],
            sender=sender if sender in policy.our_addresses else policy.address,
            recipients=[recipient],
            to_address=recipient.lower(),
            subject=reply_subject(policy.ticket_hook, ticket.number, ticket.subject),
            body=body + signature(agent, policy, ticket),
            message_id=new_message_id(policy, ticket.number),
            in_reply_to=latest.message_id if latest else None,
            references=[r for r in references if r][-20:],
            minutes_spent=minutes,
            created_at=now,
        )
        move = Move.REPLY_AND_CLOSE if close_after else Move.REPLY
        state = next_state(move, ticket.state, owned=True)
        await Ticket.filter(id=ticket_id).update(
            state=state,
            updated_at=now,
            last_activity_at=now,
            closed_at=now if close_after else None,
            **({"last_closed_at": _latest(now, ticket.last_closed_at)} if close_after else {}),
        )
        await Ticket.filter(id=ticket_id, first_response_at=None).update(first_response_at=now)
        await sla_state.refresh(ticket_id, policy.sla, now)
        await History.create(
            ticket_id=ticket_id,
            event=HistoryEvent.REPLIED,
            actor=agent.user_id,
            detail={"article_id": article.id, "minutes": minutes, "state": state.value},
            created_at=now,
        )
        if close_after:
            await History.create(
                ticket_id=ticket_id,
                event=HistoryEvent.CLOSED,
                actor=agent.user_id,
                detail={},
                created_at=now,
            )
        await effects.send_mail(ticket_id, article.id, clock)
        if close_after:  # after the answer: its mail goes first (one mail stream)
            await ask_for_rating(
                ticket, policy, agent=agent.user_id, recipient=recipient, now=now, clock=clock
            )
        await effects.post_article(ticket_id, article.id, clock)
        await effects.update_card(ticket_id, clock)
        return article


async def note(
    ticket_id: int,
    agent: Agent,
    text: str,
    *,
    minutes: int = 0,
    slack_ts: str | None = None,
    channel: str = "",
    clock: Clock = system_clock,
) -> Article | None:
    """An internal note, never emailed. From a thread message (`slack_ts`) it is confirmed
    with a reaction instead of a repost; the same message delivered twice is one note."""
    body = text.strip()
    if not body:
        raise Refused(Refusal.EMPTY_NOTE)
    check_minutes(minutes)
    async with in_transaction():
        now = clock()
        ticket = await _get(ticket_id)
        if slack_ts and await Article.exists(ticket_id=ticket_id, slack_ts=slack_ts):
            return None
        article = await Article.create(
            ticket_id=ticket_id,
            kind=ArticleKind.NOTE,
            author=agent.user_id,
            author_name=agent.name[:200],
            body=body,
            minutes_spent=minutes,
            slack_ts=slack_ts,
            created_at=now,
        )
        if ticket.owner_id == agent.user_id:
            await Ticket.filter(id=ticket_id).update(owner_active_at=now)
        await Ticket.filter(id=ticket_id).update(last_activity_at=now, updated_at=now)
        await History.create(
            ticket_id=ticket_id,
            event=HistoryEvent.NOTED,
            actor=agent.user_id,
            detail={"article_id": article.id, "minutes": minutes},
            created_at=now,
        )
        if slack_ts:
            await effects.add_reaction(ticket_id, channel, slack_ts, "memo", clock)
        else:
            await effects.post_article(ticket_id, article.id, clock)
        return article


async def close(
    ticket_id: int,
    agent: Agent,
    policy: Policy,
    *,
    text: str = "",
    minutes: int = 0,
    clock: Clock = system_clock,
) -> Ticket:
    check_minutes(minutes)
    async with in_transaction():
        now = clock()
        ticket = await _get(ticket_id)
        if not allowed(Move.CLOSE, ticket.state):
            raise Refused(Refusal.ALREADY_CLOSED, number=ticket.number)
        if ticket.owner_id and ticket.owner_id != agent.user_id and not agent.is_lead:
            raise held(ticket)
        closed = await Ticket.filter(id=ticket_id, state=ticket.state).update(
            state=next_state(Move.CLOSE, ticket.state, owned=bool(ticket.owner_id)),
            closed_at=now,
            last_closed_at=_latest(now, ticket.last_closed_at),
            updated_at=now,
            last_activity_at=now,
        )
        if not closed:
            raise Refused(Refusal.RACE)
        await sla_state.refresh(ticket_id, policy.sla, now)
        if text.strip() or minutes:
            article = await Article.create(
                ticket_id=ticket_id,
                kind=ArticleKind.NOTE,
                author=agent.user_id,
                author_name=agent.name[:200],
                body=text.strip() or f"Closed ({minutes} min).",
                minutes_spent=minutes,
                created_at=now,
            )
            await effects.post_article(ticket_id, article.id, clock)
        await History.create(
            ticket_id=ticket_id,
            event=HistoryEvent.CLOSED,
            actor=agent.user_id,
            detail={"from": ticket.state.value, "minutes": minutes},
            created_at=now,
        )
        await effects.post_notice(ticket_id, Notice.CLOSED_BY, {"agent": agent.user_id}, clock)
        await ask_for_rating(
            ticket,
            policy,
            agent=ticket.owner_id or agent.user_id,
            recipient=reply_recipient(ticket),
            now=now,
            clock=clock,
        )
        await effects.update_card(ticket_id, clock)
        return await _get(ticket_id)


async def reopen(
    ticket_id: int, agent: Agent, clock: Clock = system_clock, *, sla: SlaPolicy | None = None
) -> Ticket:
    """Closed → open/new; the resolution clock runs on (`sla`: the service levels)."""
    async with in_transaction():
        now = clock()
        ticket = await _get(ticket_id)
        if ticket.merged_into_id is not None:  # it lives on in the survivor
            survivor = await Ticket.get(id=ticket.merged_into_id)
            raise Refused(Refusal.MERGED, number=ticket.number, survivor=survivor.number)
        if not allowed(Move.REOPEN, ticket.state):
            raise Refused(Refusal.NOT_CLOSED, number=ticket.number)
        state = next_state(Move.REOPEN, ticket.state, owned=bool(ticket.owner_id))
        reopened = await Ticket.filter(id=ticket_id, state=TicketState.CLOSED).update(
            state=state, closed_at=None, updated_at=now, last_activity_at=now
        )
        if not reopened:
            raise Refused(Refusal.RACE)
        await sla_state.refresh(ticket_id, sla, now)
        await History.create(
            ticket_id=ticket_id,
            event=HistoryEvent.REOPENED,
            actor=agent.user_id,
            detail={"state": state.value},
            created_at=now,
        )
        await effects.post_notice(ticket_id, Notice.REOPENED_BY, {"agent": agent.user_id}, clock)
        await effects.update_card(ticket_id, clock)
        return await _get(ticket_id)
