"""Modal builders (pure): the reply, note and close forms, and reading their answers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.render.blocks import Block, mrkdwn, plain
from bot.render.mrkdwn import escape_within, one_line
from bot.slack import ids
from models.collision import Arrived
from models.store.article import ArticleKind
from models.templates import ReplyTemplate
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


def _text_input(
    label: str,
    hint: str,
    *,
    optional: bool,
    placeholder: str,
    block_id: str = TEXT_BLOCK,
    initial: str = "",
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
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
    if initial:
        block["element"]["initial_value"] = initial[:MAX_INPUT]
    return block


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


TEMPLATE_BLOCK = "template"
#: Options one static select holds (Slack: 100 options, or 100 groups of 100 options).
SELECT_OPTIONS = 100


def template_menu(templates: Sequence[ReplyTemplate]) -> Block | None:
    """The canned responses as one static select: up to 100 as plain options, more in
    groups of 100 ("1–100", "101–200", …); past 100 groups (10,000) they are cut.
    An option's value is the template's position in the config."""
    if not templates:
        return None
    options = [{"text": plain(t.name, 75), "value": str(i)} for i, t in enumerate(templates)]
    element: Block = {
        "type": "static_select",
        "action_id": ids.REPLY_TEMPLATE,
        "placeholder": plain("Insert a canned response…", 150),
        **select_options(options),
    }
    return {"type": "actions", "block_id": TEMPLATE_BLOCK, "elements": [element]}


def select_options(options: list[Block]) -> Block:
    """`options` for a static select: as they are up to Slack's 100, else in groups of 100
    labelled "1–100", "101–200"…; past 100 groups (10,000 options) the rest is cut."""
    options = options[: SELECT_OPTIONS * SELECT_OPTIONS]
    if len(options) <= SELECT_OPTIONS:
        return {"options": options}
    return {
        "option_groups": [
            {"label": plain(f"{start + 1}–{start + len(chunk)}", 75), "options": chunk}
            for start in range(0, len(options), SELECT_OPTIONS)
            for chunk in [options[start : start + SELECT_OPTIONS]]
        ]
    }


ARRIVED_CHARS = 300


def arrived_blocks(arrived: Sequence[Arrived]) -> list[Block]:
    """The confirmation step: what arrived since the form was opened, escaped and cut."""
    if not arrived:
        return []
    blocks: list[Block] = [
        {
            "type": "section",
            "text": mrkdwn(
                ":warning: *Since you opened this form, the ticket got new messages.* "
                "Read them; press Send again to send your reply anyway."
            ),
        }
    ]
    for item in arrived:
        if item.kind == ArticleKind.EMAIL_IN:
            who = f"Customer {escape_within(item.author_name or item.author, 200)}"
        else:
            who = f"<@{item.author}> replied" if item.author else "An agent replied"
        when = item.at.strftime("%H:%M UTC")
        text = escape_within(one_line(item.text), ARRIVED_CHARS)
        blocks.append({"type": "context", "elements": [mrkdwn(f"*{who}* ({when}): {text}")]})
    return blocks


def with_template(current: str, filled: str, earlier_fills: Sequence[str]) -> str:
    """The text after choosing a canned response. An empty field, or one still holding
    exactly an earlier template's text, is replaced; anything the agent wrote is kept and
    the template goes below it. Never longer than the field holds."""
    if not current.strip() or current.strip() in {f.strip() for f in earlier_fills}:
        return filled[:MAX_INPUT]
    return f"{current.rstrip()}\n\n{filled}"[:MAX_INPUT]


def text_block_id(version: int) -> str:
    """Slack keeps what was typed in an input whose block_id stays the same, even when the
    view is updated with another initial_value; a filled-in text needs a new block_id."""
    return TEXT_BLOCK if version <= 0 else f"{TEXT_BLOCK}_{version}"


def build_reply_modal(
    summary: TicketSummary,
    hook: str,
    *,
    templates: Sequence[ReplyTemplate] = (),
    stamp: str = "",
    text: str = "",
    version: int = 0,
    arrived: Sequence[Arrived] = (),
) -> Block:
    """The Reply form. `stamp`: when it was opened, signed (bot.slack.stamps); `version`
    counts text fills (new block_id each); `arrived` turns it into the confirmation step."""
    menu = template_menu(templates)
    modal = _modal(
        ids.REPLY_VIEW,
        "Reply to customer",
        "Send",
        summary.id,
        [
            _context(summary, hook),
            recipient_line(summary),
            *arrived_blocks(arrived),
            *([menu] if menu else []),
            _text_input(
                "Reply",
                f"Sent by email to the address above. At most {MAX_INPUT} characters "
                "(Slack's limit for one field).",
                optional=False,
                placeholder="Write your answer…",
                block_id=text_block_id(version),
                initial=text,
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
    modal["private_metadata"] = json.dumps(
        {"ticket_id": summary.id, "opened": stamp, "version": version}
    )
    modal["notify_on_close"] = True  # view_closed clears the collision warning
    return modal


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
    text_block: str = TEXT_BLOCK  # where an inline error goes
    opened: str = ""  # the Reply form's signed stamp
    version: int = 0


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The view's private_metadata as a dict ({} when it is not one)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def typed_text(values: dict[str, Any]) -> tuple[str, str]:
    """(block_id, text) of the form's text field, whichever version of it is shown."""
    for block_id, actions in values.items():
        if block_id == TEXT_BLOCK or block_id.startswith(TEXT_BLOCK + "_"):
            return block_id, str((actions.get(TEXT_ACTION) or {}).get("value") or "")
    return TEXT_BLOCK, ""


def read_form(view: dict[str, Any]) -> FormAnswer:
    """Values of a submitted modal, plus the inline errors Slack should show."""
    values = view.get("state", {}).get("values", {})
    meta = metadata(view)
    ticket_id = ids.ticket_id(meta.get("ticket_id"))
    text_block, text = typed_text(values)
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
        errors[text_block] = f"At most {MAX_INPUT} characters, please."
    close_after = any(o.get("value") == CLOSE_AFTER for o in selected or [])
    version = meta.get("version")
    return FormAnswer(
        ticket_id,
        text,
        minutes,
        close_after,
        errors,
        text_block=text_block,
        opened=str(meta.get("opened") or ""),
        version=version if isinstance(version, int) and 0 <= version < 10_000 else 0,
    )
