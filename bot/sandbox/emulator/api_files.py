"""The files v2 flow: getUploadURLExternal → POST bytes to upload_url → completeUploadExternal.

The upload step itself is an HTTP endpoint of the server (`/upload/v1/<file_id>`); this module
holds the two Web API halves and `store_upload`, which the endpoint calls.
"""

from __future__ import annotations

from bot.sandbox.emulator.api import (
    CallContext,
    Content,
    Reply,
    bot_message,
    method,
    thread_parent,
    writable_channel,
)
from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.state import SlackState, UploadedFile

MAX_ALT_TXT = 1000
MAX_SHARE_CHANNELS = 100


@method("files.getUploadURLExternal", scope="files:write")
def get_upload_url(ctx: CallContext) -> Reply:
    """Reserve a file id and hand out an upload URL pointing back at this emulator."""
    filename = ctx.req_str("filename")
    try:
        length = int(ctx.req_str("length"))
    except ValueError:
        raise ApiError(
            "invalid_arguments", messages=["[ERROR] length must be an integer"]
        ) from None
    if length <= 0:
        raise ApiError("missing_argument")
    alt_txt = ctx.opt_str("alt_txt")
    if alt_txt is not None and len(alt_txt) > MAX_ALT_TXT:
        raise ApiError("alt_txt_too_large")
    state = ctx.state
    file = UploadedFile(
        id=state.new_id("F"),
        filename=filename,
        length=length,
        user=state.config.bot_user_id,
        alt_txt=alt_txt,
    )
    state.files[file.id] = file
    return {"ok": True, "upload_url": f"{ctx.root_url}/upload/v1/{file.id}", "file_id": file.id}


def store_upload(state: SlackState, file_id: str, content: bytes) -> str | None:
    """Keep the uploaded bytes; else why not: the id was never issued or is complete
    already, or the bytes are not the `length` given to files.getUploadURLExternal."""
    file = state.files.get(file_id)
    if file is None or file.completed:
        return "file_not_found"
    if len(content) != file.length:
        return f"length_mismatch: {len(content)} bytes sent, {file.length} announced"
    file.content = content
    return None


def _file_list(ctx: CallContext) -> list[UploadedFile]:
    raw = ctx.json_arg("files", "invalid_arguments")
    if not isinstance(raw, list) or not raw:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: files"])
    out: list[UploadedFile] = []
    for item in raw:
        file = ctx.state.files.get(str(item.get("id"))) if isinstance(item, dict) else None
        if file is None or file.content is None or file.completed:
            raise ApiError("file_not_found")
        if isinstance(item, dict) and item.get("title"):
            file.title = str(item["title"])
        out.append(file)
    return out


@method("files.completeUploadExternal", scope="files:write")
def complete_upload(ctx: CallContext) -> Reply:
    """Finish uploads (once each) and share them into a channel or thread as one message."""
    files = _file_list(ctx)
    targets = [c for c in (ctx.opt_str("channels") or "").split(",") if c]
    if ctx.opt_str("channel_id"):
        targets.insert(0, ctx.req_str("channel_id"))
    if len(targets) > MAX_SHARE_CHANNELS:
        raise ApiError("channels_limit_exceeded")
    channels = [writable_channel(_with_channel(ctx, c)).id for c in targets]
    thread_ts = ctx.opt_str("thread_ts")
    if thread_ts is not None and not channels:
        raise ApiError("invalid_channel")
    parents = {c: thread_parent(ctx.state, c, thread_ts) for c in channels}
    comment = ctx.opt_str("initial_comment") or ""
    for file in files:
        file.completed = True
        file.title = file.title or file.filename
        file.initial_comment = comment or None
        file.channel = channels[0] if channels else None
        file.thread_ts = parents[channels[0]] if channels else None
    for chan in channels:
        msg = bot_message(
            ctx.state,
            chan,
            Content(comment, None, None, False),
            thread_ts=parents[chan],
            files=[f.id for f in files],
        )
        ctx.state.add_message(msg)
    return {"ok": True, "files": [f.to_api() for f in files]}


def _with_channel(ctx: CallContext, channel: str) -> CallContext:
    """A copy of the context whose `channel` argument is `channel` (for the shared checks)."""
    return CallContext(ctx.state, {"channel": channel}, ctx.token, ctx.root_url, ctx.rate_limit)
