"""The bodies Slack delivers to an app (SLACK.md §1.3), built from emulator records.

Pure functions: the driver gathers users, channels, messages and views from the emulator and
these shape them exactly as Slack would — event_callback envelopes, block_actions and
view_submission payloads, slash-command forms.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from bot.sandbox.emulator.config import JSON, Channel, User, WorkspaceConfig
from bot.sandbox.emulator.state import Message

INPUT_VALUE_KEYS = {
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}


def _now_ts() -> str:
    now = time.time()
    return f"{int(now)}.{int((now % 1) * 1_000_000):06d}"


def event_envelope(cfg: WorkspaceConfig, event: JSON, *, user_id: str | None = None) -> JSON:
    """The event_callback envelope around one event (authorizations name the bot)."""
    return {
        "token": "verification-token",
        "team_id": cfg.team_id,
        "api_app_id": cfg.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        "event_context": f"EC{secrets.token_hex(6).upper()}",
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": cfg.team_id,
                "user_id": user_id or cfg.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "context_team_id": cfg.team_id,
        "context_enterprise_id": None,
    }


def message_event(
    msg: Message,
    channel: Channel,
    bot_profile: JSON | None = None,
    parent_user: str | None = None,
) -> JSON:
    """The `message` event for a recorded message; bot posts carry bot_id and bot_profile.

    No `subtype`: modern bot-token posts arrive as plain messages with `bot_id` (SLACK.md §11).
    """
    event = msg.to_api(bot_profile)
    event.pop("reactions", None)
    event.update(
        channel=msg.channel,
        event_ts=msg.ts,
        channel_type="im" if channel.is_im else ("group" if channel.is_private else "channel"),
    )
    if msg.bot_id is None:
        event["client_msg_id"] = secrets.token_hex(16)
    if msg.is_reply and parent_user is not None:
        event["parent_user_id"] = parent_user
    return event


def url_verification(challenge: str) -> JSON:
    """The handshake Slack sends when the Request URL is saved."""
    return {"token": "verification-token", "challenge": challenge, "type": "url_verification"}


def user_ref(cfg: WorkspaceConfig, user: User) -> JSON:
    """The `user` object of interactivity payloads: `team_id` is the user's own team (a
    Slack Connect member's organisation, not ours)."""
    return {
        "id": user.id,
        "username": user.name,
        "name": user.name,
        "team_id": user.home_team(cfg.team_id),
    }


def team_ref(cfg: WorkspaceConfig) -> JSON:
    """The `team` object of interactivity payloads."""
    return {"id": cfg.team_id, "domain": cfg.team_domain}


def find_element(blocks: list[JSON], action_id: str) -> tuple[str, JSON] | None:
    """(block_id, element) of the interactive element with this action_id, if present."""
    for block in blocks:
        block_id = str(block.get("block_id") or "")
        candidates = list(block.get("elements") or [])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), Mapping):
                candidates.append(block[key])
        for el in candidates:
            if isinstance(el, Mapping) and el.get("action_id") == action_id:
                return block_id, dict(el)
    return None


def action_for(
    block_id: str, element: JSON, *, value: str | None = None, selected: Any = None
) -> JSON:
    """One entry of block_actions `actions`, shaped for the element's type."""
    action: JSON = {
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "type": element.get("type"),
        "action_ts": _now_ts(),
    }
    kind = element.get("type")
    if kind == "button":
        action["text"] = element.get("text")
        if value is not None or element.get("value") is not None:
            action["value"] = value if value is not None else element.get("value")
        if element.get("style"):
            action["style"] = element["style"]
    elif kind in ("static_select", "overflow", "radio_buttons", "external_select"):
        action["selected_option"] = selected or _option(element, value)
    elif kind in ("checkboxes", "multi_static_select"):
        action["selected_options"] = selected or []
    elif kind in INPUT_VALUE_KEYS:
        action[INPUT_VALUE_KEYS[kind]] = selected if selected is not None else value
    return action


def _all_options(element: Mapping[str, Any]) -> list[Any]:
    """A select's options, flat or inside option_groups."""
    grouped = [o for g in element.get("option_groups") or [] for o in g.get("options") or []]
    return list(element.get("options") or []) + grouped


def _option(element: Mapping[str, Any], value: str | None) -> JSON | None:
    for opt in _all_options(element):
        if value is None or opt.get("value") == value:
            return dict(opt)
    return None


def state_values(blocks: list[JSON], values: Mapping[str, Mapping[str, Any]]) -> JSON:
    """view.state.values for the input blocks: plain strings become the element's value shape.

    `values` is `{block_id: {action_id: value}}`; a dict value is taken as the full state entry.
    Inputs the test did not fill are reported empty, as Slack reports optional inputs.
    """
    out: JSON = {}
    for block in blocks:
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, Mapping):
            continue
        block_id, action_id = str(block.get("block_id")), str(element.get("action_id"))
        given = values.get(block_id, {}).get(action_id)
        out.setdefault(block_id, {})[action_id] = _state_entry(dict(element), given)
    return out


def _state_entry(element: JSON, given: Any) -> JSON:
    kind = str(element.get("type"))
    if given is None and kind in INPUT_VALUE_KEYS and "initial_value" in element:
        given = element["initial_value"]  # untouched: Slack reports what the field shows
    if isinstance(given, Mapping):
        return {"type": kind, **given}
    if given is None and element.get("initial_option") is not None:
        return {"type": kind, "selected_option": dict(element["initial_option"])}
    if given is None and element.get("initial_options") is not None:
        return {"type": kind, "selected_options": [dict(o) for o in element["initial_options"]]}
    if kind in ("static_select", "radio_buttons", "external_select"):
        return {"type": kind, "selected_option": _option(element, given) if given else None}
    if kind in ("checkboxes", "multi_static_select"):
        chosen = [given] if isinstance(given, str) else list(given or [])
        opts = [dict(o) for o in _all_options(element) if o.get("value") in chosen]
        return {"type": kind, "selected_options": opts}
    return {"type": kind, INPUT_VALUE_KEYS.get(kind, "value"): given}


def block_actions(
    cfg: WorkspaceConfig,
    user: User,
    actions: list[JSON],
    *,
    trigger_id: str,
    container: JSON,
    channel: Channel | None = None,
    message: JSON | None = None,
    view: JSON | None = None,
    response_url: str | None = None,
) -> JSON:
    """A block_actions payload from a message (with response_url) or from a view."""
    payload: JSON = {
        "type": "block_actions",
        "user": user_ref(cfg, user),
        "api_app_id": cfg.app_id,
        "token": "verification-token",
        "container": container,
        "trigger_id": trigger_id,
        "team": team_ref(cfg),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": actions,
    }
    if channel is not None:
        payload["channel"] = {"id": channel.id, "name": channel.name}
    if message is not None:
        payload["message"] = message
        payload["state"] = {"values": {}}
    if view is not None:
        payload["view"] = view
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def view_submission(cfg: WorkspaceConfig, user: User, view: JSON, *, trigger_id: str) -> JSON:
    """A view_submission payload; `view` already carries state.values."""
    return {
        "type": "view_submission",
        "team": team_ref(cfg),
        "user": user_ref(cfg, user),
        "api_app_id": cfg.app_id,
        "token": "verification-token",
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def global_shortcut(cfg: WorkspaceConfig, user: User, *, callback_id: str, trigger_id: str) -> JSON:
    """A global shortcut (type `shortcut`): no channel, no response_url."""
    return {
        "type": "shortcut",
        "token": "verification-token",
        "action_ts": _now_ts(),
        "team": team_ref(cfg),
        "user": {"id": user.id, "username": user.name, "team_id": user.home_team(cfg.team_id)},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
    }


def message_shortcut(
    cfg: WorkspaceConfig,
    user: User,
    channel: Channel,
    message: JSON,
    *,
    callback_id: str,
    trigger_id: str,
    response_url: str,
) -> JSON:
    """A message shortcut (type `message_action`) on `message` in `channel`."""
    return {
        "type": "message_action",
        "token": "verification-token",
        "action_ts": _now_ts(),
        "team": team_ref(cfg),
        "user": {"id": user.id, "name": user.name, "team_id": user.home_team(cfg.team_id)},
        "channel": {"id": channel.id, "name": channel.name},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": message.get("ts"),
        "message": message,
    }


def view_closed(cfg: WorkspaceConfig, user: User, view: JSON) -> JSON:
    """Sent when a user dismisses a modal whose view has notify_on_close."""
    return {
        "type": "view_closed",
        "team": team_ref(cfg),
        "user": user_ref(cfg, user),
        "api_app_id": cfg.app_id,
        "token": "verification-token",
        "view": view,
        "is_cleared": False,
    }


def slash_command(
    cfg: WorkspaceConfig,
    user: User,
    channel: Channel,
    *,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash-command POST."""
    return {
        "token": "verification-token",
        "team_id": cfg.team_id,
        "team_domain": cfg.team_domain,
        "channel_id": channel.id,
        "channel_name": channel.name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": cfg.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
