"""auth.test, users.*, conversations.* and apps.connections.open."""

from __future__ import annotations

import base64
import secrets

from bot.sandbox.emulator.api import CallContext, Reply, find_channel, method
from bot.sandbox.emulator.errors import ApiError

MAX_PAGE = 1000


@method("auth.test")
def auth_test(ctx: CallContext) -> Reply:
    """Who the token is; bolt reads the scopes from the `x-oauth-scopes` header."""
    cfg = ctx.state.config
    body = {
        "ok": True,
        "url": f"https://{cfg.team_domain}.slack.com/",
        "team": cfg.team_name,
        "user": cfg.bot_name,
        "team_id": cfg.team_id,
        "user_id": cfg.bot_user_id,
        "bot_id": cfg.bot_id,
        "app_id": cfg.app_id,
        "is_enterprise_install": False,
    }
    return body, {"x-oauth-scopes": ",".join(ctx.state.scopes)}


def _may_read_email(ctx: CallContext) -> bool:
    return "users:read.email" in ctx.state.scopes


@method("users.info", scope="users:read")
def users_info(ctx: CallContext) -> Reply:
    """A user by id (Slack Connect members of other teams too, with their own team_id);
    user_not_found otherwise. The e-mail only with users:read.email."""
    user = ctx.state.users.get(ctx.req_str("user", "user_not_found"))
    if user is None:
        raise ApiError("user_not_found")
    with_email = _may_read_email(ctx)
    return {"ok": True, "user": user.to_api(ctx.state.config.team_id, with_email=with_email)}


@method("users.lookupByEmail", scope="users:read.email")
def users_lookup_by_email(ctx: CallContext) -> Reply:
    """A user by e-mail; note the plural `users_not_found` Slack uses here."""
    user = ctx.state.user_by_email(ctx.req_str("email", "users_not_found"))
    if user is None:
        raise ApiError("users_not_found")
    return {"ok": True, "user": user.to_api(ctx.state.config.team_id)}


def cursor_for(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def offset_of(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        kind, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
        offset = int(value)
    except ValueError:
        raise ApiError("invalid_cursor") from None
    if kind != "offset":
        raise ApiError("invalid_cursor")
    return offset


def page_window(ctx: CallContext, maximum: int) -> tuple[int, int]:
    """(offset from `cursor`, `limit`) of a cursor-paginated call; default limit 100."""
    raw_limit = ctx.opt_str("limit")
    try:
        limit = int(raw_limit) if raw_limit is not None else 100
    except ValueError:
        raise ApiError("invalid_limit") from None
    if not 1 <= limit <= maximum:
        raise ApiError("invalid_limit")
    return offset_of(ctx.opt_str("cursor")), limit


@method("conversations.members", scope="channels:read")
def conversations_members(ctx: CallContext) -> Reply:
    """Member ids, cursor-paginated (default limit 100, at most 1000 per page)."""
    chan = find_channel(ctx)
    start, limit = page_window(ctx, MAX_PAGE)
    members = chan.members[start : start + limit]
    more = start + limit < len(chan.members)
    return {
        "ok": True,
        "members": list(members),
        "response_metadata": {"next_cursor": cursor_for(start + limit) if more else ""},
    }


@method("conversations.info", scope="channels:read")
def conversations_info(ctx: CallContext) -> Reply:
    """A channel's basic facts."""
    chan = find_channel(ctx)
    info = chan.to_api()
    info["is_member"] = ctx.state.config.bot_user_id in chan.members
    return {"ok": True, "channel": info}


@method("conversations.open", scope="im:write")
def conversations_open(ctx: CallContext) -> Reply:
    """The bot's DM with one user (multi-person DMs are not modelled)."""
    users = [u for u in ctx.req_str("users", "users_list_not_supplied").split(",") if u]
    if len(users) != 1:
        raise ApiError("not_supported")
    if users[0] not in ctx.state.users:
        raise ApiError("user_not_found")
    chan = ctx.state.im_channel(users[0])
    return {"ok": True, "channel": {"id": chan.id}}


@method("apps.connections.open", token_kind="app")
def apps_connections_open(ctx: CallContext) -> Reply:
    """A Socket Mode URL on this emulator (ws://…/link/?ticket=…)."""
    ws_root = ctx.root_url.replace("http://", "ws://", 1)
    return {"ok": True, "url": f"{ws_root}/link/?ticket={secrets.token_hex(8)}"}
