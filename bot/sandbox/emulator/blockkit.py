"""Block Kit limits from SLACK.md §5, as pure functions returning every violation found.

Nothing here raises: each check returns `Violation`s (a json-pointer plus Slack's wording), so
the caller can report all problems at once, the way Slack's `invalid_blocks` answer does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One broken rule, located by a JSON pointer into the request."""

    pointer: str
    message: str

    def render(self) -> str:
        """Slack's wording, e.g. 'must be less than 3001 characters [json-pointer:/blocks/0]'."""
        return f"{self.message} [json-pointer:{self.pointer}]"


SCHEMA_MISMATCH = "failed to match all allowed schemas"

SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
PICKERS = frozenset({"datepicker", "timepicker", "datetimepicker"})
CHOICES = frozenset({"checkboxes", "radio_buttons"})
TEXT_INPUTS = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input"}
)
ACTIONS_ELEMENTS = SELECTS | PICKERS | CHOICES | {"button", "overflow", "workflow_button"}
ACCESSORY_ELEMENTS = ACTIONS_ELEMENTS | {"image"}
INPUT_ELEMENTS = SELECTS | PICKERS | CHOICES | TEXT_INPUTS | {"file_input"}

CHECKED_BLOCKS = frozenset(
    {"section", "divider", "header", "image", "actions", "context", "input", "markdown"}
)
SDK_ONLY_BLOCKS = frozenset({"rich_text", "video", "file", "call", "table", "context_actions"})
KNOWN_BLOCKS = CHECKED_BLOCKS | SDK_ONLY_BLOCKS


def too_long(pointer: str, limit: int) -> Violation:
    """Slack's 'must be less than N+1 characters'."""
    return Violation(pointer, f"must be less than {limit + 1} characters")


def missing(pointer: str, name: str) -> Violation:
    """A required field is absent."""
    return Violation(pointer, f"missing required field: {name}")


def check_str(
    obj: Mapping[str, Any], key: str, pointer: str, *, max_len: int, required: bool = False
) -> list[Violation]:
    """A string field within 1..max_len (0 allowed only where Slack allows it)."""
    if key not in obj or obj[key] is None:
        return [missing(pointer, key)] if required else []
    value = obj[key]
    where = f"{pointer}/{key}"
    if not isinstance(value, str):
        return [Violation(where, "must be a string")]
    if required and not value:
        return [Violation(where, "must be more than 0 characters")]
    if len(value) > max_len:
        return [too_long(where, max_len)]
    return []


def check_text(
    obj: Any, pointer: str, *, max_len: int = 3000, plain_only: bool = False
) -> list[Violation]:
    """A text object: plain_text or mrkdwn, 1..max_len characters (never above 3000)."""
    if not isinstance(obj, Mapping):
        return [Violation(pointer, SCHEMA_MISMATCH)]
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        return [Violation(f"{pointer}/type", f"must be one of: {', '.join(allowed)}")]
    text = obj.get("text")
    if not isinstance(text, str):
        return [missing(pointer, "text")]
    if not text:
        return [Violation(f"{pointer}/text", "must be more than 0 characters")]
    if len(text) > min(max_len, 3000):
        return [too_long(f"{pointer}/text", min(max_len, 3000))]
    return []


def check_optional_text(
    obj: Mapping[str, Any], key: str, pointer: str, *, max_len: int, plain_only: bool = True
) -> list[Violation]:
    """A text object that may be absent."""
    if obj.get(key) is None:
        return []
    return check_text(obj[key], f"{pointer}/{key}", max_len=max_len, plain_only=plain_only)


def check_confirm(obj: Mapping[str, Any], pointer: str) -> list[Violation]:
    """The confirm dialog object: title ≤100, text ≤300, confirm/deny ≤30."""
    if obj.get("confirm") is None:
        return []
    conf = obj["confirm"]
    where = f"{pointer}/confirm"
    if not isinstance(conf, Mapping):
        return [Violation(where, SCHEMA_MISMATCH)]
    out: list[Violation] = []
    for key, limit in (("title", 100), ("confirm", 30), ("deny", 30)):
        if conf.get(key) is None:
            out.append(missing(where, key))
        else:
            out += check_text(conf[key], f"{where}/{key}", max_len=limit, plain_only=True)
    if conf.get("text") is None:
        out.append(missing(where, "text"))
    else:
        out += check_text(conf["text"], f"{where}/text", max_len=300)
    out += check_style(conf, where)
    return out


def check_style(obj: Mapping[str, Any], pointer: str) -> list[Violation]:
    """`style` is only ever primary or danger."""
    if obj.get("style") is None or obj["style"] in ("primary", "danger"):
        return []
    return [Violation(f"{pointer}/style", "must be one of: primary, danger")]


def check_option(opt: Any, pointer: str, *, allow_mrkdwn: bool = False) -> list[Violation]:
    """An option object: text ≤75, value ≤150, description ≤75, url ≤3000."""
    if not isinstance(opt, Mapping):
        return [Violation(pointer, SCHEMA_MISMATCH)]
    out: list[Violation] = []
    if opt.get("text") is None:
        out.append(missing(pointer, "text"))
    else:
        out += check_text(opt["text"], f"{pointer}/text", max_len=75, plain_only=not allow_mrkdwn)
    out += check_str(opt, "value", pointer, max_len=150, required=True)
    out += check_optional_text(opt, "description", pointer, max_len=75, plain_only=not allow_mrkdwn)
    out += check_str(opt, "url", pointer, max_len=3000)
    return out


def check_options(
    obj: Mapping[str, Any],
    key: str,
    pointer: str,
    *,
    min_items: int,
    max_items: int,
    allow_mrkdwn: bool = False,
) -> list[Violation]:
    """A list of option objects with a size range."""
    options = obj.get(key)
    where = f"{pointer}/{key}"
    if not isinstance(options, list):
        return [missing(pointer, key)]
    if len(options) < min_items:
        return [Violation(where, f"must provide at least {min_items} items")]
    if len(options) > max_items:
        return [Violation(where, f"must provide no more than {max_items} items")]
    out: list[Violation] = []
    for i, opt in enumerate(options):
        out += check_option(opt, f"{where}/{i}", allow_mrkdwn=allow_mrkdwn)
    return out


def _check_button(el: Mapping[str, Any], pointer: str) -> list[Violation]:
    out: list[Violation] = []
    if el.get("text") is None:
        out.append(missing(pointer, "text"))
    else:
        out += check_text(el["text"], f"{pointer}/text", max_len=75, plain_only=True)
    out += check_str(el, "value", pointer, max_len=2000)
    out += check_str(el, "url", pointer, max_len=3000)
    out += check_str(el, "accessibility_label", pointer, max_len=75)
    return out + check_style(el, pointer)


def _check_select(el: Mapping[str, Any], pointer: str) -> list[Violation]:
    if el["type"] not in ("static_select", "multi_static_select"):
        return []
    has_options, has_groups = el.get("options") is not None, el.get("option_groups") is not None
    if has_options == has_groups:
        return [Violation(pointer, "must provide exactly one of: options, option_groups")]
    if has_options:
        return check_options(el, "options", pointer, min_items=1, max_items=100)
    groups = el["option_groups"]
    if not isinstance(groups, list) or not 1 <= len(groups) <= 100:
        return [Violation(f"{pointer}/option_groups", "must provide 1 to 100 items")]
    out: list[Violation] = []
    for i, group in enumerate(groups):
        where = f"{pointer}/option_groups/{i}"
        if not isinstance(group, Mapping) or group.get("label") is None:
            out.append(missing(where, "label"))
            continue
        out += check_text(group["label"], f"{where}/label", max_len=75, plain_only=True)
        out += check_options(group, "options", where, min_items=1, max_items=100)
    return out


def _check_text_input(el: Mapping[str, Any], pointer: str) -> list[Violation]:
    out: list[Violation] = []
    bounds = {"min_length": (0, 3000), "max_length": (1, 3000)}
    for key, (low, high) in bounds.items():
        value = el.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            out.append(Violation(f"{pointer}/{key}", f"must be between {low} and {high}"))
    lo, hi = el.get("min_length"), el.get("max_length")
    if not out and isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        out.append(Violation(f"{pointer}/min_length", "must be less than or equal to max_length"))
    if isinstance(hi, int) and isinstance(el.get("initial_value"), str):
        out += check_str(el, "initial_value", pointer, max_len=hi)
    return out


def _check_image_element(el: Mapping[str, Any], pointer: str) -> list[Violation]:
    out = check_str(el, "alt_text", pointer, max_len=2000, required=True)
    if el.get("slack_file") is None:
        out += check_str(el, "image_url", pointer, max_len=3000, required=True)
    return out


def check_element(el: Any, pointer: str, allowed: frozenset[str]) -> list[Violation]:
    """An element inside an actions, section-accessory or input block."""
    if not isinstance(el, Mapping) or el.get("type") not in allowed:
        return [Violation(pointer, SCHEMA_MISMATCH)]
    kind = el["type"]
    out = check_str(el, "action_id", pointer, max_len=255)
    out += check_optional_text(el, "placeholder", pointer, max_len=150)
    out += check_confirm(el, pointer)
    if kind == "button":
        out += _check_button(el, pointer)
    elif kind == "image":
        out += _check_image_element(el, pointer)
    elif kind in SELECTS:
        out += _check_select(el, pointer)
    elif kind == "overflow":
        out += check_options(el, "options", pointer, min_items=1, max_items=5)
    elif kind in CHOICES:
        out += check_options(el, "options", pointer, min_items=1, max_items=10, allow_mrkdwn=True)
    elif kind == "plain_text_input":
        out += _check_text_input(el, pointer)
    return out
