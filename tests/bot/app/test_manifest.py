import subprocess
import sys
from pathlib import Path

import yaml

from bot.app.manifest import BOT_EVENTS, BOT_SCOPES, build_manifest, manifest_yaml

APP_YAML = Path(__file__).resolve().parents[3] / "app.yaml"
ENV = {
    "PATH": "/usr/bin:/bin",
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "secret",
    "TICKETBOT_CHANNEL": "C0123456789",
    "IMAP_HOST": "imap.example.com",
    "IMAP_USERNAME": "support",
    "IMAP_PASSWORD": "pw",
    "SMTP_HOST": "smtp.example.com",
}


def run_manifest(*args: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "manifest", "--config", str(APP_YAML), *args],
        capture_output=True,
        text=True,
        env={**ENV, **env},
        timeout=60,
        check=True,
    )
    return result.stdout


def test_http_mode_manifest_names_command_scopes_and_request_url() -> None:
    manifest = yaml.safe_load(run_manifest("--url", "https://tickets.example.com/"))
    url = "https://tickets.example.com/slack/events"
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ticket"
    assert command["url"] == url
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    assert manifest["settings"]["socket_mode_enabled"] is False
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert {"commands", "chat:write", "channels:read", "files:write"} <= set(scopes)
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(BOT_EVENTS)


def test_socket_mode_manifest_has_no_urls() -> None:
    text = run_manifest(SLACK_APP_TOKEN="xapp-1-A1-x")
    manifest = yaml.safe_load(text)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "http" not in text
    assert manifest["features"]["slash_commands"][0]["command"] == "/ticket"


def test_public_url_comes_from_the_config_too() -> None:
    manifest = yaml.safe_load(run_manifest(TICKETBOT_PUBLIC_URL="https://bot.example.org"))
    assert (
        manifest["features"]["slash_commands"][0]["url"] == "https://bot.example.org/slack/events"
    )


def test_manifest_respects_schema_limits() -> None:
    manifest = build_manifest(
        command="/ticket", request_url="https://x/slack/events", socket_mode=False
    )
    info = manifest["display_information"]
    assert 1 <= len(info["name"]) <= 35
    assert len(info["description"]) <= 140
    assert len(manifest["features"]["bot_user"]["display_name"]) <= 80
    assert len(BOT_SCOPES) == len(set(BOT_SCOPES))
    assert yaml.safe_load(manifest_yaml(manifest)) == manifest


def test_the_shortcuts_are_in_both_modes_within_slacks_limits() -> None:
    """SPEC "Working as a team": callback ids `ticket_new` (global) and
    `ticket_from_message` (message); SLACK.md: ≤ 10, name ≤ 24, description ≤ 150."""
    for socket_mode in (False, True):
        manifest = build_manifest(
            command="/ticket",
            request_url=None if socket_mode else "https://x/slack/events",
            socket_mode=socket_mode,
        )
        shortcuts = manifest["features"]["shortcuts"]
        assert {(s["callback_id"], s["type"]) for s in shortcuts} == {
            ("ticket_new", "global"),
            ("ticket_from_message", "message"),
        }
        assert len(shortcuts) <= 10
        assert all(len(s["name"]) <= 24 and len(s["description"]) <= 150 for s in shortcuts)
        assert "url" not in str(shortcuts)
    # the customer's address of a Slack message's author needs users:read.email
    assert {"commands", "users:read.email"} <= set(BOT_SCOPES)
