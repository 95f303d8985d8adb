"""What a POST to a response_url does: new ephemeral/in-channel message, replace, delete.

It bypasses channel membership, as Slack's does. `delete_original` wins over everything else
(bolt's respond() sends it with an empty `text`). Failure bodies for an expired or used-up URL
are UNVERIFIED (SLACK.md §11); the emulator answers HTTP 404 with `expired_url` / `used_url`.
"""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.emulator.api import Content, bot_message, check_content
from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.response_urls import MAX_USES, TTL_SECONDS, ResponseOrigin
from bot.sandbox.emulator.state import (
    Ephemeral,
    Message,
    MessageVersion,
    ResponseUrlPost,
    SlackState,
)


def apply_response(state: SlackState, url_id: str, body: Any) -> tuple[int, dict[str, Any]]:
    """Apply and record one response_url POST; (HTTP status, JSON body). Caller holds the lock."""
    status, answer = _apply(state, url_id, body)
    recorded = body if isinstance(body, dict) else {"_raw": body}
    error = None if answer.get("ok") else str(answer.get("error"))
    state.response_posts.append(ResponseUrlPost(url_id, recorded, state.clock(), status, error))
    return status, answer


def _apply(state: SlackState, url_id: str, body: Any) -> tuple[int, dict[str, Any]]:
    entry = state.response_urls.urls.get(url_id)
    if entry is None:
        return 404, {"ok": False, "error": "invalid_url"}
    if state.clock() - entry.issued_at > TTL_SECONDS:
        return 404, {"ok": False, "error": "expired_url"}
    if entry.uses >= MAX_USES:
        return 404, {"ok": False, "error": "used_url"}
    if not isinstance(body, dict):
        return 400, {"ok": False, "error": "invalid_payload"}
    entry.uses += 1
    origin = entry.origin
    if body.get("delete_original"):
        return _delete_original(state, origin)
    try:
        content = check_content(body.get("text"), body.get("blocks"), body.get("attachments"))
    except ApiError as exc:
        return 400, exc.body()
    if body.get("replace_original") and origin.kind in ("message", "ephemeral"):
        return _replace_original(state, origin, content)
    if origin.channel is None:
        return 404, {"ok": False, "error": "channel_not_found"}
    thread_ts = body.get("thread_ts")
    if body.get("response_type") == "in_channel":
        msg = bot_message(state, origin.channel, content, thread_ts=thread_ts, source="response")
        state.add_message(msg)
        return 200, {"ok": True}
    state.ephemerals.append(
        Ephemeral(
            channel=origin.channel,
            user=origin.user_id,
            message_ts=state.next_ts(),
            text=content.text,
            blocks=content.blocks,
            thread_ts=thread_ts,
            source="response",
        )
    )
    return 200, {"ok": True}


def _delete_original(state: SlackState, origin: ResponseOrigin) -> tuple[int, dict[str, Any]]:
    target = _original(state, origin)
    if target is None:
        return 404, {"ok": False, "error": "message_not_found"}
    target.deleted = True
    return 200, {"ok": True}


def _replace_original(
    state: SlackState, origin: ResponseOrigin, content: Content
) -> tuple[int, dict[str, Any]]:
    target = _original(state, origin)
    if target is None:
        return 404, {"ok": False, "error": "message_not_found"}
    target.history.append(
        MessageVersion(target.text, copy.deepcopy(target.blocks), None, state.next_ts())
    )
    target.text, target.blocks = content.text, content.blocks
    return 200, {"ok": True}


def _original(state: SlackState, origin: ResponseOrigin) -> Message | Ephemeral | None:
    """The Message or Ephemeral an interaction came from (None for commands and views)."""
    if origin.channel is None or origin.message_ts is None:
        return None
    if origin.kind == "message":
        msg = state.find_message(origin.channel, origin.message_ts)
        return None if msg is None or msg.deleted else msg
    if origin.kind == "ephemeral":
        for eph in state.ephemerals:
            if (eph.channel, eph.user, eph.message_ts) == (
                origin.channel,
                origin.user_id,
                origin.message_ts,
            ):
                return None if eph.deleted else eph
    return None
