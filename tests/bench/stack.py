"""What the benchmarks that run a real bot share: the environment its processes get, the
Slack emulator in a process of its own (so its work does not skew the bot's figures), and
the bot's config around one support queue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.sandbox.emulator.config import SUPPORT_CHANNEL, WorkspaceConfig
from tests.support.dovecot import free_port

REPO = Path(__file__).resolve().parents[2]
SUPPORT = "support@ticketbot.example"
SIGNING_SECRET = "bench-signing-secret"
TOKEN = WorkspaceConfig().bot_tokens[0]  # a token the emulator accepts


def bench_env() -> dict[str, str]:
    """This environment without proxies or ticketbot/Slack settings, importing this tree."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy") and not key.startswith(("SLACK_", "TICKETBOT_"))
    }
    env["PYTHONPATH"] = str(REPO)
    return env


def start_emulator(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """The emulator process and its base URL; it serves until its stdin is closed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.emulator_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO,
        env=env,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().decode().strip()


def bot_config(
    db_url: str,
    api_url: str,
    *,
    http_port: int | None = None,
    smtp_port: int | None = None,
    imap_port: int | None = None,
    poll_seconds: int = 1,
    attachments: Path | None = None,
    autoreply: dict[str, Any] | None = None,
    **slack: Any,
) -> dict[str, Any]:
    """app.yaml for a bot with one queue on the emulator; IMAP only given `imap_port` (the
    Dovecot of tests/support, user support/secret). `slack` adds keys under `slack:`."""
    mail: dict[str, Any] = {
        "address": SUPPORT,
        "smtp": {"host": "127.0.0.1", "port": smtp_port or free_port(), "security": "none"},
        "autoreply": autoreply if autoreply is not None else {"enabled": False},
    }
    if imap_port is not None:
        mail["imap"] = {
            "host": "127.0.0.1",
            "port": imap_port,
            "security": "none",
            "username": "support",
            "password": "secret",
            "poll_seconds": poll_seconds,
        }
    if attachments is not None:
        mail["attachments"] = {"directory": str(attachments)}
    return {
        "database": {"url": db_url},
        "slack": {
            "bot_token": TOKEN,
            "signing_secret": SIGNING_SECRET,
            "api_url": api_url,
            "http": {"host": "127.0.0.1", "port": http_port or free_port()},
            **slack,
        },
        "queues": [{"name": "Support", "channel": SUPPORT_CHANNEL, "addresses": [SUPPORT]}],
        "mail": mail,
    }
