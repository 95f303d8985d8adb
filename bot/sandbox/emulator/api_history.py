"""conversations.history and conversations.replies: reading messages back.

Shaped after Slack's docs: history is newest first and leaves thread replies out
(unless broadcast); replies is the thread's parent then its replies, oldest first;
`oldest`/`latest` are exclusive unless `inclusive`; cursor pagination; message
`metadata` only with `include_all_metadata`; public channels need
channels:history, private ones groups:history, and the bot must be a member.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.sandbox.emulator.api import CallContext, Reply, find_channel, method
from bot.sandbox.emulator.api_misc import cursor_for, page_window
from bot.sandbox.emulator.config import Channel
from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.state import Message

MAX_LIMIT = 999


def _readable(ctx: CallContext) -> Channel:
    chan = find_channel(ctx)
    needed = "groups:history" if chan.is_private else "channels:history"
    if needed not in ctx.state.scopes:
        raise ApiError("missing_scope", needed=needed, provided=",".join(ctx.state.scopes))
    if ctx.state.config.bot_user_id not in chan.members:
        raise ApiError("channel_not_found" if chan.is_private else "not_in_channel")
    return chan


def _window(ctx: CallContext) -> Callable[[Message], bool]:
    try:
        oldest = float(ctx.opt_str("oldest") or 0)
        latest = float(ctx.opt_str("latest") or "inf")
    except ValueError:
        raise ApiError("invalid_ts_oldest") from None
    inclusive = ctx.flag("inclusive")

    def within(msg: Message) -> bool:
        ts = float(msg.ts)
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    return within


def _page(ctx: CallContext, messages: list[Message], key: str) -> Reply:
    start, limit = page_window(ctx, MAX_LIMIT)
    chunk = messages[start : start + limit]
    more = start + limit < len(messages)
    profile = ctx.state.bot_profile()
    with_metadata = ctx.flag("include_all_metadata")
    rendered = []
    for msg in chunk:
        body = msg.to_api(profile if msg.bot_id else None)
        if not with_metadata:
            body.pop("metadata", None)
        rendered.append(body)
    return {
        "ok": True,
        key: rendered,
        "has_more": more,
        "response_metadata": {"next_cursor": cursor_for(start + limit) if more else ""},
    }


@method("conversations.history")
def conversations_history(ctx: CallContext) -> Reply:
    """Top-level messages, newest first."""
    chan = _readable(ctx)
    within = _window(ctx)
    found = [
        m
        for m in ctx.state.messages.get(chan.id, [])
        if not m.deleted and (not m.is_reply or m.reply_broadcast) and within(m)
    ]
    found.sort(key=lambda m: float(m.ts), reverse=True)
    return _page(ctx, found, "messages")


@method("conversations.replies")
def conversations_replies(ctx: CallContext) -> Reply:
    """A thread: its parent, then the replies, oldest first."""
    chan = _readable(ctx)
    ts = ctx.req_str("ts", "thread_not_found")
    parent = ctx.state.find_message(chan.id, ts)
    if parent is None or parent.deleted:
        raise ApiError("thread_not_found")
    root = parent.thread_ts if parent.is_reply and parent.thread_ts else parent.ts
    within = _window(ctx)
    thread = [
        m
        for m in ctx.state.messages.get(chan.id, [])
        if not m.deleted and root in (m.ts, m.thread_ts) and within(m)
    ]
    thread.sort(key=lambda m: (m.ts != root, float(m.ts)))
    return _page(ctx, thread, "messages")
