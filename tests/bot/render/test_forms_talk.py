"""The Reply form's canned responses and confirmation step, the collision line on the card,
and the new-ticket forms (pure), each checked against Slack's view limits — also with 100
and more templates and 50 queues."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.render.blocks import build_ticket_card, replying_line
from bot.render.forms import (
    MAX_INPUT,
    TEXT_BLOCK,
    build_reply_modal,
    read_form,
    template_menu,
    with_template,
)
from bot.render.ticket_forms import (
    Prefill,
    build_message_modal,
    build_phone_modal,
    read_ticket_form,
    subject_from,
)
from bot.sandbox.emulator.validation import validate_message_blocks, validate_view
from bot.slack import ids
from models.collision import Arrived, Writer
from models.policy import QueueRoute
from models.store.article import ArticleKind
from models.templates import ReplyTemplate
from tests.bot.render.test_forms import SUMMARY

AT = datetime(2026, 12, 6, 10, tzinfo=UTC)


def templates(count: int) -> list[ReplyTemplate]:
    return [ReplyTemplate(f"Template {i} " + "x" * 70, "Hi {customer_name}") for i in range(count)]


def menu_options(view: dict[str, object]) -> list[dict[str, object]]:
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    [element] = next(b for b in blocks if b.get("block_id") == "template")["elements"]
    if "options" in element:
        return list(element["options"])
    return [o for group in element["option_groups"] for o in group["options"]]


@pytest.mark.parametrize("count", [1, 100, 101, 250])
def test_the_template_menu_is_valid_with_many_templates(count: int) -> None:
    view = build_reply_modal(SUMMARY, "Ticket#", templates=templates(count), stamp="1.ab")
    assert validate_view(view) == []
    options = menu_options(view)
    assert [o["value"] for o in options] == [str(i) for i in range(count)]
    element = template_menu(templates(count))
    assert element is not None
    if count > 100:  # groups of 100: "1–100", "101–200", …
        labels = [g["label"]["text"] for g in element["elements"][0]["option_groups"]]
        assert labels[0] == "1–100" and len(labels) == -(-count // 100)


def test_no_templates_no_menu() -> None:
    view = build_reply_modal(SUMMARY, "Ticket#")
    assert all(b.get("block_id") != "template" for b in view["blocks"])
    assert template_menu([]) is None


def test_the_reply_form_tells_slack_when_it_is_closed_and_carries_its_stamp() -> None:
    view = build_reply_modal(SUMMARY, "Ticket#", stamp="123.abc", version=2, text="Hello")
    assert view["notify_on_close"] is True
    assert json.loads(view["private_metadata"]) == {
        "ticket_id": SUMMARY.id,
        "opened": "123.abc",
        "version": 2,
    }
    [text] = [b for b in view["blocks"] if b.get("block_id") == f"{TEXT_BLOCK}_2"]
    assert text["element"]["initial_value"] == "Hello"


def test_a_submitted_filled_form_reads_its_text_block_whichever_version() -> None:
    view = build_reply_modal(SUMMARY, "Ticket#", stamp="1.a", version=3, text="x")
    view["state"] = {"values": {"text_3": {"value": {"type": "plain_text_input", "value": "y"}}}}
    form = read_form(view)
    assert (form.text, form.text_block, form.opened, form.version) == ("y", "text_3", "1.a", 3)


@pytest.mark.parametrize(
    ("current", "result"),
    [
        ("", "Dear Eva"),
        ("  \n", "Dear Eva"),
        ("Thanks Eva", "Dear Eva"),  # an earlier template's text, untouched: replaced
        ("I checked it.", "I checked it.\n\nDear Eva"),  # the agent's own words stay
    ],
)
def test_choosing_a_template_keeps_what_the_agent_wrote(current: str, result: str) -> None:
    assert with_template(current, "Dear Eva", ["Thanks Eva", "Dear Eva"]) == result


def test_a_template_never_overfills_the_field() -> None:
    assert len(with_template("a" * 2999, "b" * 3000, [])) == MAX_INPUT


def test_the_confirmation_step_shows_what_arrived_escaped_and_cut() -> None:
    arrived = [
        Arrived(ArticleKind.EMAIL_IN, "eva@example.com", "<!channel> Eva", "z" * 5000, AT),
        Arrived(ArticleKind.EMAIL_OUT, "U0BOB", "Bob", "Bob's answer <@U0ALICE>", AT),
    ]
    view = build_reply_modal(SUMMARY, "Ticket#", stamp="1.a", text="Mine", arrived=arrived)
    assert validate_view(view) == []
    shown = json.dumps(view["blocks"])
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert "z" * 400 not in shown and "<@U0BOB> replied" in shown
    assert "&lt;@U0ALICE&gt;" in shown
    assert view["callback_id"] == ids.REPLY_VIEW


def test_the_card_says_who_is_replying_in_one_context_line() -> None:
    assert replying_line(SUMMARY) == []
    one = replace(SUMMARY, writers=(Writer("U0ALICE", "Alice", AT),))
    two = replace(one, writers=(*one.writers, Writer("U0BOB", "Bob", AT)))
    [line] = replying_line(one)
    assert line["elements"][0]["text"] == "✍ <@U0ALICE> is replying"
    assert replying_line(two)[0]["elements"][0]["text"] == "✍ <@U0ALICE>, <@U0BOB> are replying"
    card = build_ticket_card(two, "Ticket#")
    assert validate_message_blocks(card) == []
    # Above the buttons: the buttons row, then the controls row (priority, transfer, merge).
    assert card[-3] == replying_line(two)[0]
    assert [block["type"] for block in card[-2:]] == ["actions", "actions"]


QUEUES = [QueueRoute(f"Queue {i:02d} " + "q" * 80, f"C0Q{i:04d}") for i in range(50)]


def test_the_phone_form_is_valid_with_50_queues() -> None:
    view = build_phone_modal(QUEUES, QUEUES[3].name)
    assert validate_view(view) == []
    [queue] = [b for b in view["blocks"] if b.get("block_id") == "queue"]
    assert len(queue["element"]["options"]) == 50
    assert queue["element"]["initial_option"]["value"] == QUEUES[3].name
    [ack] = [b for b in view["blocks"] if b.get("block_id") == "ack"]
    assert ack["element"]["initial_options"] == ack["element"]["options"]


def test_the_queue_menu_groups_beyond_100_queues() -> None:
    many = [QueueRoute(f"Q{i}", f"C0Q{i:04d}") for i in range(150)]
    assert validate_view(build_phone_modal(many, "Q120")) == []


def test_the_message_form_is_prefilled_and_valid() -> None:
    prefill = Prefill("eva@example.com", "Eva", "Printer", "x" * 5000, QUEUES[1].name)
    view = build_message_modal(
        QUEUES, prefill, channel="C0Q0001", ts="1.2", permalink="https://x.slack.com/p12"
    )
    assert validate_view(view) == []
    assert json.loads(view["private_metadata"]) == {
        "source": "slack",
        "channel": "C0Q0001",
        "ts": "1.2",
        "permalink": "https://x.slack.com/p12",
    }
    [text] = [b for b in view["blocks"] if b.get("block_id") == "text"]
    assert len(text["element"]["initial_value"]) == MAX_INPUT
    [email] = [b for b in view["blocks"] if b.get("block_id") == "email"]
    assert email["element"]["initial_value"] == "eva@example.com"
    odd = build_message_modal(
        QUEUES, Prefill(email="not an address"), channel="<!x>", ts="", permalink=""
    )
    assert validate_view(odd) == []
    email = next(b for b in odd["blocks"] if b.get("block_id") == "email")
    assert "initial_value" not in email["element"]
    assert "<!x>" not in json.dumps(odd["blocks"])


def values(**answers: object) -> dict[str, object]:
    return {
        "state": {"values": {block: {"value": value} for block, value in answers.items()}},
        "private_metadata": json.dumps({"source": "phone"}),
    }


def test_reading_a_new_ticket_form_checks_each_answer() -> None:
    good = values(
        email={"type": "email_text_input", "value": " eva@example.com "},
        name={"type": "plain_text_input", "value": "Eva  Müller"},
        subject={"type": "plain_text_input", "value": " Printer \n jams "},
        text={"type": "plain_text_input", "value": "It jams."},
        queue={"type": "static_select", "selected_option": {"value": "Support"}},
        ack={"type": "checkboxes", "selected_options": [{"value": "send_ack"}]},
    )
    form = read_ticket_form(good)
    assert form.errors == {}
    assert (form.email, form.name, form.subject, form.queue, form.acknowledge) == (
        "eva@example.com",
        "Eva Müller",
        "Printer jams",
        "Support",
        True,
    )
    bad = read_ticket_form(values(email={"value": "a@b, c@d"}, text={"value": " "}))
    assert set(bad.errors) == {"email", "subject", "text", "queue"}


def test_a_messages_first_line_is_its_subject() -> None:
    assert subject_from("\n  Printer   jams\nmore") == "Printer jams"
    assert subject_from("") == "Request from Slack"
    assert len(subject_from("y" * 500)) == 80
