"""The domain's vocabulary, as values that are stored, queued and compared.

What a ticket's history records (`HistoryEvent`), why a mail went where it went
(`MatchReason`), what a thread is told (`Notice`, with the facts each carries) and
why an agent is refused (`Refusal`, likewise). The domain states the kind and the
facts; `bot/render/` words them for Slack and escapes every fact that came from a
mail, so the domain never writes Slack markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class HistoryEvent(StrEnum):
    """One row of a ticket's history (`History.event`)."""

    CREATED = "created"
    CLAIMED = "claimed"
    RELEASED = "released"
    REPLIED = "replied"
    NOTED = "noted"
    CLOSED = "closed"
    REOPENED = "reopened"
    FOLLOWUP = "followup"
    FOLLOWUP_REJECTED = "followup_rejected"
    ESCALATED = "escalated"
    BOUNCE = "bounce"
    AUTOREPLY_SUPPRESSED = "autoreply_suppressed"
    MESSAGE_ID_CLASH = "message_id_clash"
    PRIORITY_CHANGED = "priority_changed"
    TRANSFERRED = "transferred"
    #: On the merged ticket: it went into `detail["into"]`.
    MERGED_INTO = "merged_into"
    #: On the survivor: `detail["merged"]` joined it.
    MERGED_FROM = "merged_from"
    #: A service-level clock reached its warning instant: `detail["clock"]`, `["due_at"]`.
    SLA_WARNED = "sla_warned"
    #: A service-level clock passed its due instant unstopped (same detail).
    SLA_BREACHED = "sla_breached"
    #: A close asked the customer for a rating: `detail["request"]` is the CsatRequest.
    CSAT_REQUESTED = "csat_requested"
    #: The customer rated (`detail["rating"]`); actor: the customer's address.
    CSAT_RATED = "csat_rated"
    #: The customer added a comment to their rating (`detail["comment"]`).
    CSAT_COMMENTED = "csat_commented"


class MatchReason(StrEnum):
    """Why a mail joined a ticket, or why a new ticket is linked to another."""

    NONE = ""
    #: Joined: the ticket hook in the subject.
    HOOK = "hook"
    #: Joined: In-Reply-To/References name a mail of the ticket.
    REFERENCES = "references"
    #: Joined: the same sender asked the same again while the ticket was open.
    SAME_REQUEST = "same_request"
    #: Linked: the subject named a ticket the sender is no part of.
    CLAIMED_NUMBER = "claimed_number"
    #: Linked: the mail referred to a ticket the sender is no part of.
    CLAIMED_REFERENCE = "claimed_reference"
    #: Linked: a follow-up to a closed ticket, with `mail.followup_on_closed: new_ticket`.
    FOLLOWUP_TO_CLOSED = "followup_to_closed"


class Notice(StrEnum):
    """A line in a ticket's thread; its facts are listed in `NOTICE_FACTS`."""

    REPLY_TO_IGNORED = "reply_to_ignored"
    READ_IN_PART = "read_in_part"
    REOPENED_BY_CUSTOMER = "reopened_by_customer"
    SAME_REQUEST = "same_request"
    FOLLOWUP_REJECTED = "followup_rejected"
    RELEASED_IDLE = "released_idle"
    UNCLAIMED_REMINDER = "unclaimed_reminder"
    RELEASED_BY = "released_by"
    CLOSED_BY = "closed_by"
    REOPENED_BY = "reopened_by"
    #: The old card, replaced by a pointer (no buttons) when the ticket moved on.
    MOVED_TO = "moved_to"
    #: In the new card's thread: where it came from.
    MOVED_FROM = "moved_from"
    #: In the survivor's thread: a ticket merged into this one.
    MERGED_FROM = "merged_from"
    #: Service levels (models/escalation.py): a clock near its due instant, or past it.
    SLA_FIRST_RESPONSE_WARNING = "sla_first_response_warning"
    SLA_FIRST_RESPONSE_BREACHED = "sla_first_response_breached"
    SLA_RESOLUTION_WARNING = "sla_resolution_warning"
    SLA_RESOLUTION_BREACHED = "sla_resolution_breached"
    #: The customer rated the help after a close: `rating` is good, okay or bad.
    CSAT_RATED = "csat_rated"
    #: … and wrote a comment (the customer's words: escaped, cut to one line).
    CSAT_COMMENTED = "csat_commented"


_SLA_FACTS = frozenset({"owner", "group", "due", "minutes"})

#: The facts each notice carries. `agent` and `owner` are Slack user ids; `address`,
#: `customer` and `reason` may come from a mail (the renderer escapes all of them).
NOTICE_FACTS: Mapping[Notice, frozenset[str]] = {
    Notice.REPLY_TO_IGNORED: frozenset({"address", "customer"}),
    Notice.READ_IN_PART: frozenset({"reason"}),
    Notice.REOPENED_BY_CUSTOMER: frozenset(),
    Notice.SAME_REQUEST: frozenset({"hours"}),
    Notice.FOLLOWUP_REJECTED: frozenset(),
    Notice.RELEASED_IDLE: frozenset({"owner", "minutes"}),
    Notice.UNCLAIMED_REMINDER: frozenset({"minutes"}),
    Notice.RELEASED_BY: frozenset({"agent", "owner"}),
    Notice.CLOSED_BY: frozenset({"agent"}),
    Notice.REOPENED_BY: frozenset({"agent"}),
    Notice.MOVED_TO: frozenset({"agent", "number", "queue"}),
    Notice.MOVED_FROM: frozenset({"agent", "queue"}),
    Notice.MERGED_FROM: frozenset({"agent", "number"}),
    # `owner`: who holds it (empty when no one); `group`: the queue's escalation user
    # group, given only when no one holds it (may be empty); `due`: the due instant as
    # Unix seconds; `minutes`: the target in business minutes.
    Notice.SLA_FIRST_RESPONSE_WARNING: _SLA_FACTS,
    Notice.SLA_FIRST_RESPONSE_BREACHED: _SLA_FACTS,
    Notice.SLA_RESOLUTION_WARNING: _SLA_FACTS,
    Notice.SLA_RESOLUTION_BREACHED: _SLA_FACTS,
    Notice.CSAT_RATED: frozenset({"rating"}),
    Notice.CSAT_COMMENTED: frozenset({"rating", "comment"}),
}

#: Facts that are Slack user ids: shown as mentions in mrkdwn, as names in plain text.
USER_FACTS = frozenset({"agent", "owner"})
#: Facts that are Slack user group ids (S…): mentioned as the group.
GROUP_FACTS = frozenset({"group"})
#: Facts that are instants as Unix seconds: shown in the reader's time zone.
TIME_FACTS = frozenset({"due"})


class Refusal(StrEnum):
    """Why an agent may not do this now; its facts are listed in `REFUSAL_FACTS`."""

    NO_TICKET = "no_ticket"
    CLOSED = "closed"
    HELD = "held"
    HELD_NO_RELEASE = "held_no_release"
    NOT_CLAIMED = "not_claimed"
    ALREADY_CLOSED = "already_closed"
    NOT_CLOSED = "not_closed"
    RACE = "race"
    EMPTY_REPLY = "empty_reply"
    EMPTY_NOTE = "empty_note"
    NO_CUSTOMER = "no_customer"
    NO_QUEUE = "no_queue"
    SAME_QUEUE = "same_queue"
    MERGE_SELF = "merge_self"
    MERGED = "merged"
    MERGE_INTO_MERGED = "merge_into_merged"
    MERGE_NO_TICKET = "merge_no_ticket"


REFUSAL_FACTS: Mapping[Refusal, frozenset[str]] = {
    Refusal.NO_TICKET: frozenset(),
    Refusal.CLOSED: frozenset({"number"}),
    Refusal.HELD: frozenset({"number", "owner"}),
    Refusal.HELD_NO_RELEASE: frozenset({"number", "owner"}),
    Refusal.NOT_CLAIMED: frozenset({"number"}),
    Refusal.ALREADY_CLOSED: frozenset({"number"}),
    Refusal.NOT_CLOSED: frozenset({"number"}),
    Refusal.RACE: frozenset(),
    Refusal.EMPTY_REPLY: frozenset(),
    Refusal.EMPTY_NOTE: frozenset(),
    Refusal.NO_CUSTOMER: frozenset(),
    Refusal.NO_QUEUE: frozenset({"queue"}),
    Refusal.SAME_QUEUE: frozenset({"number", "queue"}),
    Refusal.MERGE_SELF: frozenset({"number"}),
    #: The ticket acted on was merged already: `survivor` is where it lives on.
    Refusal.MERGED: frozenset({"number", "survivor"}),
    Refusal.MERGE_INTO_MERGED: frozenset({"number", "survivor"}),
    #: No such ticket, or one of a queue the agent does not work in (the same answer).
    Refusal.MERGE_NO_TICKET: frozenset({"number"}),
}
