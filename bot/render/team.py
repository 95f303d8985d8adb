"""Block Kit for working as a team (pure): the merge form, the customer's other tickets and
a ticket's history (with that of the tickets merged into it)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.render.blocks import STATE_LABELS, Block, mrkdwn, plain
from bot.render.mrkdwn import escape_within, one_line, truncate
from bot.slack import ids
from models.store.ticket import History, Ticket
from models.team import CustomerHistory
from models.views import TicketSummary

MERGE_BLOCK = "merge_into"
MERGE_ACTION = "value"
NUMBER_LIMIT = 64  # a ticket number with its hook and brackets, with room to spare


def build_merge_modal(summary: TicketSummary, hook: str) -> Block:
    """`ticket_merge`: merge this ticket into the one whose number the agent gives."""
    subject = one_line(summary.subject) or "(no subject)"
    return {
        "type": "modal",
        "callback_id": ids.MERGE_VIEW,
        "private_metadata": json.dumps({"ticket_id": summary.id}),
        "title": plain("Merge ticket", 24),
        "submit": plain("Merge", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "context",
                "elements": [
                    mrkdwn(escape_within(f"{hook}{summary.number} · {subject}", 1000)),
                ],
            },
            {
                "type": "input",
                "block_id": MERGE_BLOCK,
                "label": plain("Merge this ticket into ticket number", 2000),
                "hint": plain(
                    "Its mails, notes, attachments and minutes join that ticket; this one is "
                    "closed and points there, and mail to its number lands there. Both "
                    "tickets must be in queues you work in.",
                    2000,
                ),
                "element": {
                    "type": "plain_text_input",
                    "action_id": MERGE_ACTION,
                    "max_length": NUMBER_LIMIT,
                    "placeholder": plain(f"{hook}2026112510000017", 150),
                },
            },
        ],
    }


@dataclass(frozen=True, slots=True)
class MergeAnswer:
    ticket_id: int
    number: str  # the survivor's number as typed, without hook and brackets


def read_merge_form(view: dict[str, Any], hook: str) -> MergeAnswer:
    values = view.get("state", {}).get("values", {})
    metadata = json.loads(view.get("private_metadata") or "{}")
    typed = str((values.get(MERGE_BLOCK, {}).get(MERGE_ACTION) or {}).get("value") or "")
    return MergeAnswer(ids.ticket_id(metadata.get("ticket_id")), ticket_number(typed, hook))


def ticket_number(text: str, hook: str) -> str:
    """`[Ticket#N]`, `Ticket#N`, `#N` or `N` as people paste them: N."""
    number = text.strip()[:NUMBER_LIMIT].strip("[] ")
    if number.lower().startswith(hook.lower()):
        number = number[len(hook) :]
    return number.lstrip("#").strip()


def age(then: datetime, now: datetime) -> str:
    """How long ago, in the largest whole unit (the list is read at a glance)."""
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return "just now"


def history_line(ticket: Ticket, hook: str, now: datetime) -> str:
    subject = escape_within(one_line(ticket.subject) or "(no subject)", 120)
    return (
        f"• *{hook}{ticket.number}* {subject} — {STATE_LABELS[ticket.state]}"
        f" · {age(ticket.created_at, now)}"
    )


def build_customer_history(
    customer: str, history: CustomerHistory, hook: str, now: datetime
) -> list[Block]:
    """The customer's other tickets (newest first), and how many are in queues the reader
    does not work in (counted, never shown)."""
    who = escape_within(one_line(customer) or "unknown sender", 300)
    lines = [history_line(t, hook, now) for t in history.tickets]
    text = "\n".join(lines) if lines else "_No other tickets you can see._"
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn(f"*Other tickets of {who}*")},
        {"type": "section", "text": mrkdwn(truncate(text, 3000))},
    ]
    if history.hidden:
        count = history.hidden
        blocks.append(
            {
                "type": "context",
                "elements": [
                    mrkdwn(
                        f"{count} more ticket{'s' * (count != 1)} of this customer "
                        f"{'are' if count != 1 else 'is'} in queues you do not work in."
                    )
                ],
            }
        )
    return blocks


HISTORY_LINES = 20
#: Which facts of a history row are worth a word in `/ticket show` (the rest stay stored).
HISTORY_FACTS = ("from", "to", "into", "merged", "state", "minutes", "reason", "rating", "comment")


def history_entry(row: History, origin: str, hook: str) -> str:
    """One history row: when, what, who (a user id as a mention, else escaped), the facts
    worth saying; `origin` names the merged ticket it was written on, if so."""
    stamp = row.created_at.strftime("%Y-%m-%d %H:%M UTC")
    actor = row.actor
    who = f"<@{actor}>" if actor[:1] in ("U", "W") and actor.isalnum() else escape_within(actor, 80)
    detail = row.detail if isinstance(row.detail, dict) else {}
    facts = [
        f"{key} {escape_within(one_line(str(detail[key])), 80)}"
        for key in HISTORY_FACTS
        if key in detail and detail[key] not in ("", None)
    ]
    line = f"• {stamp} · {escape_within(row.event, 40)} · {who}"
    if facts:
        line += f" ({', '.join(facts)})"
    if origin:
        line += f" — on {hook}{origin}"
    return line


def build_history(rows: Sequence[History], numbers: Mapping[int, str], hook: str) -> list[Block]:
    """The ticket's history with that of tickets merged into it, oldest first (the last
    `HISTORY_LINES`); `numbers` names the merged tickets by id (the ticket's own: absent)."""
    shown = rows[-HISTORY_LINES:]
    lines = [history_entry(row, numbers.get(row.ticket_id, ""), hook) for row in shown]
    if len(rows) > len(shown):
        lines.insert(0, f"_{len(rows) - len(shown)} earlier entries not shown_")
    text = "*History*\n" + ("\n".join(lines) or "_nothing yet_")
    return [{"type": "section", "text": mrkdwn(truncate(text, 3000))}]
