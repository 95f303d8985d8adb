"""Modal builders and reading their answers (pure), checked against Slack's view limits."""

import json
from datetime import UTC, datetime

import pytest

from bot.render.forms import (
    MINUTES_BLOCK,
    TEXT_BLOCK,
    build_close_modal,
    build_note_modal,
    build_reply_modal,
    read_form,
)
from bot.sandbox.emulator.validation import validate_view
from bot.slack import ids
from bot.slack.events import is_agent_thread_message
from models.store.ticket import TicketState
from models.views import TicketSummary

SUMMARY = TicketSummary(
    id=42,
    number="2026112510000017",
    queue="Support",
    subject="<!channel> " + "x" * 5000,
    customer_name="Eve",
    customer_email="eve@example.com",
    state=TicketState.OPEN,
    owner_id=None,
    created_at=datetime(2026, 11, 25, tzinfo=UTC),
    excerpt="",
    attachment_count=0,
    slack_channel="C0SUPPORT1",
    slack_ts="1.000001",
)


@pytest.mark.parametrize(
    ("builder", "callback"),
    [
        (build_reply_modal, ids.REPLY_VIEW),
        (build_note_modal, ids.NOTE_VIEW),
        (build_close_modal, ids.CLOSE_VIEW),
    ],
)
def test_modals_are_valid_views_carrying_the_ticket(builder: object, callback: str) -> None:
    view = builder(SUMMARY, "Ticket#")  # type: ignore[operator]
    assert validate_view(view) == []
    assert view["callback_id"] == callback
    assert json.loads(view["private_metadata"])["ticket_id"] == 42
    assert "<!channel>" not in json.dumps(view)


def test_the_reply_hint_states_slacks_limit() -> None:
    view = build_reply_modal(SUMMARY, "Ticket#")
    [text_block] = [b for b in view["blocks"] if b.get("block_id") == TEXT_BLOCK]
    assert "3000" in text_block["hint"]["text"]
    assert text_block["element"]["max_length"] == 3000


def state(text: str | None, minutes: str | None = None, close: bool = False) -> dict[str, object]:
    values: dict[str, object] = {
        TEXT_BLOCK: {"value": {"type": "plain_text_input", "value": text}},
        MINUTES_BLOCK: {"value": {"type": "number_input", "value": minutes}},
        "options": {
            "value": {
                "type": "checkboxes",
                "selected_options": [{"value": "close_after"}] if close else [],
            }
        },
    }
    return {"private_metadata": json.dumps({"ticket_id": 7}), "state": {"values": values}}


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (state("hi", "15", close=True), (7, "hi", 15, True, {})),
        (state("hi", None), (7, "hi", 0, False, {})),
        (state(None, ""), (7, "", 0, False, {})),
        (state("hi", "ten"), (7, "hi", 0, False, {MINUTES_BLOCK: "Enter whole minutes, like 15."})),
        (
            state("hi", "2000"),
            (7, "hi", 2000, False, {MINUTES_BLOCK: "Enter between 0 and 1440 minutes."}),
        ),
        (
            state("x" * 3001),
            (7, "x" * 3001, 0, False, {TEXT_BLOCK: "At most 3000 characters, please."}),
        ),
    ],
)
def test_read_form(view: dict[str, object], expected: tuple[object, ...]) -> None:
    form = read_form(view)
    assert (form.ticket_id, form.text, form.minutes, form.close_after, form.errors) == expected


@pytest.mark.parametrize(
    ("event", "is_note"),
    [
        ({"user": "U1", "text": "hi", "ts": "2.0", "thread_ts": "1.0"}, True),
        (
            {
                "user": "U1",
                "text": "hi",
                "ts": "2.0",
                "thread_ts": "1.0",
                "subtype": "thread_broadcast",
            },
            True,
        ),
        ({"user": "U1", "text": "hi", "ts": "1.0"}, False),  # top level, not in a thread
        ({"user": "U1", "text": "hi", "ts": "1.0", "thread_ts": "1.0"}, False),  # the parent
        ({"bot_id": "B1", "text": "hi", "ts": "2.0", "thread_ts": "1.0"}, False),
        ({"user": "U1", "bot_id": "B1", "text": "hi", "ts": "2.0", "thread_ts": "1.0"}, False),
        ({"subtype": "message_changed", "ts": "3.0", "thread_ts": "1.0", "message": {}}, False),
        ({"subtype": "message_deleted", "ts": "3.0", "thread_ts": "1.0"}, False),
        ({"user": "U1", "text": "  ", "ts": "2.0", "thread_ts": "1.0"}, False),
    ],
)
def test_which_thread_messages_are_notes(event: dict[str, str], is_note: bool) -> None:
    assert is_agent_thread_message(event) is is_note
