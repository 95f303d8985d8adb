"""views.open / push / update / publish, with Slack's trigger_id and hash rules."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.emulator.api import CallContext, Reply, method
from bot.sandbox.emulator.config import JSON
from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.state import SlackState, ViewRecord
from bot.sandbox.emulator.validation import (
    invalid_arguments_messages,
    is_view_too_large,
    validate_view,
)

MAX_STACK = 3


def _view_arg(ctx: CallContext, kinds: tuple[str, ...]) -> JSON:
    """The `view` argument, parsed and validated (invalid_arguments / view_too_large)."""
    view: Any = ctx.json_arg("view", "invalid_arguments")
    if view is None:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: view"])
    violations = validate_view(view, kinds=kinds)
    if violations:
        raise ApiError("invalid_arguments", messages=invalid_arguments_messages(violations))
    if is_view_too_large(view):
        raise ApiError("view_too_large")
    return dict(view)


def _check_external_id(state: SlackState, view: JSON, own_id: str | None = None) -> None:
    external = view.get("external_id")
    if not external:
        return
    for rec in state.views.values():
        if rec.external_id == external and rec.id != own_id and not rec.closed:
            raise ApiError("duplicate_external_id")


def _new_hash(state: SlackState) -> str:
    return f"{int(state.clock())}.{state.serial():07d}"


def _reply(state: SlackState, rec: ViewRecord) -> Reply:
    cfg = state.config
    return {"ok": True, "view": rec.to_api(cfg.team_id, cfg.app_id, cfg.bot_id)}


def _trigger_arg(ctx: CallContext) -> str:
    trigger = ctx.opt_str("trigger_id") or ctx.opt_str("interactivity_pointer")
    if trigger is None:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: trigger_id"])
    return trigger


@method("views.open")
def views_open(ctx: CallContext) -> Reply:
    """Open a modal; the trigger_id is checked last so a bad view does not burn it."""
    trigger_id = _trigger_arg(ctx)
    view = _view_arg(ctx, ("modal",))
    state = ctx.state
    _check_external_id(state, view)
    trigger = state.triggers.exchange(trigger_id, ctx.now)
    rec = ViewRecord(
        id=state.new_id("V"),
        type="modal",
        user_id=trigger.user_id,
        hash=_new_hash(state),
        view=copy.deepcopy(view),
        trigger_id=trigger_id,
    )
    state.views[rec.id] = rec
    return _reply(state, rec)


@method("views.push")
def views_push(ctx: CallContext) -> Reply:
    """Push a modal on top of the one the trigger came from (at most 3 deep)."""
    trigger_id = _trigger_arg(ctx)
    view = _view_arg(ctx, ("modal",))
    state = ctx.state
    trigger = state.triggers.exchange(trigger_id, ctx.now)
    parent = state.views.get(str(trigger.context.get("view_id") or ""))
    if parent is None or parent.closed:
        raise ApiError("not_found")
    root = parent.root_view_id or parent.id
    depth = sum(1 for v in state.views.values() if (v.root_view_id or v.id) == root)
    if depth >= MAX_STACK:
        raise ApiError("push_limit_reached")
    rec = ViewRecord(
        id=state.new_id("V"),
        type="modal",
        user_id=trigger.user_id,
        hash=_new_hash(state),
        view=copy.deepcopy(view),
        trigger_id=trigger_id,
        root_view_id=root,
        previous_view_id=parent.id,
    )
    state.views[rec.id] = rec
    return _reply(state, rec)


def _find_view(ctx: CallContext) -> ViewRecord:
    view_id, external = ctx.opt_str("view_id"), ctx.opt_str("external_id")
    if view_id is None and external is None:
        raise ApiError(
            "invalid_arguments", messages=["[ERROR] must provide either view_id or external_id"]
        )
    for rec in ctx.state.views.values():
        if (view_id and rec.id == view_id) or (external and rec.external_id == external):
            return rec
    raise ApiError("not_found")


def _replace(state: SlackState, rec: ViewRecord, view: JSON, hash_arg: str | None) -> None:
    if hash_arg is not None and hash_arg != rec.hash:
        raise ApiError("hash_conflict")
    rec.history.append(copy.deepcopy(rec.view))
    rec.view = copy.deepcopy(view)
    rec.hash = _new_hash(state)


@method("views.update")
def views_update(ctx: CallContext) -> Reply:
    """Replace a view by view_id or external_id; a stale `hash` gives hash_conflict."""
    rec = _find_view(ctx)
    view = _view_arg(ctx, (rec.type,))
    _check_external_id(ctx.state, view, own_id=rec.id)
    _replace(ctx.state, rec, view, ctx.opt_str("hash"))
    return _reply(ctx.state, rec)


@method("views.publish")
def views_publish(ctx: CallContext) -> Reply:
    """Publish a user's Home tab (one current view per user, earlier ones in history)."""
    user_id = ctx.req_str("user_id")
    state = ctx.state
    if user_id not in state.users:
        raise ApiError("user_not_found")
    view = _view_arg(ctx, ("home",))
    current = state.views.get(state.home_views.get(user_id, ""))
    if current is not None:
        _replace(state, current, view, ctx.opt_str("hash"))
        return _reply(state, current)
    rec = ViewRecord(
        id=state.new_id("V"),
        type="home",
        user_id=user_id,
        hash=_new_hash(state),
        view=copy.deepcopy(view),
    )
    state.views[rec.id] = rec
    state.home_views[user_id] = rec.id
    return _reply(state, rec)
