"""Where a ticket's state goes, in one table: every move names the states it starts from
and where each leads, given whether the ticket has an owner afterwards.

`new` is waiting for someone, `open` is held by someone, `pending` waits for the
customer, `closed` is done. Claim, release, reply, close, reopen, the customer's
follow-up and the lock timeout all ask `next_state`; the claim's SQL on PostgreSQL is
written from the same table (`claimable_states`), so no rule exists twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from models.store.ticket import TicketState

NEW, OPEN, PENDING, CLOSED = (
    TicketState.NEW,
    TicketState.OPEN,
    TicketState.PENDING,
    TicketState.CLOSED,
)


class Move(StrEnum):
    CLAIM = "claim"
    RELEASE = "release"
    LOCK_TIMEOUT = "lock_timeout"
    REPLY = "reply"
    REPLY_AND_CLOSE = "reply_and_close"
    CLOSE = "close"
    REOPEN = "reopen"
    CUSTOMER_WROTE = "customer_wrote"


#: (move, state before) → (state after when someone holds it, state after when no one does).
#: A state not listed for a move refuses that move.
TRANSITIONS: Mapping[tuple[Move, TicketState], tuple[TicketState, TicketState]] = {
    (Move.CLAIM, NEW): (OPEN, NEW),
    (Move.CLAIM, OPEN): (OPEN, NEW),
    (Move.CLAIM, PENDING): (PENDING, PENDING),  # answered, still waiting for the customer
    (Move.RELEASE, OPEN): (OPEN, NEW),
    (Move.RELEASE, PENDING): (PENDING, PENDING),
    (Move.RELEASE, CLOSED): (CLOSED, CLOSED),
    (Move.LOCK_TIMEOUT, OPEN): (OPEN, NEW),
    (Move.REPLY, NEW): (PENDING, PENDING),
    (Move.REPLY, OPEN): (PENDING, PENDING),
    (Move.REPLY, PENDING): (PENDING, PENDING),
    (Move.REPLY, CLOSED): (PENDING, PENDING),  # answering after close: waits for them again
    (Move.REPLY_AND_CLOSE, NEW): (CLOSED, CLOSED),
    (Move.REPLY_AND_CLOSE, OPEN): (CLOSED, CLOSED),
    (Move.REPLY_AND_CLOSE, PENDING): (CLOSED, CLOSED),
    (Move.REPLY_AND_CLOSE, CLOSED): (CLOSED, CLOSED),
    (Move.CLOSE, NEW): (CLOSED, CLOSED),
    (Move.CLOSE, OPEN): (CLOSED, CLOSED),
    (Move.CLOSE, PENDING): (CLOSED, CLOSED),
    (Move.REOPEN, CLOSED): (OPEN, NEW),
    (Move.CUSTOMER_WROTE, NEW): (OPEN, NEW),
    (Move.CUSTOMER_WROTE, OPEN): (OPEN, NEW),
    (Move.CUSTOMER_WROTE, PENDING): (OPEN, NEW),
    (Move.CUSTOMER_WROTE, CLOSED): (OPEN, NEW),
}


def allowed(move: Move, state: TicketState) -> bool:
    return (move, state) in TRANSITIONS


def next_state(move: Move, state: TicketState, *, owned: bool) -> TicketState:
    """The state after `move` from `state`; `owned`: someone holds the ticket afterwards.
    Raises KeyError for a move the table does not allow (callers check `allowed` first)."""
    held, free = TRANSITIONS[(move, state)]
    return held if owned else free


def from_states(move: Move) -> tuple[TicketState, ...]:
    """The states `move` may start from, in the enum's order."""
    return tuple(state for state in TicketState if allowed(move, state))


def claimable_states() -> tuple[TicketState, ...]:
    return from_states(Move.CLAIM)


def claim_state_sql(column: str) -> str:
    """SQL for the state after a claim, from the table: CASE over `column`."""
    cases = " ".join(
        f"WHEN '{state.value}' THEN '{next_state(Move.CLAIM, state, owned=True).value}'"
        for state in claimable_states()
    )
    return f"CASE {column} {cases} END"
