"""Modal builders (pure): the reply, note and close forms, and reading their answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.render.blocks import Block, mrkdwn, plain
from bot.render.mrkdwn import escape_within, one_line
from bot.slack import ids
from models.views import TicketSummary

TEXT_BLOCK = "text"
TEXT_ACTION = "value"
MINUTES_BLOCK = "minutes"
MINUTES_ACTION = "value"
OPTIONS_BLOCK = "options"
OPTIONS_ACTION = "value"
CLOSE_AFTER = "close_after"
MAX_INPUT = 3000


def _context(summary: TicketSummary, hook: str) -> Block:
    customer = summary.customer_email or "unknown sender"
    subject = one_line(summary.subject) or "(no subject)"
    return {
        "type": "context",
        "elements": [
            mrkdwn(escape_within(f"{hook}{summary.number} · {subject} · {customer}", 1000))
        ],
    }


def _text_input(label: str, hint: str, *, optional: bool, placeholder: str) -> Block:
    return {
        "type": "input",
        "block_id": TEXT_BLOCK,
        "optional": optional,
        "label": plain(label, 2000),
        "hint": plain(hint, 2000),
        "element": {
            "type": "plain_text_input",
            "action_id": TEXT_ACTION,
            "multiline": True,
            "max_length": MAX_INPUT,
            "placeholder": plain(placeholder, 150),
        },
    }


def _minutes_input() -> Block:
    return {
        "type": "input",
        "block_id": MINUTES_BLOCK,
        "optional": True,
        "label": plain("Minutes spent", 2000),
        "element": {
            "type": "number_input",
            "action_id": MINUTES_ACTION,
            "is_decimal_allowed": False,
            "min_value": "0",
            "max_value": "1440",
        },
    }


def _modal(callback_id: str, title: str, submit: str, ticket_id: int, blocks: list[Block]) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps({"ticket_id": ticket_id}),
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def recipient_line(summary: TicketSummary) -> Block:
    """Who the mail goes to, said before it is sent: the ticket's customer, never a
    Reply-To a later mail slipped in."""
    to = summary.reply_address or summary.customer_email or "nobody (no customer address)"
    return {"type": "section", "text": mrkdwn(f"*To:* {escape_within(to, 400)}")}


def build_reply_modal(summary: TicketSummary, hook: str) -> Block:
    return _modal(
        ids.REPLY_VIEW,
        "Reply to customer",
        "Send",
        summary.id,
        [
            _context(summary, hook),
            recipient_line(summary),
            _text_input(
                "Reply",
                f"Sent by email to the address above. At most {MAX_INPUT} characters "
                "(Slack's limit for one field).",
                optional=False,
                placeholder="Write your answer…",
            ),
            {
                "type": "input",
                "block_id": OPTIONS_BLOCK,
                "optional": True,
                "label": plain("Options", 2000),
                "element": {
                    "type": "checkboxes",
                    "action_id": OPTIONS_ACTION,
                    "options": [
                        {"text": plain("Close the ticket after sending", 75), "value": CLOSE_AFTER}
                    ],
                },
            },
            _minutes_input(),
        ],
    )


def build_note_modal(summary: TicketSummary, hook: str) -> Block:
    return _modal(
        ids.NOTE_VIEW,
        "Internal note",
        "Save",
        summary.id,
        [
            _context(summary, hook),
            _text_input(
                "Note",
                f"Only agents see it; it is never emailed. At most {MAX_INPUT} characters.",
                optional=False,
                placeholder="What should the team know?",
            ),
            _minutes_input(),
        ],
    )


def build_close_modal(summary: TicketSummary, hook: str) -> Block:
    return _modal(
        ids.CLOSE_VIEW,
        "Close ticket",
        "Close",
        summary.id,
        [
            _context(summary, hook),
            _text_input(
                "Closing note (optional)",
                f"Kept with the ticket, never emailed. At most {MAX_INPUT} characters.",
                optional=True,
                placeholder="How was it solved?",
            ),
            _minutes_input(),
        ],
    )


@dataclass(frozen=True, slots=True)
class FormAnswer:
    ticket_id: int
    text: str
    minutes: int
    close_after: bool
    errors: dict[str, str]


def read_form(view: dict[str, Any]) -> FormAnswer:
    """Values of a submitted modal, plus the inline errors Slack should show."""
    values = view.get("state", {}).get("values", {})
    ticket_id = ids.ticket_id(json.loads(view.get("private_metadata") or "{}").get("ticket_id"))
    text = str((values.get(TEXT_BLOCK, {}).get(TEXT_ACTION) or {}).get("value") or "")
    raw_minutes = (values.get(MINUTES_BLOCK, {}).get(MINUTES_ACTION) or {}).get("value")
    selected = (values.get(OPTIONS_BLOCK, {}).get(OPTIONS_ACTION) or {}).get("selected_options")
    errors: dict[str, str] = {}
    minutes = 0
    if raw_minutes not in (None, ""):
        try:
            minutes = int(str(raw_minutes))
        except ValueError:
            errors[MINUTES_BLOCK] = "Enter whole minutes, like 15."
        else:
            if not 0 <= minutes <= 1440:
                errors[MINUTES_BLOCK] = "Enter between 0 and 1440 minutes."
    if len(text) > MAX_INPUT:
        errors[TEXT_BLOCK] = f"At most {MAX_INPUT} characters, please."
    close_after = any(o.get("value") == CLOSE_AFTER for o in selected or [])
    return FormAnswer(ticket_id, text, minutes, close_after, errors)
