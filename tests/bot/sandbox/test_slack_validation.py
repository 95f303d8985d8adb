"""The emulator's Block Kit validator: every documented limit (SLACK.md §5), both sides of it.

Table-driven: each bad case names the json-pointer Slack would blame and a piece of its wording,
so a validator that rejects for the wrong reason fails too.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.emulator.validation import (
    invalid_arguments_messages,
    invalid_blocks_body,
    is_view_too_large,
    truncate_text,
    validate_message_blocks,
    validate_view,
)

JSON = dict[str, Any]


def pt(text: str) -> JSON:
    return {"type": "plain_text", "text": text}


def md(text: str) -> JSON:
    return {"type": "mrkdwn", "text": text}


def button(**over: Any) -> JSON:
    return {"type": "button", "text": pt("Claim"), "action_id": "ticket_claim", **over}


def option(text: str = "o", value: str = "v") -> JSON:
    return {"text": pt(text), "value": value}


def section(text: str = "hi", **over: Any) -> JSON:
    return {"type": "section", "text": md(text), **over}


def actions(*elements: JSON, **over: Any) -> JSON:
    return {"type": "actions", "elements": list(elements), **over}


def text_input(**over: Any) -> JSON:
    return {"type": "plain_text_input", "action_id": "text", **over}


def input_block(element: JSON | None = None, **over: Any) -> JSON:
    return {
        "type": "input",
        "block_id": "reply",
        "label": pt("Reply"),
        "element": element or text_input(),
        **over,
    }


def modal(blocks: list[JSON] | None = None, **over: Any) -> JSON:
    return {
        "type": "modal",
        "callback_id": "ticket_reply",
        "title": pt("Reply"),
        "submit": pt("Send"),
        "close": pt("Cancel"),
        "blocks": blocks if blocks is not None else [input_block()],
        **over,
    }


TICKET_CARD: list[JSON] = [
    {"type": "header", "text": pt("Ticket#2026112510000017")},
    section(
        "*Printer on fire*",
        block_id="summary",
        fields=[md("*State*\nnew"), md("*Owner*\n—")],
        accessory=button(action_id="ticket_more", value="17"),
    ),
    {
        "type": "context",
        "elements": [
            md("carol@example.com"),
            {"type": "image", "image_url": "https://x/a.png", "alt_text": "a"},
        ],
    },
    actions(
        button(value="17", style="primary"),
        button(action_id="ticket_close", text=pt("Close"), style="danger", value="17"),
        {
            "type": "overflow",
            "action_id": "ticket_menu",
            "options": [option("a", "a"), option("b", "b")],
        },
        {
            "type": "static_select",
            "action_id": "ticket_queue",
            "placeholder": pt("Queue"),
            "options": [option("Support", "1"), option("Sales", "2")],
        },
        block_id="buttons",
    ),
    {"type": "divider"},
    {"type": "image", "image_url": "https://x/chart.png", "alt_text": "chart", "title": pt("Week")},
    {"type": "markdown", "text": "**bold**"},
    {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "q"}]}],
    },
]


def test_a_realistic_ticket_card_is_accepted() -> None:
    assert validate_message_blocks(TICKET_CARD) == []


def test_a_realistic_reply_modal_and_home_tab_are_accepted() -> None:
    blocks = [
        input_block(text_input(multiline=True, min_length=1, max_length=3000)),
        input_block(
            {
                "type": "checkboxes",
                "action_id": "close",
                "options": [{"text": md("*close*"), "value": "y"}],
            },
            block_id="close",
            optional=True,
        ),
        input_block(
            {"type": "number_input", "action_id": "m", "is_decimal_allowed": False},
            block_id="minutes",
        ),
    ]
    assert validate_view(modal(blocks, private_metadata="x" * 3000)) == []
    assert validate_view({"type": "home", "blocks": TICKET_CARD}) == []


def test_exactly_at_the_limits_is_accepted() -> None:
    blocks = [section("x" * 3000, block_id="b" * 255)] + [{"type": "divider"}] * 49
    assert validate_message_blocks(blocks) == []
    assert validate_message_blocks([{"type": "header", "text": pt("h" * 150)}]) == []
    assert validate_message_blocks([actions(*[button(action_id=f"a{i}") for i in range(25)])]) == []
    assert validate_view(modal(title=pt("t" * 24), submit=pt("s" * 24), close=pt("c" * 24))) == []
    assert validate_view(modal([{"type": "divider"}] * 100, submit=None)) == []


MESSAGE_CASES: list[tuple[str, list[Any], str, str]] = [
    ("51 blocks", [{"type": "divider"}] * 51, "/blocks", "no more than 50"),
    ("not a list", {"type": "divider"}, "/blocks", "must be an array"),  # type: ignore[list-item]
    ("unknown type", [{"type": "carousel_of_doom"}], "/blocks/0", "failed to match"),
    ("block not object", ["divider"], "/blocks/0", "failed to match"),
    ("section 3001", [section("x" * 3001)], "/blocks/0/text/text", "less than 3001"),
    ("section empty", [section("")], "/blocks/0/text/text", "more than 0"),
    ("section no text", [{"type": "section"}], "/blocks/0", "missing required field: text"),
    (
        "text type",
        [{"type": "section", "text": {"type": "html", "text": "x"}}],
        "/blocks/0/text/type",
        "one of",
    ),
    ("11 fields", [section(fields=[md("f")] * 11)], "/blocks/0/fields", "no more than 10"),
    ("field 2001", [section(fields=[md("f" * 2001)])], "/blocks/0/fields/0/text", "less than 2001"),
    ("header mrkdwn", [{"type": "header", "text": md("h")}], "/blocks/0/text/type", "plain_text"),
    ("header 151", [{"type": "header", "text": pt("h" * 151)}], "/blocks/0/text/text", "150"),
    ("block_id 256", [section(block_id="b" * 256)], "/blocks/0/block_id", "less than 256"),
    (
        "26 elements",
        [actions(*[button(action_id=f"a{i}") for i in range(26)])],
        "/blocks/0/elements",
        "25",
    ),
    ("0 elements", [actions()], "/blocks/0/elements", "at least 1"),
    ("11 context", [{"type": "context", "elements": [md("c")] * 11}], "/blocks/0/elements", "10"),
    (
        "button 76",
        [actions(button(text=pt("b" * 76)))],
        "/blocks/0/elements/0/text/text",
        "less than 76",
    ),
    (
        "button mrkdwn",
        [actions(button(text=md("b")))],
        "/blocks/0/elements/0/text/type",
        "plain_text",
    ),
    (
        "action_id 256",
        [actions(button(action_id="a" * 256))],
        "/blocks/0/elements/0/action_id",
        "256",
    ),
    ("value 2001", [actions(button(value="v" * 2001))], "/blocks/0/elements/0/value", "2001"),
    ("url 3001", [actions(button(url="u" * 3001))], "/blocks/0/elements/0/url", "3001"),
    (
        "style",
        [actions(button(style="secondary"))],
        "/blocks/0/elements/0/style",
        "primary, danger",
    ),
    ("dup action_id", [actions(button(), button())], "/blocks/0/elements/1/action_id", "duplicate"),
    (
        "dup block_id",
        [section(block_id="x"), section(block_id="x")],
        "/blocks/1/block_id",
        "duplicate",
    ),
    (
        "overflow 6",
        [actions({"type": "overflow", "action_id": "o", "options": [option()] * 6})],
        "/blocks/0/elements/0/options",
        "5",
    ),
    (
        "option text 76",
        [actions({"type": "overflow", "action_id": "o", "options": [option("t" * 76)]})],
        "/blocks/0/elements/0/options/0/text/text",
        "76",
    ),
    (
        "option value 151",
        [actions({"type": "overflow", "action_id": "o", "options": [option(value="v" * 151)]})],
        "/blocks/0/elements/0/options/0/value",
        "151",
    ),
    (
        "option no value",
        [actions({"type": "overflow", "action_id": "o", "options": [{"text": pt("t")}]})],
        "/blocks/0/elements/0/options/0",
        "value",
    ),
    (
        "select 101",
        [actions({"type": "static_select", "action_id": "s", "options": [option()] * 101})],
        "/blocks/0/elements/0/options",
        "100",
    ),
    (
        "checkboxes 11",
        [actions({"type": "checkboxes", "action_id": "c", "options": [option()] * 11})],
        "/blocks/0/elements/0/options",
        "10",
    ),
    (
        "placeholder 151",
        [
            actions(
                {
                    "type": "static_select",
                    "action_id": "s",
                    "placeholder": pt("p" * 151),
                    "options": [option()],
                }
            )
        ],
        "/blocks/0/elements/0/placeholder/text",
        "151",
    ),
    (
        "confirm title 101",
        [
            actions(
                button(
                    confirm={
                        "title": pt("t" * 101),
                        "text": md("x"),
                        "confirm": pt("y"),
                        "deny": pt("n"),
                    }
                )
            )
        ],
        "/blocks/0/elements/0/confirm/title/text",
        "101",
    ),
    ("image no alt", [{"type": "image", "image_url": "https://x/y.png"}], "/blocks/0", "alt_text"),
    (
        "image url 3001",
        [{"type": "image", "image_url": "u" * 3001, "alt_text": "a"}],
        "/blocks/0/image_url",
        "3001",
    ),
    (
        "accessory input",
        [section(accessory=text_input())],
        "/blocks/0/accessory",
        "failed to match",
    ),
    ("input no label", [{"type": "input", "element": text_input()}], "/blocks/0", "label"),
    ("label 2001", [input_block(label=pt("l" * 2001))], "/blocks/0/label/text", "2001"),
    ("button in input", [input_block(button())], "/blocks/0/element", "failed to match"),
    (
        "min_length 3001",
        [input_block(text_input(min_length=3001))],
        "/blocks/0/element/min_length",
        "between 0 and 3000",
    ),
    (
        "max_length 0",
        [input_block(text_input(max_length=0))],
        "/blocks/0/element/max_length",
        "between 1 and 3000",
    ),
    (
        "min > max",
        [input_block(text_input(min_length=10, max_length=5))],
        "/blocks/0/element/min_length",
        "max_length",
    ),
    (
        "input placeholder 151",
        [input_block(text_input(placeholder=pt("p" * 151)))],
        "/blocks/0/element/placeholder/text",
        "151",
    ),
    ("markdown 12001", [{"type": "markdown", "text": "m" * 12001}], "/blocks/0/text", "12001"),
    ("sdk: video fields", [{"type": "video"}], "/blocks/0", "alt_text"),
]


@pytest.mark.parametrize(
    ("blocks", "pointer", "wording"),
    [case[1:] for case in MESSAGE_CASES],
    ids=[case[0] for case in MESSAGE_CASES],
)
def test_message_blocks_over_a_limit_are_rejected(blocks: Any, pointer: str, wording: str) -> None:
    violations = validate_message_blocks(blocks)
    assert violations, "expected a violation"
    assert any(v.pointer == pointer and wording in v.message for v in violations), violations


VIEW_CASES: list[tuple[str, Any, str, str]] = [
    ("not an object", "modal", "/view", "object"),
    ("bad type", modal(type="workflow"), "/view/type", "modal, home"),
    ("no title", modal(title=None), "/view", "title"),
    ("title 25", modal(title=pt("t" * 25)), "/view/title/text", "must be less than 25 characters"),
    ("title mrkdwn", modal(title=md("t")), "/view/title/type", "plain_text"),
    ("submit 25", modal(submit=pt("s" * 25)), "/view/submit/text", "less than 25"),
    ("close 25", modal(close=pt("c" * 25)), "/view/close/text", "less than 25"),
    ("input without submit", modal(submit=None), "/view/submit", "inputs"),
    ("metadata 3001", modal(private_metadata="m" * 3001), "/view/private_metadata", "3001"),
    ("callback_id 256", modal(callback_id="c" * 256), "/view/callback_id", "256"),
    ("external_id 256", modal(external_id="e" * 256), "/view/external_id", "256"),
    ("101 blocks", modal([{"type": "divider"}] * 101, submit=None), "/view/blocks", "100"),
    ("no blocks", modal(blocks=None) | {"blocks": None}, "/view", "blocks"),
    ("bad block", modal([section("x" * 3001)]), "/view/blocks/0/text/text", "3001"),
    ("home submit", {"type": "home", "blocks": [], "submit": pt("s")}, "/view/submit", "home"),
    ("home close", {"type": "home", "blocks": [], "close": pt("c")}, "/view/close", "home"),
]


@pytest.mark.parametrize(
    ("view", "pointer", "wording"),
    [case[1:] for case in VIEW_CASES],
    ids=[case[0] for case in VIEW_CASES],
)
def test_views_over_a_limit_are_rejected(view: Any, pointer: str, wording: str) -> None:
    violations = validate_view(view)
    assert any(v.pointer == pointer and wording in v.message for v in violations), violations


def test_views_are_checked_against_the_allowed_kind() -> None:
    assert (
        validate_view({"type": "home", "blocks": []}, kinds=("modal",))[0].pointer == "/view/type"
    )


def test_a_view_above_250_kb_is_too_large() -> None:
    small = modal([section("x" * 3000)] * 80, submit=None)
    big = {"type": "home", "blocks": [section("x" * 3000)] * 90}
    assert not is_view_too_large(small)
    assert is_view_too_large(big)


def test_long_text_is_truncated_at_40000_characters_not_rejected() -> None:
    assert truncate_text("a" * 40_000) == ("a" * 40_000, False)
    text, truncated = truncate_text("a" * 40_001)
    assert truncated
    assert len(text) == 40_000


def test_invalid_blocks_body_matches_slacks_observed_shape() -> None:
    body = invalid_blocks_body(validate_message_blocks([section("x" * 3001)]))
    assert body == {
        "ok": False,
        "error": "invalid_blocks",
        "errors": ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"],
        "response_metadata": {
            "messages": [
                "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
            ]
        },
    }


def test_view_messages_are_prefixed_like_slacks() -> None:
    messages = invalid_arguments_messages(validate_view(modal(title=pt("t" * 25))))
    assert messages == ["[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"]
