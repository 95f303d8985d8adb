"""Modal builders (pure) for tickets agents open: from a Slack message or a phone call,
and reading their answers."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.render.blocks import Block, mrkdwn, plain
from bot.render.forms import MAX_INPUT, metadata, select_options
from bot.slack import ids
from models.policy import QueueRoute

EMAIL_BLOCK = "email"
NAME_BLOCK = "name"
SUBJECT_BLOCK = "subject"
TEXT_BLOCK = "text"
QUEUE_BLOCK = "queue"
ACK_BLOCK = "ack"
ACTION = "value"
SEND_ACK = "send_ack"
MAX_SUBJECT = 250
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


@dataclass(frozen=True, slots=True)
class Prefill:
    email: str = ""
    name: str = ""
    subject: str = ""
    text: str = ""
    queue: str = ""  # the name of the queue chosen at first


def _input(
    block_id: str,
    label: str,
    element: Block,
    *,
    optional: bool = False,
    hint: str = "",
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label, 2000),
        "element": {"action_id": ACTION, **element},
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _text(initial: str, limit: int, *, multiline: bool = False) -> Block:
    element: Block = {"type": "plain_text_input", "max_length": limit, "multiline": multiline}
    if initial.strip():
        element["initial_value"] = initial[:limit]
    return element


def queue_select(queues: Sequence[QueueRoute], chosen: str) -> Block:
    """The queues as a static select (in groups beyond Slack's 100 options)."""
    options = [{"text": plain(q.name, 75), "value": q.name} for q in queues]
    element: Block = {"type": "static_select", **select_options(options)}
    initial = next((o for o in options if o["value"] == chosen), None)
    if initial is not None:
        element["initial_option"] = initial
    return element


def _ticket_modal(
    callback_id: str,
    title: str,
    blocks: list[Block],
    prefill: Prefill,
    *,
    queues: Sequence[QueueRoute],
    meta: dict[str, str],
    ack_checked: bool,
) -> Block:
    ack: Block = {
        "type": "checkboxes",
        "options": [{"text": plain("Send the acknowledgement mail", 75), "value": SEND_ACK}],
    }
    if ack_checked:
        ack["initial_options"] = list(ack["options"])
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(meta),
        "title": plain(title, 24),
        "submit": plain("Open ticket", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            *blocks,
            _input(
                EMAIL_BLOCK,
                "Customer's email address",
                {"type": "email_text_input", **_initial(prefill.email)},
            ),
            _input(NAME_BLOCK, "Customer's name", _text(prefill.name, 200), optional=True),
            _input(SUBJECT_BLOCK, "Subject", _text(prefill.subject, MAX_SUBJECT)),
            _input(
                TEXT_BLOCK,
                "The customer's request",
                _text(prefill.text, MAX_INPUT, multiline=True),
                hint="Kept as the ticket's first message; never mailed to anyone.",
            ),
            _input(QUEUE_BLOCK, "Queue", queue_select(queues, prefill.queue)),
            _input(ACK_BLOCK, "Acknowledgement", ack, optional=True),
        ],
    }


def _initial(email: str) -> Block:
    return {"initial_value": email} if _EMAIL.match(email or "") else {}


def build_phone_modal(queues: Sequence[QueueRoute], queue: str) -> Block:
    """`ticket_new`: a ticket for a customer who phoned."""
    return _ticket_modal(
        ids.NEW_TICKET_VIEW,
        "New ticket",
        [],
        Prefill(queue=queue),
        queues=queues,
        meta={"source": "phone"},
        ack_checked=True,
    )


def build_message_modal(
    queues: Sequence[QueueRoute],
    prefill: Prefill,
    *,
    channel: str,
    ts: str,
    permalink: str,
) -> Block:
    """`ticket_from_message`: the message's text prefilled; the acknowledgement is not
    sent unless chosen (the customer may not expect mail for a Slack message)."""
    known = re.fullmatch(r"[CGD][A-Z0-9]{2,30}", channel)
    source = f"From a message in <#{channel}>" if known else "From a Slack message"
    intro: Block = {"type": "context", "elements": [mrkdwn(source)]}
    meta = {"source": "slack", "channel": channel, "ts": ts, "permalink": permalink}
    return _ticket_modal(
        ids.FROM_MESSAGE_VIEW,
        "Ticket from message",
        [intro],
        prefill,
        queues=queues,
        meta=meta,
        ack_checked=False,
    )


def subject_from(text: str) -> str:
    """A subject for a Slack message: its first non-empty line, cut."""
    for line in text.splitlines():
        if line.strip():
            words = " ".join(line.split())
            return words if len(words) <= 80 else words[:79].rstrip() + "…"
    return "Request from Slack"


@dataclass(frozen=True, slots=True)
class TicketAnswer:
    email: str
    name: str
    subject: str
    text: str
    queue: str  # a queue's name, as offered (checked against the agent's queues)
    acknowledge: bool
    source: str
    channel: str
    ts: str
    permalink: str
    errors: dict[str, str]


def _value(values: dict[str, Any], block: str) -> str:
    return str((values.get(block, {}).get(ACTION) or {}).get("value") or "")


def read_ticket_form(view: dict[str, Any]) -> TicketAnswer:
    """The answers of a new-ticket form, plus the inline errors Slack should show."""
    values = view.get("state", {}).get("values", {})
    meta = metadata(view)
    email = _value(values, EMAIL_BLOCK).strip()
    subject = " ".join(_value(values, SUBJECT_BLOCK).split())
    text = _value(values, TEXT_BLOCK)
    chosen = (values.get(QUEUE_BLOCK, {}).get(ACTION) or {}).get("selected_option") or {}
    ack = (values.get(ACK_BLOCK, {}).get(ACTION) or {}).get("selected_options") or []
    errors: dict[str, str] = {}
    if not _EMAIL.match(email) or len(email) > 320:
        errors[EMAIL_BLOCK] = "Enter one email address, like name@example.com."
    if not subject:
        errors[SUBJECT_BLOCK] = "Enter a subject."
    elif len(subject) > MAX_SUBJECT:
        errors[SUBJECT_BLOCK] = f"At most {MAX_SUBJECT} characters, please."
    if not text.strip():
        errors[TEXT_BLOCK] = "Write what the customer asked for."
    elif len(text) > MAX_INPUT:
        errors[TEXT_BLOCK] = f"At most {MAX_INPUT} characters, please."
    queue = str(chosen.get("value") or "")
    if not queue:
        errors[QUEUE_BLOCK] = "Choose a queue."
    return TicketAnswer(
        email=email,
        name=" ".join(_value(values, NAME_BLOCK).split())[:200],
        subject=subject,
        text=text,
        queue=queue,
        acknowledge=any(o.get("value") == SEND_ACK for o in ack),
        source=str(meta.get("source") or ""),
        channel=str(meta.get("channel") or ""),
        ts=str(meta.get("ts") or ""),
        permalink=str(meta.get("permalink") or ""),
        errors=errors,
    )
