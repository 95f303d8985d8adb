"""Whole-payload validation for chat.* and views.*: what Slack rejects, with Slack's error shapes.

Explicit checks of the documented limits (SLACK.md §5, in `blockkit`) come first, because they
give precise json-pointers; slack_sdk's own block/view models then cross-check every block that
passed, catching rules the explicit checks do not model. All functions here are pure.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.sandbox.emulator.blockkit import (
    ACCESSORY_ELEMENTS,
    ACTIONS_ELEMENTS,
    INPUT_ELEMENTS,
    KNOWN_BLOCKS,
    SCHEMA_MISMATCH,
    Violation,
    check_element,
    check_optional_text,
    check_str,
    check_text,
    missing,
)

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
TEXT_TRUNCATE_AT = 40_000
VIEW_MAX_BYTES = 250_000
MAX_ATTACHMENTS = 100


def _check_section(block: Mapping[str, Any], pointer: str) -> list[Violation]:
    out: list[Violation] = []
    if block.get("text") is None and block.get("fields") is None:
        return [missing(pointer, "text")]
    if block.get("text") is not None:
        out += check_text(block["text"], f"{pointer}/text", max_len=3000)
    fields = block.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or not fields:
            out.append(Violation(f"{pointer}/fields", "must provide at least 1 items"))
        elif len(fields) > 10:
            out.append(Violation(f"{pointer}/fields", "must provide no more than 10 items"))
        else:
            for i, item in enumerate(fields):
                out += check_text(item, f"{pointer}/fields/{i}", max_len=2000)
    if block.get("accessory") is not None:
        out += check_element(block["accessory"], f"{pointer}/accessory", ACCESSORY_ELEMENTS)
    return out


def _check_header(block: Mapping[str, Any], pointer: str) -> list[Violation]:
    if block.get("text") is None:
        return [missing(pointer, "text")]
    out = check_text(block["text"], f"{pointer}/text", max_len=3000, plain_only=True)
    text = block["text"].get("text") if isinstance(block["text"], Mapping) else None
    if not out and isinstance(text, str) and len(text) > 150:
        out.append(Violation(f"{pointer}/text/text", "must be no longer than 150 characters"))
    return out


def _check_image(block: Mapping[str, Any], pointer: str) -> list[Violation]:
    out = check_str(block, "alt_text", pointer, max_len=2000, required=True)
    if block.get("slack_file") is None:
        out += check_str(block, "image_url", pointer, max_len=3000, required=True)
    return out + check_optional_text(block, "title", pointer, max_len=2000)


def _check_elements(
    block: Mapping[str, Any], pointer: str, limit: int, allowed: frozenset[str]
) -> list[Violation]:
    elements = block.get("elements")
    where = f"{pointer}/elements"
    if not isinstance(elements, list):
        return [missing(pointer, "elements")]
    if not elements:
        return [Violation(where, "must provide at least 1 items")]
    if len(elements) > limit:
        return [Violation(where, f"must provide no more than {limit} items")]
    out: list[Violation] = []
    seen: set[str] = set()
    for i, el in enumerate(elements):
        if allowed:
            out += check_element(el, f"{where}/{i}", allowed)
        elif isinstance(el, Mapping) and el.get("type") == "image":
            out += check_element(el, f"{where}/{i}", frozenset({"image"}))
        else:
            out += check_text(el, f"{where}/{i}")
        action_id = el.get("action_id") if isinstance(el, Mapping) else None
        if isinstance(action_id, str):
            if action_id in seen:
                out.append(Violation(f"{where}/{i}/action_id", f"duplicate action_id: {action_id}"))
            seen.add(action_id)
    return out


def _check_input(block: Mapping[str, Any], pointer: str) -> list[Violation]:
    out: list[Violation] = []
    if block.get("label") is None:
        out.append(missing(pointer, "label"))
    else:
        out += check_text(block["label"], f"{pointer}/label", max_len=2000, plain_only=True)
    out += check_optional_text(block, "hint", pointer, max_len=2000)
    if block.get("element") is None:
        out.append(missing(pointer, "element"))
    else:
        out += check_element(block["element"], f"{pointer}/element", INPUT_ELEMENTS)
    return out


def check_block(block: Any, pointer: str) -> list[Violation]:
    """One block: known type, block_id ≤255, and the per-type limits."""
    if not isinstance(block, Mapping) or block.get("type") not in KNOWN_BLOCKS:
        return [Violation(pointer, SCHEMA_MISMATCH)]
    out = check_str(block, "block_id", pointer, max_len=255)
    kind = block["type"]
    if kind == "section":
        out += _check_section(block, pointer)
    elif kind == "header":
        out += _check_header(block, pointer)
    elif kind == "image":
        out += _check_image(block, pointer)
    elif kind == "actions":
        out += _check_elements(block, pointer, 25, ACTIONS_ELEMENTS)
    elif kind == "context":
        out += _check_elements(block, pointer, 10, frozenset())
    elif kind == "input":
        out += _check_input(block, pointer)
    elif kind == "markdown":
        out += check_str(block, "text", pointer, max_len=12_000, required=True)
    return out


def sdk_block_violations(block: Mapping[str, Any], pointer: str) -> list[Violation]:
    """What slack_sdk's models say about a block our explicit rules accepted."""
    try:
        parsed = Block.parse(copy.deepcopy(dict(block)))
        if parsed is None:
            return [Violation(pointer, SCHEMA_MISMATCH)]
        parsed.validate_json()
    except SlackObjectFormationError as exc:
        return [Violation(pointer, str(exc))]
    except (TypeError, ValueError, KeyError, AttributeError):
        return [Violation(pointer, SCHEMA_MISMATCH)]
    return []


def validate_blocks(blocks: Any, pointer: str, max_blocks: int) -> list[Violation]:
    """A blocks array: a list, at most `max_blocks`, each block valid, block_ids unique."""
    if not isinstance(blocks, list):
        return [Violation(pointer, "must be an array")]
    if len(blocks) > max_blocks:
        return [Violation(pointer, f"must provide no more than {max_blocks} items")]
    out: list[Violation] = []
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        found = check_block(block, where)
        if not found:
            found = sdk_block_violations(block, where)
        out += found
        block_id = block.get("block_id") if isinstance(block, Mapping) else None
        if isinstance(block_id, str):
            if block_id in seen:
                out.append(Violation(f"{where}/block_id", f"duplicate block_id: {block_id}"))
            seen.add(block_id)
    return out


def validate_message_blocks(blocks: Any) -> list[Violation]:
    """chat.postMessage / chat.update / chat.postEphemeral blocks (≤50)."""
    return validate_blocks(blocks, "/blocks", MESSAGE_MAX_BLOCKS)


def truncate_text(text: str) -> tuple[str, bool]:
    """Slack keeps at most 40,000 characters of top-level text and drops the rest silently."""
    if len(text) > TEXT_TRUNCATE_AT:
        return text[:TEXT_TRUNCATE_AT], True
    return text, False


def _check_view_top(view: Mapping[str, Any], kind: str) -> list[Violation]:
    out: list[Violation] = []
    has_input = any(
        isinstance(b, Mapping) and b.get("type") == "input" for b in view.get("blocks") or []
    )
    if kind == "modal":
        if view.get("title") is None:
            out.append(missing("/view", "title"))
        else:
            out += check_text(view["title"], "/view/title", max_len=24, plain_only=True)
        for key in ("submit", "close"):
            out += check_optional_text(view, key, "/view", max_len=24)
        if has_input and view.get("submit") is None:
            out.append(Violation("/view/submit", "must be provided when the view has inputs"))
    else:
        out += [
            Violation(f"/view/{key}", "must not be provided for home views")
            for key in ("submit", "close")
            if view.get(key) is not None
        ]
    out += check_str(view, "private_metadata", "/view", max_len=3000)
    out += check_str(view, "callback_id", "/view", max_len=255)
    out += check_str(view, "external_id", "/view", max_len=255)
    return out


def validate_view(view: Any, *, kinds: tuple[str, ...] = ("modal", "home")) -> list[Violation]:
    """A modal or Home view: type, title/submit/close, metadata sizes, ≤100 valid blocks."""
    if not isinstance(view, Mapping):
        return [Violation("/view", "must be an object")]
    kind = view.get("type")
    if kind not in kinds:
        return [Violation("/view/type", f"must be one of: {', '.join(kinds)}")]
    out = _check_view_top(view, str(kind))
    if view.get("blocks") is None:
        out.append(missing("/view", "blocks"))
    else:
        out += validate_blocks(view["blocks"], "/view/blocks", VIEW_MAX_BLOCKS)
    if not out:
        out += _sdk_view_violations(view)
    return out


def _sdk_view_violations(view: Mapping[str, Any]) -> list[Violation]:
    try:
        View(**copy.deepcopy(dict(view))).validate_json()
    except SlackObjectFormationError as exc:
        return [Violation("/view", str(exc))]
    except (TypeError, ValueError, KeyError, AttributeError):
        return [Violation("/view", SCHEMA_MISMATCH)]
    return []


def is_view_too_large(view: Any) -> bool:
    """Slack refuses views whose JSON exceeds 250 kB with `view_too_large`."""
    return len(json.dumps(view, ensure_ascii=False).encode()) > VIEW_MAX_BYTES


def invalid_blocks_body(violations: list[Violation]) -> dict[str, Any]:
    """The observed `invalid_blocks` answer: `errors` plus '[ERROR] …' messages."""
    rendered = [v.render() for v in violations]
    return {
        "ok": False,
        "error": "invalid_blocks",
        "errors": rendered,
        "response_metadata": {"messages": [f"[ERROR] {r}" for r in rendered]},
    }


def invalid_arguments_messages(violations: list[Violation]) -> list[str]:
    """`response_metadata.messages` for views.*: '[ERROR] … [json-pointer:/view/…]'."""
    return [f"[ERROR] {v.render()}" for v in violations]
