"""Operating `ticketbot run` (SPEC "Operating it", issue 14), as a subprocess against Dovecot,
the SMTP recorder and the Slack emulator: /metrics moves with a mail, JSON logs carry the
ticket, /healthz tells IMAP and outbox lag, a refused token stops the start at once, migrate
and start-up are safe when several processes start together, and a database that does not
answer is one line without its password."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import ALICE
from bot.sandbox.signer import signed_headers
from tests.support.bot_process import BotFactory, BotProcess, bot_config, poll_until
from tests.support.database import admin_sql, drop_pg_database, pg_url
from tests.support.dovecot import DovecotServer, free_port
from tests.support.slack_fixtures import SIGNING_SECRET, DriverFactory
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import customer_mail, wait_cards

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(bot: BotProcess) -> Samples:
    with urllib.request.urlopen(f"{bot.base}/metrics", timeout=5) as response:
        assert response.status == 200
        page = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


def healthz(bot: BotProcess) -> dict[str, Any]:
    with urllib.request.urlopen(f"{bot.base}/healthz", timeout=5) as response:
        return dict(json.loads(response.read()))


def wait_metric(
    bot: BotProcess, key: tuple[str, tuple[tuple[str, str], ...]], value: float
) -> Samples:
    """The samples once `key` reads `value`."""
    seen: list[Samples] = []

    def reached() -> Samples | None:
        seen[:] = [scrape(bot)]
        return seen[0] if seen[0].get(key) == value else None

    return poll_until(reached, 20, lambda: f"{key} = {seen[0].get(key)}, not {value}", step=0.1)


def json_lines(bot: BotProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in bot.log().splitlines() if not line.startswith("--- ")]


NEW_TICKETS = ("ticketbot_mails_received_total", (("outcome", "new_ticket"),))
CREATED = ("ticketbot_tickets_created_total", (("queue", "Support"),))
SENT = ("ticketbot_mails_sent_total", ())


def test_metrics_move_with_a_mail_and_json_logs_carry_the_ticket(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    started = time.time()
    bot = bot_factory(db_url, log__format="json")
    before = scrape(bot)
    assert (before[NEW_TICKETS], before[CREATED], before[SENT]) == (0, 0, 0)

    imap_server.append(customer_mail(1, subject="Printer on fire"))
    [card] = wait_cards(slack, 1)
    smtp_server.wait_for(1, timeout=20)
    slack.faults.add(method="chat.postMessage", status=200, error="channel_not_found", times=1)
    imap_server.append(customer_mail(2))  # its card is refused once: a Slack API error
    wait_cards(slack, 2, timeout=30)

    samples = wait_metric(bot, SENT, 2)
    assert (samples[NEW_TICKETS], samples[CREATED]) == (2, 2)
    assert (
        samples[
            (
                "ticketbot_slack_api_errors_total",
                (("error", "channel_not_found"), ("method", "chat.postMessage")),
            )
        ]
        == 1
    )
    assert samples[("ticketbot_imap_last_poll_timestamp", ())] >= started  # polled since
    assert ("ticketbot_outbox_dead", ()) in samples
    assert ("ticketbot_outbox_oldest_seconds", ()) in samples
    assert ("ticketbot_outbox_pending", (("kind", "slack.card.post"),)) in samples
    assert samples[("ticketbot_ack_seconds_count", ())] == 0
    url_verification = json.dumps({"type": "url_verification", "challenge": "c", "token": "t"})
    _post_signed(bot, url_verification)
    assert scrape(bot)[("ticketbot_ack_seconds_count", ())] == 1

    health = healthz(bot)
    assert health["status"] == "ok" and health["database"] == "ok"
    assert health["imap"]["state"] == "connected" and health["imap"]["last_poll"]
    assert health["imap"]["last_error"] is None
    assert set(health["outbox"]) == {"pending", "oldest_pending_seconds", "dead"}

    number = card.text.split("Ticket#")[1][:16]
    lines = json_lines(bot)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    [stored] = [
        line
        for line in lines
        if line.get("message_id") == "<request-1@customer.example>"
        and "new_ticket" in line["message"]
    ]
    assert stored["ticket"] == number
    assert stored["logger"] == "mail.intake" and stored["level"] == "INFO"
    assert "customer1@customer.example" not in bot.log()  # addresses are redacted
    assert "c***@customer.example" in stored["message"]


def _post_signed(bot: BotProcess, body: str) -> None:
    request = urllib.request.Request(
        bot.events_url,
        data=body.encode(),
        headers={"Content-Type": "application/json", **signed_headers(SIGNING_SECRET, body)},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


async def test_socket_mode_serves_metrics_and_times_its_acks(
    db_url_sqlite: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    slack_driver_factory: DriverFactory,
) -> None:
    bot = bot_factory(db_url_sqlite, slack__app_token=slack.config.app_token)
    await slack.wait_for_async(lambda: slack.socket_connections() >= 1, 20, "a socket connection")
    driver = await slack_driver_factory(bot.events_url, transport="socket")
    assert (await driver.app_home_opened(ALICE)).status == 200
    await asyncio.to_thread(wait_metric, bot, ("ticketbot_ack_seconds_count", ()), 1)
    assert healthz(bot)["status"] == "ok"


# -- start-up ---------------------------------------------------------------------------------


def run_once(bot: BotProcess, timeout: float = 60) -> tuple[int, str]:
    """`ticketbot run` on the bot's config, to its end (a hang fails at `timeout`):
    (status, stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(bot.config_path)],
        cwd=bot.workdir,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return result.returncode, result.stderr


def _clean_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy") and not key.startswith(("SLACK_", "TICKETBOT_"))
    }
    env["TICKETBOT_LOG_LEVEL"] = "INFO"
    return env


@pytest.mark.parametrize("how", ["wrong", "revoked"])
def test_a_refused_bot_token_stops_the_start_with_exit_2_and_one_line(
    db_url_sqlite: str, bot_factory: BotFactory, slack: SlackEmulator, how: str
) -> None:
    if how == "wrong":
        bot = bot_factory(db_url_sqlite, start=False, slack__bot_token="xoxb-not-this-one")
        error = "invalid_auth"
    else:
        bot = bot_factory(db_url_sqlite, start=False)
        slack.revoke_token(slack.bot_token)
        error = "token_revoked"
    code, stderr = run_once(bot)
    assert code == 2, stderr
    assert "Traceback" not in stderr and "ready" not in stderr
    [line] = [line for line in stderr.splitlines() if line.startswith("ticketbot:")]
    assert line.startswith(f"ticketbot: cannot start: Slack refused slack.bot_token ({error})")
    assert len(slack.calls("auth.test")) == 1  # asked once, not retried


def test_a_refused_app_token_stops_socket_mode_with_exit_2(
    db_url_sqlite: str, bot_factory: BotFactory
) -> None:
    bot = bot_factory(db_url_sqlite, start=False, slack__app_token="xapp-1-A0WRONG-nope")
    code, stderr = run_once(bot)
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert "ticketbot: cannot start: Slack refused slack.app_token (invalid_auth)" in stderr


@pytest.fixture
def empty_pg_database(db_url_postgres: str) -> Iterator[str]:
    """A PostgreSQL database with nothing in it (not even the schema)."""
    name = f"ticketbot_empty_{os.getpid()}_{time.monotonic_ns()}"
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url(name)
    finally:
        asyncio.run(drop_pg_database(name))


def _migrate_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "migrate.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "database": {"url": url},
                "slack": {"bot_token": "xoxb-unused", "signing_secret": "unused"},
                "queues": [{"name": "Support", "channel": "C0123456789"}],
                "mail": {"address": "support@example.com", "smtp": {"host": "localhost"}},
            }
        )
    )
    return path


@pytest.mark.parametrize("database", ["postgres", "sqlite"])
def test_three_migrates_at_once_on_an_empty_database_all_succeed(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("empty_pg_database")
        if database == "postgres"
        else f"sqlite://{tmp_path}/fresh/ticketbot.sqlite3"
    )
    config = _migrate_config(tmp_path, url)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "migrate", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_clean_env(),
        )
        for _ in range(3)
    ]
    results = [(p.wait(120), *p.communicate()) for p in processes]
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert stdout == f"database schema is up to date ({database})\n"
        assert "Traceback" not in stderr


def test_two_replicas_started_together_on_an_empty_database_both_come_up(
    tmp_path: Path,
    empty_pg_database: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
) -> None:
    shared = {"mail__attachments__directory": str(tmp_path / "attachments")}
    bots = [bot_factory(empty_pg_database, start=False, **shared) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda bot: bot.start(60), bots))  # both launched at once
    imap_server.append(customer_mail(1))
    wait_cards(slack, 1, timeout=30)
    for bot in bots:
        assert healthz(bot)["status"] == "ok"
    polling = sorted(healthz(bot)["imap"]["state"] for bot in bots)
    assert polling in (["connected", "standby"], ["connected", "connected"])


# -- a database that does not answer ----------------------------------------------------------


@pytest.fixture
def down_config(
    tmp_path: Path, slack: SlackEmulator, imap_server: DovecotServer, smtp_server: SmtpServer
) -> tuple[Path, str]:
    url = f"postgres://ticketbot:s3cret-pw@127.0.0.1:{free_port()}/ticketbot"
    config = bot_config(
        db_url=url,
        slack=slack,
        imap=imap_server,
        smtp=smtp_server,
        http_port=free_port(),
        mail__attachments__directory=str(tmp_path / "attachments"),
    )
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, url.replace("s3cret-pw", "***")


@pytest.mark.parametrize("verb", ["check", "migrate", "run"])
def test_a_database_that_does_not_answer_is_one_line_naming_it_without_the_password(
    down_config: tuple[Path, str], verb: str
) -> None:
    path, safe = down_config
    result = subprocess.run(  # a start that retried forever would fail at the timeout
        [sys.executable, "-m", "bot", verb, "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_clean_env(),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert "s3cret-pw" not in output
    if verb == "check":
        [line] = [line for line in result.stdout.splitlines() if line.startswith("database")]
        assert line.split()[1] == "FAIL" and safe in line
    else:
        [line] = [line for line in result.stderr.splitlines() if line.startswith("ticketbot:")]
        assert safe in line and "does not answer" in line
