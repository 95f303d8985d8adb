"""Working as a team: priority, transfer to another queue, merge, the customer's history.

Like `models.work`, every change is one transaction: the guarded update, its history
rows and the outbox rows that tell Slack (SPEC "Working as a team"). Who may do it
(an agent of the queue, of both queues for a merge) is Slack's to tell: the adapter
checks channel membership before it calls in here, as it does for every card button.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tortoise.expressions import Case, When
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import effects, sla_state
from models.clock import Clock, system_clock
from models.errors import Refused
from models.events import HistoryEvent, Notice, Refusal
from models.lifecycle import Move, allowed, next_state
from models.policy import Policy
from models.priority import PRIORITY_ORDER, Priority
from models.sla import SlaPolicy
from models.store.article import Article
from models.store.ticket import History, Ticket, TicketState
from models.work import Agent

#: A chain of merges is followed at most this far (each merge refuses a merged target,
#: so a real chain is one step; this only bounds a database edited by hand).
MAX_MERGE_HOPS = 10


def by_priority(query: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Most pressing first (`PRIORITY_ORDER`), then oldest: `/ticket queue`, App Home."""
    rank = Case(
        *(
            When(priority=priority.value, then=str(index))
            for index, priority in enumerate(PRIORITY_ORDER)
        ),
        default=str(len(PRIORITY_ORDER)),
    )
    return query.annotate(priority_rank=rank).order_by("priority_rank", "created_at", "id")


async def _get(ticket_id: int) -> Ticket:
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        raise Refused(Refusal.NO_TICKET)
    return ticket


async def survivor_of(ticket: Ticket) -> Ticket:
    """The ticket a merged ticket lives on in (itself when it was never merged)."""
    current = ticket
    for _ in range(MAX_MERGE_HOPS):
        if current.merged_into_id is None:
            return current
        found = await Ticket.get_or_none(id=current.merged_into_id)
        if found is None:
            return current
        current = found
    return current


async def _refuse_merged(ticket: Ticket) -> None:
    """A merged ticket lives on in its survivor: nothing is done to it any more."""
    if ticket.merged_into_id is not None:
        survivor = await survivor_of(ticket)
        raise Refused(Refusal.MERGED, number=ticket.number, survivor=survivor.number)


async def set_priority(
    ticket_id: int,
    agent: Agent,
    priority: Priority,
    clock: Clock = system_clock,
    *,
    sla: SlaPolicy | None = None,
) -> bool:
    """Change the priority; False when it already was that. Any agent of the queue may,
    whoever holds the ticket: it says how urgent the customer's case is, not who works.
    The service-level clocks are recomputed with the new priority's targets (`sla`)."""
    async with in_transaction():
        now = clock()
        ticket = await _get(ticket_id)
        await _refuse_merged(ticket)
        if ticket.priority == priority:
            return False
        changed = await Ticket.filter(id=ticket_id, priority=ticket.priority).update(
            priority=priority, updated_at=now
        )
        if not changed:
            raise Refused(Refusal.RACE)
        await sla_state.refresh(ticket_id, sla, now)
        await History.create(
            ticket_id=ticket_id,
            event=HistoryEvent.PRIORITY_CHANGED,
            actor=agent.user_id,
            detail={"from": ticket.priority.value, "to": priority.value},
            created_at=now,
        )
        await effects.update_card(ticket_id, clock)
        return True


async def transfer(
    ticket_id: int,
    agent: Agent,
    to_queue: str,
    policy: Policy,
    *,
    owner_stays: bool,
    clock: Clock = system_clock,
) -> Ticket:
    """Move the ticket to the queue `to_queue`: its card is posted in that queue's channel
    and the old card becomes a pointer (`effects.move_card`, one outbox item, so a crash
    half-way neither loses the card nor posts it twice); the next thread posts follow it.

    The claim stays only when `owner_stays` (the adapter asked whether the owner is an agent
    of the new queue); else it is dropped as a release would (open → new).
    """
    route = next((q for q in policy.queues if q.name == to_queue), None)
    if route is None:
        raise Refused(Refusal.NO_QUEUE, queue=to_queue)
    async with in_transaction():
        now = clock()
        ticket = await _get(ticket_id)
        await _refuse_merged(ticket)
        if ticket.queue == route.name:
            raise Refused(Refusal.SAME_QUEUE, number=ticket.number, queue=route.name)
        changes: dict[str, object] = {"queue": route.name, "updated_at": now}
        dropped = ticket.owner_id if ticket.owner_id and not owner_stays else None
        if dropped:
            changes |= {"owner_id": None, "owner_active_at": None}
            if allowed(Move.RELEASE, ticket.state):
                changes["state"] = next_state(Move.RELEASE, ticket.state, owned=False)
        moved = await Ticket.filter(
            id=ticket_id, queue=ticket.queue, owner_id=ticket.owner_id, merged_into_id=None
        ).update(**changes)
        if not moved:
            raise Refused(Refusal.RACE)
        await sla_state.refresh(ticket_id, policy.sla, now)  # the new queue's targets
        detail: dict[str, object] = {"from": ticket.queue, "to": route.name}
        if dropped:
            detail["released"] = dropped
        await History.create(
            ticket_id=ticket_id,
            event=HistoryEvent.TRANSFERRED,
            actor=agent.user_id,
            detail=detail,
            created_at=now,
        )
        pointer = {
            "agent": agent.user_id,
            "number": f"{policy.ticket_hook}{ticket.number}",
            "queue": route.name,
        }
        await effects.move_card(ticket_id, route.channel, pointer, clock)
        facts = {"agent": agent.user_id, "queue": ticket.queue}
        await effects.post_notice(ticket_id, Notice.MOVED_FROM, facts, clock)
        return await _get(ticket_id)


async def merge(
    merged_id: int, survivor_id: int, agent: Agent, policy: Policy, clock: Clock = system_clock
) -> Ticket:
    """Merge one ticket into another: its articles (with their attachments and minutes)
    move to the survivor; it is closed with `merged_into` set, so its number, its card and
    mail to it lead to the survivor. Both histories say so; its own history rows stay
    where they were written (`history_of` shows them with the survivor's) so that reports
    count every claim, reply and close once.
    """
    hook = policy.ticket_hook
    async with in_transaction():
        now = clock()
        # Both rows locked in id order: two agents merging A into B and B into A at once
        # wait for each other instead of deadlocking (one then finds the other merged).
        await Ticket.filter(id__in=[merged_id, survivor_id]).order_by("id").select_for_update()
        merged = await _get(merged_id)
        survivor = await _get(survivor_id)
        if merged.id == survivor.id:
            raise Refused(Refusal.MERGE_SELF, number=merged.number)
        await _refuse_merged(merged)
        if survivor.merged_into_id is not None:
            final = await survivor_of(survivor)
            raise Refused(Refusal.MERGE_INTO_MERGED, number=survivor.number, survivor=final.number)
        closed = await Ticket.filter(id=merged.id, merged_into_id=None, state=merged.state).update(
            merged_into_id=survivor.id,
            state=TicketState.CLOSED,
            closed_at=merged.closed_at or now,
            updated_at=now,
            last_activity_at=now,
        )
        # The survivor must not be merged away in the same moment (its row is the anchor).
        anchored = await Ticket.filter(id=survivor.id, merged_into_id=None).update(
            updated_at=now, last_activity_at=now
        )
        if not closed or not anchored:
            raise Refused(Refusal.RACE)
        await sla_state.refresh(merged.id, policy.sla, now)
        moved = await Article.filter(ticket_id=merged.id).update(ticket_id=survivor.id)
        await History.create(
            ticket_id=merged.id,
            event=HistoryEvent.MERGED_INTO,
            actor=agent.user_id,
            detail={"into": survivor.number, "articles": moved, "state": merged.state.value},
            created_at=now,
        )
        await History.create(
            ticket_id=survivor.id,
            event=HistoryEvent.MERGED_FROM,
            actor=agent.user_id,
            detail={"merged": merged.number, "articles": moved},
            created_at=now,
        )
        await effects.update_card(merged.id, clock)  # the card renders as a pointer now
        facts = {"agent": agent.user_id, "number": f"{hook}{merged.number}"}
        await effects.post_notice(survivor.id, Notice.MERGED_FROM, facts, clock)
        await effects.update_card(survivor.id, clock)
        return await _get(survivor.id)


async def history_of(ticket_id: int) -> list[History]:
    """The ticket's history with that of every ticket merged into it, oldest first."""
    ids = [ticket_id]
    frontier = [ticket_id]
    for _ in range(MAX_MERGE_HOPS):
        rows = await Ticket.filter(merged_into_id__in=frontier).values("id")
        frontier = [int(row["id"]) for row in rows if int(row["id"]) not in ids]
        if not frontier:
            break
        ids += frontier
    return await History.filter(ticket_id__in=ids).order_by("created_at", "id")


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """The customer's other tickets the asker may see (newest first), and how many of
    theirs are in queues the asker does not work in."""

    tickets: list[Ticket]
    hidden: int


CUSTOMER_HISTORY_LIMIT = 10


async def customer_history(
    ticket: Ticket, channels: Collection[str], *, limit: int = CUSTOMER_HISTORY_LIMIT
) -> CustomerHistory:
    """Same customer address (any case), this ticket left out. A ticket is seen where its
    card is (`slack_channel`), as for `/ticket show` (SPEC "Who may see what")."""
    if not ticket.customer_email:
        return CustomerHistory([], 0)
    theirs = Ticket.filter(customer_email__iexact=ticket.customer_email).exclude(id=ticket.id)
    visible = list(channels)
    tickets = (
        await theirs.filter(slack_channel__in=visible).order_by("-created_at", "-id").limit(limit)
        if visible
        else []
    )
    hidden = await (theirs.exclude(slack_channel__in=visible) if visible else theirs).count()
    return CustomerHistory(list(tickets), hidden)
