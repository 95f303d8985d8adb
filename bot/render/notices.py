"""The domain's notices and refusals in words (pure).

The domain says what happened as a kind and its facts (`models/events.py`); here it
becomes a line for Slack. Every fact is escaped (some came from a mail), user ids become
mentions in mrkdwn and names in plain text (a modal's errors are plain text). One
template per kind; tests check that each kind has one and that it uses exactly the
facts the kind carries.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.render.mrkdwn import escape_within, one_line
from bot.render.sla import slack_due
from models.events import GROUP_FACTS, TIME_FACTS, USER_FACTS, Notice, Refusal
from models.work import Refused

NOTICE_TEMPLATES: Mapping[Notice, str] = {
    Notice.REPLY_TO_IGNORED: ":warning: This mail asks for answers to go to {address} (Reply-To),"
    " which is not this ticket's customer. Replies still go to {customer}.",
    Notice.READ_IN_PART: ":warning: A mail of this ticket could not be read fully: {reason}."
    " Its raw source is kept.",
    Notice.REOPENED_BY_CUSTOMER: ":arrows_counterclockwise: Reopened: the customer wrote again.",
    Notice.SAME_REQUEST: ":repeat: The customer wrote again with the same subject within"
    " {hours} hours; added here instead of opening a new ticket.",
    Notice.FOLLOWUP_REJECTED: ":no_entry: The customer wrote to this closed ticket; they were"
    " asked to write a new mail (`mail.followup_on_closed: reject`).",
    Notice.RELEASED_IDLE: ":unlock: Released: {owner} had not worked on it for {minutes} minutes."
    " Anyone can claim it now.",
    Notice.UNCLAIMED_REMINDER: ":alarm_clock: No one has taken this ticket for {minutes} minutes."
    " Can someone claim it?",
    Notice.RELEASED_BY: ":unlock: {agent} released {owner}'s claim.",
    Notice.CLOSED_BY: ":white_check_mark: Closed by {agent}.",
    Notice.REOPENED_BY: ":arrows_counterclockwise: Reopened by {agent}.",
    Notice.MOVED_TO: ":arrow_right: *{number}* was moved to the queue {queue} by {agent};"
    " it goes on there.",
    Notice.MOVED_FROM: ":arrow_right: Moved here from the queue {queue} by {agent}.",
    Notice.MERGED_FROM: ":twisted_rightwards_arrows: {number} was merged into this ticket by"
    " {agent}: its mails, notes and attachments are here now (`/ticket show`).",
    # {owner}{group}: the owner, or the queue's escalation group when no one holds it (last,
    # so that a notice without either reads well: the text is stripped)
    Notice.SLA_FIRST_RESPONSE_WARNING: ":hourglass_flowing_sand: The first response is due"
    " {due} and not sent yet (target: {minutes} business minutes). {owner}{group}",
    Notice.SLA_FIRST_RESPONSE_BREACHED: ":rotating_light: First response overdue: it was due"
    " {due} (target: {minutes} business minutes). {owner}{group}",
    Notice.SLA_RESOLUTION_WARNING: ":hourglass_flowing_sand: This ticket is due to be solved"
    " {due} (target: {minutes} business minutes). {owner}{group}",
    Notice.SLA_RESOLUTION_BREACHED: ":rotating_light: Resolution overdue: it was due {due}"
    " (target: {minutes} business minutes). {owner}{group}",
    Notice.CSAT_RATED: ":bar_chart: The customer rated the help on this ticket: *{rating}*.",
    Notice.CSAT_COMMENTED: ":speech_balloon: The customer's comment on their rating"
    " (*{rating}*): {comment}",
}

REFUSAL_TEMPLATES: Mapping[Refusal, str] = {
    Refusal.NO_TICKET: "That ticket does not exist (any more).",
    Refusal.CLOSED: "Ticket {number} is closed; reopen it first.",
    Refusal.HELD: "Ticket {number} is claimed by {owner}.",
    Refusal.HELD_NO_RELEASE: "Ticket {number} is claimed by {owner}. Only they or a lead can"
    " release it.",
    Refusal.NOT_CLAIMED: "Ticket {number} is not claimed.",
    Refusal.ALREADY_CLOSED: "Ticket {number} is already closed.",
    Refusal.NOT_CLOSED: "Ticket {number} is not closed.",
    Refusal.RACE: "Someone changed the ticket at the same moment; try again.",
    Refusal.EMPTY_REPLY: "Write something to send.",
    Refusal.EMPTY_NOTE: "Write something to save.",
    Refusal.NO_CUSTOMER: "This ticket has no customer address to reply to.",
    Refusal.NO_QUEUE: "There is no queue {queue}.",
    Refusal.SAME_QUEUE: "Ticket {number} is already in the queue {queue}.",
    Refusal.MERGE_SELF: "Ticket {number} cannot be merged into itself.",
    Refusal.MERGED: "Ticket {number} was merged into {survivor}; work on that one.",
    Refusal.MERGE_INTO_MERGED: "Ticket {number} was itself merged into {survivor}; merge into"
    " that one instead.",
    Refusal.MERGE_NO_TICKET: "No ticket {number} in your queues.",
}

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,30}")
_EPOCH = re.compile(r"\d{1,12}")
FACT_LIMIT = 500


def placeholders(template: str) -> set[str]:
    """The facts a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _fact(key: str, value: object, names: Mapping[str, str] | None) -> str:
    text = one_line(str(value))
    if key in USER_FACTS and _USER_ID.fullmatch(text):
        if names is None:
            return f"<@{text}>"
        return "@" + names.get(text, text)
    if key in GROUP_FACTS and _GROUP_ID.fullmatch(text) and names is None:
        return f"<!subteam^{text}>"
    if key in TIME_FACTS and _EPOCH.fullmatch(text):
        instant = datetime.fromtimestamp(int(text), UTC)
        return slack_due(instant) if names is None else f"{instant:%Y-%m-%d %H:%M} UTC"
    return escape_within(text, FACT_LIMIT) if names is None else text[:FACT_LIMIT]


def _words(template: str, facts: Mapping[str, object], names: Mapping[str, str] | None) -> str:
    values = {key: _fact(key, facts.get(key, ""), names) for key in placeholders(template)}
    return template.format_map(values)


def notice_text(notice: Notice, facts: Mapping[str, object]) -> str:
    """A notice as mrkdwn for the ticket's thread."""
    return _words(NOTICE_TEMPLATES[notice], facts, None).strip()


def refusal_text(refused: Refused, names: Mapping[str, str] | None = None) -> str:
    """Why the agent may not: mrkdwn (mentions) without `names`; plain text with them
    (user id -> name), for a modal's errors, which Slack shows as plain text."""
    return _words(REFUSAL_TEMPLATES[refused.reason], refused.facts, names)


def user_facts(refused: Refused) -> list[str]:
    """The user ids a refusal names (whose names a plain-text answer needs)."""
    return [value for key, value in refused.facts.items() if key in USER_FACTS and value]
