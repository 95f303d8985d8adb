"""The Slack app manifest this configuration needs (pure)."""

from __future__ import annotations

from typing import Any

import yaml

BOT_SCOPES = [
    "commands",  # the slash command
    "chat:write",  # cards, thread posts, ephemeral answers
    "channels:read",  # conversations.members: who may act (public queue channels)
    "groups:read",  # … and private ones
    "channels:history",  # agents' messages in card threads become notes
    "groups:history",
    "reactions:write",  # confirm a saved note with a reaction
    "users:read",  # agents' display names on outgoing mail
    "users:read.email",  # a Slack message's author's address, prefilled as the customer's
    "files:write",  # attachments uploaded into card threads, report charts and CSV into DMs
    "im:write",  # conversations.open: the DM with the app a report's files go to
]
# Shortcuts (SPEC "Working as a team"); names ≤ 24, descriptions ≤ 150 characters.
SHORTCUTS = [
    {
        "name": "New ticket",
        "type": "global",
        "callback_id": "ticket_new",
        "description": "Open a ticket for a customer who phoned",
    },
    {
        "name": "Make a ticket",
        "type": "message",
        "callback_id": "ticket_from_message",
        "description": "Turn this message into a support ticket",
    },
]
BOT_EVENTS = [
    "message.channels",
    "message.groups",
    "member_joined_channel",
    "member_left_channel",
    "app_home_opened",
]


def build_manifest(
    *, command: str, request_url: str | None, socket_mode: bool, name: str = "ticketbot"
) -> dict[str, Any]:
    """HTTP mode needs `request_url`; Socket Mode must not name any URL."""
    slash: dict[str, Any] = {
        "command": command,
        "description": "Show, search and report on support tickets",
        "usage_hint": "help | show <number> | search <words> | mine | queue | report [week]",
        "should_escape": False,
    }
    events: dict[str, Any] = {"bot_events": BOT_EVENTS}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        if not request_url:
            raise ValueError("HTTP mode needs the public request URL")
        slash["url"] = request_url
        events["request_url"] = request_url
        interactivity["request_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Customer email becomes tickets that agents claim and answer here",
            "background_color": "#2c3e50",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                # the DM with the app, where report charts and CSV arrive: read, not written
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "shortcuts": [dict(shortcut) for shortcut in SHORTCUTS],
            "slash_commands": [slash],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(manifest: dict[str, Any]) -> str:
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
