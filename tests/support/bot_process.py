"""Run `ticketbot run` as a real subprocess against the test servers.

The bot gets its own app.yaml pointing at Dovecot, the SMTP recorder, the
Slack emulator and the test database, and serves Slack's HTTP endpoints on a
free port. Readiness is `GET /healthz` answering 200, waited for with a timeout.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg
import pytest
import yaml

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import SUPPORT_CHANNEL
from tests.support.dovecot import DovecotServer, free_port
from tests.support.slack_fixtures import SIGNING_SECRET
from tests.support.smtp_server import SmtpServer

T = TypeVar("T")
SUPPORT_ADDRESS = "support@ticketbot.example"


def bot_config(
    *,
    db_url: str,
    slack: SlackEmulator,
    imap: DovecotServer | None,
    smtp: SmtpServer,
    http_port: int,
    **overrides: Any,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "database": {"url": db_url},
        "slack": {
            "bot_token": slack.bot_token,
            "signing_secret": SIGNING_SECRET,
            "api_url": slack.base_url,
            "http": {"host": "127.0.0.1", "port": http_port, "path": "/slack/events"},
        },
        "queues": [{"name": "Support", "channel": SUPPORT_CHANNEL, "addresses": [SUPPORT_ADDRESS]}],
        "mail": {
            "address": SUPPORT_ADDRESS,
            "display_name": "Example Support",
            "smtp": {"host": smtp.host, "port": smtp.port, "security": "none"},
        },
    }
    if imap is not None:
        config["mail"]["imap"] = {
            "host": "127.0.0.1",
            "port": imap.port,
            "security": "none",
            "username": "support",
            "password": "secret",
            "poll_seconds": 2,
        }
    for dotted, value in overrides.items():
        node = config
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return config


def query(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one SQL query, read straight from the bot's database (SQLite or PostgreSQL)."""
    if db_url.startswith("sqlite://"):
        with sqlite3.connect(db_url.removeprefix("sqlite://")) as connection:
            return [tuple(row) for row in connection.execute(sql).fetchall()]

    async def rows() -> list[tuple[Any, ...]]:
        connection = await asyncpg.connect(db_url)
        try:
            return [tuple(row) for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(rows())
    with ThreadPoolExecutor(1) as pool:  # called from an async test: a loop of its own
        return pool.submit(asyncio.run, rows()).result()


def pending_outbox(db_url: str) -> int:
    """Outbox rows not yet delivered."""
    [(count,)] = query(db_url, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
    return int(count)


def poll_until(
    condition: Callable[[], T], timeout: float, what: Callable[[], str], step: float = 0.05
) -> T:
    """`condition()` once it is truthy, polled until `timeout` (a wait, never a measured
    duration); AssertionError saying `what()` if it never is."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(what())
        time.sleep(step)
    return result


def wait_outbox_drained(db_url: str, timeout: float = 20.0) -> None:
    poll_until(
        lambda: pending_outbox(db_url) == 0,
        timeout,
        lambda: f"outbox still has {pending_outbox(db_url)} pending rows",
    )


class BotProcess:
    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        self.workdir = workdir
        self.config_path = workdir / "app.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        http = config["slack"]["http"]
        self.base = f"http://{http['host']}:{http['port']}"
        self.events_url = f"{self.base}{http['path']}"
        self.log_path = workdir / "bot.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 30.0) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.lower().endswith("_proxy") and not key.startswith(("SLACK_", "TICKETBOT_"))
        }
        env["TICKETBOT_LOG_LEVEL"] = "INFO"
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"--- start {self.starts} ---\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(self.config_path)],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"ticketbot exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)  # polling interval of a condition wait, not synchronisation
        raise AssertionError(f"ticketbot not healthy after {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"ticketbot ignored SIGTERM:\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class BotFactory(Protocol):
    """`bot_factory(db_url, start=True, **overrides)`: a `ticketbot run` on that database;
    `overrides` set config keys by path, `mail__autoreply={...}`."""

    def __call__(self, db_url: str, *, start: bool = True, **overrides: Any) -> BotProcess: ...


@pytest.fixture
def bot_factory(
    tmp_path: Path,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> Iterator[BotFactory]:
    """A `BotFactory`; every bot it started is stopped (cleanly) after the test."""
    bots: list[BotProcess] = []

    def make(db_url: str, *, start: bool = True, **overrides: Any) -> BotProcess:
        workdir = tmp_path / f"bot{len(bots)}"
        workdir.mkdir()
        config = bot_config(
            db_url=db_url,
            slack=slack,
            imap=imap_server,
            smtp=smtp_server,
            http_port=free_port(),
            **overrides,
        )
        bot = BotProcess(workdir, config)
        bots.append(bot)
        if start:
            bot.start()
        return bot

    yield make
    for bot in bots:
        code = bot.stop()
        assert code in (0, None, -signal.SIGKILL), f"unclean exit {code}:\n{bot.log()}"
        assert "Traceback" not in bot.log(), bot.log()
