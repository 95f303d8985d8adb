"""The Web API method registry and the helpers every method handler shares.

Handlers are plain synchronous functions `(CallContext) -> Reply`, run by the router while it
holds the state lock, so each call is applied atomically. They raise `ApiError` for Slack's
`{"ok": false}` answers and `RateLimited` for a 429.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.emulator.config import JSON, Channel
from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.faults import ChannelRateLimit
from bot.sandbox.emulator.state import Message, SlackState
from bot.sandbox.emulator.validation import (
    MAX_ATTACHMENTS,
    invalid_blocks_body,
    truncate_text,
    validate_message_blocks,
)

Reply = JSON | tuple[JSON, dict[str, str]]


class RateLimited(Exception):
    """Answer HTTP 429 with this Retry-After; raised before any state change."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"ratelimited, retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass
class CallContext:
    """One Web API call: parsed arguments, the caller's token and the state to act on."""

    state: SlackState
    args: JSON
    token: str
    root_url: str
    rate_limit: ChannelRateLimit

    @property
    def now(self) -> float:
        """The emulator clock's now."""
        return self.state.clock()

    def opt_str(self, name: str) -> str | None:
        """An optional string argument ('' counts as absent, as in Slack's form handling)."""
        value = self.args.get(name)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else str(value)

    def req_str(self, name: str, error: str | None = None) -> str:
        """A required string argument, or `error` (default: invalid_arguments naming it)."""
        value = self.opt_str(name)
        if value is None:
            if error is not None:
                raise ApiError(error)
            raise ApiError(
                "invalid_arguments", messages=[f"[ERROR] missing required field: {name}"]
            )
        return value

    def flag(self, name: str) -> bool:
        """A boolean argument: JSON true or form '1'/'true'."""
        value = self.args.get(name)
        if isinstance(value, str):
            return value.lower() in ("1", "true")
        return bool(value)

    def json_arg(self, name: str, error: str) -> Any:
        """A JSON-valued argument, sent as JSON in a JSON body or as a string in a form."""
        value = self.args.get(name)
        if isinstance(value, str):
            if not value:
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(error) from None
        return value


MethodHandler = Callable[[CallContext], Reply]


@dataclass(frozen=True)
class MethodSpec:
    """A registered method: handler, scope it needs and which token type may call it."""

    name: str
    handler: MethodHandler
    scope: str | None
    token_kind: str


METHODS: dict[str, MethodSpec] = {}


def method(
    name: str, *, scope: str | None = None, token_kind: str = "bot"
) -> Callable[[MethodHandler], MethodHandler]:
    """Register a handler under its Slack method name."""

    def register(fn: MethodHandler) -> MethodHandler:
        METHODS[name] = MethodSpec(name, fn, scope, token_kind)
        return fn

    return register


def find_channel(ctx: CallContext, key: str = "channel") -> Channel:
    """A channel by id, by '#name' or (for posting to a DM) by user id; else channel_not_found."""
    raw = ctx.opt_str(key)
    state = ctx.state
    if raw is None:
        raise ApiError("channel_not_found")
    if raw in state.channels:
        return state.channels[raw]
    if raw[:1] in ("U", "W") and raw in state.users:
        return state.im_channel(raw)
    name = raw.removeprefix("#")
    for chan in state.channels.values():
        if chan.name == name and not chan.is_im:
            return chan
    raise ApiError("channel_not_found")


def writable_channel(ctx: CallContext, key: str = "channel") -> Channel:
    """A channel the bot may post in: member, or public with chat:write.public; not archived."""
    chan = find_channel(ctx, key)
    state = ctx.state
    public_ok = "chat:write.public" in state.scopes and not (chan.is_private or chan.is_im)
    if state.config.bot_user_id not in chan.members and not public_ok:
        raise ApiError("not_in_channel")
    if chan.is_archived:
        raise ApiError("is_archived")
    return chan


def thread_parent(state: SlackState, channel: str, thread_ts: str | None) -> str | None:
    """The parent ts a reply should hang off; a reply's ts maps to its own thread."""
    if thread_ts is None:
        return None
    parent = state.find_message(channel, thread_ts)
    if parent is None or parent.deleted:
        raise ApiError("thread_not_found")
    return parent.thread_ts if parent.is_reply else parent.ts


@dataclass(frozen=True)
class Content:
    """Validated message content of chat.* (and response_url) requests."""

    text: str
    blocks: list[JSON] | None
    attachments: list[JSON] | None
    truncated: bool


def message_content(ctx: CallContext, *, required: bool = True) -> Content:
    """text/blocks/attachments checked the way Slack checks them (no_text, invalid_blocks …)."""
    blocks = ctx.json_arg("blocks", "invalid_blocks_format")
    attachments = ctx.json_arg("attachments", "invalid_attachments")
    markdown = ctx.opt_str("markdown_text")
    text = ctx.opt_str("text")
    if markdown is not None:
        if text is not None or blocks:
            raise ApiError("markdown_text_conflict")
        if len(markdown) > 12_000:
            raise ApiError("msg_too_long")
        text = markdown
    return check_content(text, blocks, attachments, required=required)


def check_content(
    text: str | None, blocks: Any, attachments: Any, *, required: bool = True
) -> Content:
    """The shared rules behind `message_content`, also used for response_url bodies."""
    if blocks is not None:
        if not isinstance(blocks, list):
            raise ApiError("invalid_blocks_format")
        violations = validate_message_blocks(blocks)
        if violations:
            body = invalid_blocks_body(violations)
            raise ApiError(
                "invalid_blocks",
                messages=body["response_metadata"]["messages"],
                errors=body["errors"],
            )
    if attachments is not None:
        if not isinstance(attachments, list):
            raise ApiError("invalid_attachments")
        if len(attachments) > MAX_ATTACHMENTS:
            raise ApiError("too_many_attachments")
    if required and not text and not blocks and not attachments:
        raise ApiError("no_text")
    final, truncated = truncate_text(text or "")
    return Content(final, blocks or None, attachments or None, truncated)


def bot_message(ctx_state: SlackState, channel: str, content: Content, **extra: Any) -> Message:
    """A new message authored by the bot (carrying bot_id, as bolt's self-filter needs)."""
    cfg = ctx_state.config
    return Message(
        channel=channel,
        ts=ctx_state.next_ts(),
        text=content.text,
        user=cfg.bot_user_id,
        team=cfg.team_id,
        blocks=content.blocks,
        attachments=content.attachments,
        bot_id=cfg.bot_id,
        app_id=cfg.app_id,
        text_truncated=content.truncated,
        **extra,
    )
