"""chat.* and reactions.add: the methods that create and change messages."""

from __future__ import annotations

import re

from bot.sandbox.emulator.api import (
    CallContext,
    RateLimited,
    Reply,
    bot_message,
    find_channel,
    message_content,
    method,
    thread_parent,
    writable_channel,
)
from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.state import Ephemeral, Message, MessageVersion

EMOJI_NAME = re.compile(r"^[a-z0-9_+\-']+(::skin-tone-[2-6])?$")


def _own_message(ctx: CallContext, channel: str, ts: str | None) -> Message:
    """A live message the bot may edit; others' messages give cant_update_message."""
    msg = ctx.state.find_message(channel, ts) if ts else None
    if msg is None or msg.deleted:
        raise ApiError("message_not_found")
    if msg.bot_id != ctx.state.config.bot_id:
        raise ApiError("cant_update_message")
    return msg


@method("chat.postMessage", scope="chat:write")
def post_message(ctx: CallContext) -> Reply:
    """Post to a channel or thread; the reply echoes the message as Slack stored it."""
    chan = writable_channel(ctx)
    content = message_content(ctx)
    thread_ts = thread_parent(ctx.state, chan.id, ctx.opt_str("thread_ts"))
    retry_after = ctx.rate_limit.acquire(chan.id, ctx.now)
    if retry_after is not None:
        raise RateLimited(retry_after)
    metadata = ctx.json_arg("metadata", "invalid_metadata_format")
    msg = bot_message(
        ctx.state,
        chan.id,
        content,
        thread_ts=thread_ts,
        reply_broadcast=ctx.flag("reply_broadcast") and thread_ts is not None,
        metadata=metadata if isinstance(metadata, dict) else None,
    )
    ctx.state.add_message(msg)
    return {
        "ok": True,
        "channel": chan.id,
        "ts": msg.ts,
        "message": msg.to_api(ctx.state.bot_profile()),
    }


@method("chat.update", scope="chat:write")
def update(ctx: CallContext) -> Reply:
    """Replace a bot message's content, keeping each earlier version in `history`."""
    chan = find_channel(ctx)
    msg = _own_message(ctx, chan.id, ctx.opt_str("ts"))
    content = message_content(ctx)
    msg.history.append(MessageVersion(msg.text, msg.blocks, msg.attachments, ctx.state.next_ts()))
    if ctx.args.get("text") is not None or ctx.args.get("markdown_text") is not None:
        msg.text, msg.text_truncated = content.text, content.truncated
    if ctx.args.get("blocks") is not None:
        msg.blocks = content.blocks
    if ctx.args.get("attachments") is not None:
        msg.attachments = content.attachments
    msg.edited_ts = ctx.state.next_ts()
    return {
        "ok": True,
        "channel": chan.id,
        "ts": msg.ts,
        "text": msg.text,
        "message": msg.to_api(ctx.state.bot_profile()),
    }


@method("chat.delete", scope="chat:write")
def delete(ctx: CallContext) -> Reply:
    """Delete a bot message (kept in state with `deleted=True` so tests can see it)."""
    chan = find_channel(ctx)
    msg = _own_message(ctx, chan.id, ctx.opt_str("ts"))
    msg.deleted = True
    return {"ok": True, "channel": chan.id, "ts": msg.ts}


@method("chat.postEphemeral", scope="chat:write")
def post_ephemeral(ctx: CallContext) -> Reply:
    """Show a message to one channel member only; outsiders give user_not_in_channel."""
    chan = writable_channel(ctx)
    user = ctx.req_str("user", "user_not_found")
    if user not in ctx.state.users:
        raise ApiError("user_not_found")
    if user not in chan.members:
        raise ApiError("user_not_in_channel")
    content = message_content(ctx)
    eph = Ephemeral(
        channel=chan.id,
        user=user,
        message_ts=ctx.state.next_ts(),
        text=content.text,
        blocks=content.blocks,
        thread_ts=ctx.opt_str("thread_ts"),
    )
    ctx.state.ephemerals.append(eph)
    return {"ok": True, "message_ts": eph.message_ts}


@method("chat.getPermalink")
def get_permalink(ctx: CallContext) -> Reply:
    """A permalink in Slack's archive-URL form (the exact format is UNVERIFIED)."""
    chan = find_channel(ctx)
    msg = ctx.state.find_message(chan.id, ctx.req_str("message_ts", "message_not_found"))
    if msg is None or msg.deleted:
        raise ApiError("message_not_found")
    domain = ctx.state.config.team_domain
    link = f"https://{domain}.slack.com/archives/{chan.id}/p{msg.ts.replace('.', '')}"
    if msg.is_reply:
        link += f"?thread_ts={msg.thread_ts}&cid={chan.id}"
    return {"ok": True, "channel": chan.id, "permalink": link}


@method("reactions.add", scope="reactions:write")
def reactions_add(ctx: CallContext) -> Reply:
    """Add the bot's reaction to a message, once per emoji."""
    if ctx.opt_str("channel") is None or ctx.opt_str("timestamp") is None:
        raise ApiError("no_item_specified")
    chan = find_channel(ctx)
    name = ctx.req_str("name", "invalid_name").strip(":")
    if not EMOJI_NAME.match(name):
        raise ApiError("invalid_name")
    msg = ctx.state.find_message(chan.id, ctx.req_str("timestamp"))
    if msg is None or msg.deleted:
        raise ApiError("message_not_found")
    users = msg.reactions.setdefault(name, [])
    bot = ctx.state.config.bot_user_id
    if bot in users:
        raise ApiError("already_reacted")
    users.append(bot)
    return {"ok": True}
