"""The CLI verbs, run as a user would run them."""

from __future__ import annotations

import importlib.metadata
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app.cli import package_version
from bot.sandbox.emulator import SlackEmulator
from tests.support.bot_process import bot_config
from tests.support.dovecot import DovecotServer, free_port
from tests.support.make_mail import make_mail
from tests.support.smtp_server import SmtpServer

REPO = Path(__file__).resolve().parents[2]
APP_YAML = REPO / "app.yaml"


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def ticketbot(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    raw = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    result = subprocess.CompletedProcess(
        raw.args, raw.returncode, raw.stdout.decode(), raw.stderr.decode()
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def config(
    tmp_path: Path,
    db_url_sqlite: str,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> dict[str, Any]:
    return bot_config(
        db_url=db_url_sqlite,
        slack=slack,
        imap=imap_server,
        smtp=smtp_server,
        http_port=free_port(),
        mail__attachments__directory=str(tmp_path / "attachments"),
        ingest__socket=str(tmp_path / "no-bot.sock"),  # no bot runs: ingest stores directly
    )


def test_check_reports_every_dependency_ok(tmp_path: Path, config: dict[str, Any]) -> None:
    result = ticketbot("check", "--config", str(write_config(tmp_path / "app.yaml", config)))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["config", "ok"],
        ["database", "ok"],
        ["imap", "ok"],
        ["smtp", "ok"],
        ["slack", "ok"],
        ["attachments", "ok"],
    ]
    assert "auth.test ok" in lines[-2]
    assert "writable" in lines[-1] and "GiB free" in lines[-1]


def test_check_names_each_failure(tmp_path: Path, config: dict[str, Any]) -> None:
    config["mail"]["imap"]["password"] = "wrong"
    config["mail"]["smtp"]["port"] = free_port()  # nothing listens there
    config["slack"]["bot_token"] = "xoxb-revoked-or-wrong"
    (tmp_path / "a-file").write_text("not a directory")
    config["mail"]["attachments"] = {"directory": str(tmp_path / "a-file" / "attachments")}
    result = ticketbot("check", "--config", str(write_config(tmp_path / "app.yaml", config)))
    assert result.returncode == 1
    status = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert status["database"].split()[1] == "ok"
    assert status["imap"].split()[1] == "FAIL"
    assert "password" in status["imap"] or "login" in status["imap"].lower()
    assert "wrong" not in status["imap"]  # never print the password
    assert status["smtp"].split()[1] == "FAIL"
    assert "SMTP" in status["smtp"] or "connect" in status["smtp"].lower()
    assert status["slack"].split()[1] == "FAIL"
    assert "invalid_auth" in status["slack"]
    assert status["attachments"].split()[1] == "FAIL"
    assert "a-file" in status["attachments"]


def test_ingest_files_and_stdin_store_each_mail_once(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    path = write_config(tmp_path / "app.yaml", config)
    first = tmp_path / "one.eml"
    first.write_bytes(make_mail(message_id="<one@example.com>"))
    second = make_mail(message_id="<two@example.com>", subject="Second")

    result = ticketbot("ingest", "--config", str(path), str(first))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{first}: new_ticket 20")

    result = ticketbot("ingest", "--config", str(path), stdin=second)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("-: new_ticket")

    result = ticketbot("ingest", "--config", str(path), str(first), str(tmp_path / "missing.eml"))
    assert result.returncode == 1
    assert f"{first}: duplicate" in result.stdout
    assert "missing.eml: cannot read" in result.stderr


def test_ingest_with_the_database_down_asks_the_mta_to_retry(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    config["database"]["url"] = f"postgres://postgres@127.0.0.1:{free_port()}/nothing"
    path = write_config(tmp_path / "app.yaml", config)
    result = ticketbot("ingest", "--config", str(path), stdin=make_mail())
    assert result.returncode == 75
    assert "database unavailable" in result.stderr


# --- what each verb needs, from a scrubbed environment (issue 10) ---


def ticketbot_env(
    cwd: Path, *args: str, stdin: bytes | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`ticketbot ARGS` with the shipped app.yaml, in `cwd`, with only `env` (and PATH) set."""
    raw = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(REPO), **env},
    )
    result = subprocess.CompletedProcess(
        raw.args, raw.returncode, raw.stdout.decode(), raw.stderr.decode()
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def shipped(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return ticketbot_env(cwd, *args, "--config", str(APP_YAML), **env)


def test_manifest_needs_only_the_public_url(tmp_path: Path) -> None:
    result = shipped(tmp_path, "manifest", TICKETBOT_PUBLIC_URL="https://tickets.example.com")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    manifest = yaml.safe_load(result.stdout)
    url = "https://tickets.example.com/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["features"]["slash_commands"][0] == {
        **manifest["features"]["slash_commands"][0],
        "command": "/ticket",
        "url": url,
    }


def test_manifest_in_socket_mode_needs_only_the_app_token(tmp_path: Path) -> None:
    result = shipped(tmp_path, "manifest", SLACK_APP_TOKEN="xapp-1-A1-x")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "http" not in result.stdout


def test_migrate_needs_no_slack_or_mail_variables(tmp_path: Path) -> None:
    result = shipped(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "database schema is up to date (sqlite)\n"
    database = tmp_path / "data" / "ticketbot.sqlite3"
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
    assert {"ticket", "article", "outbox"} <= tables


def test_ingest_needs_neither_slack_nor_mail_servers(tmp_path: Path) -> None:
    result = ticketbot_env(
        tmp_path,
        "ingest",
        "--config",
        str(APP_YAML),
        stdin=make_mail(),
        TICKETBOT_CHANNEL="C0123456789",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("-: new_ticket 20")


RUN_WITH_NOTHING_SET = [
    f"ticketbot: config error: {key}: environment variable {name} is not set"
    for key, name in [
        ("slack.bot_token", "SLACK_BOT_TOKEN"),
        ("slack.signing_secret", "SLACK_SIGNING_SECRET"),
        ("queues.0.channel", "TICKETBOT_CHANNEL"),
        ("mail.imap.host", "IMAP_HOST"),
        ("mail.imap.username", "IMAP_USERNAME"),
        ("mail.imap.password", "IMAP_PASSWORD"),
        ("mail.smtp.host", "SMTP_HOST"),
    ]
]


@pytest.mark.parametrize("verb", ["run", "check"])
def test_run_and_check_report_every_missing_variable_at_once(tmp_path: Path, verb: str) -> None:
    result = shipped(tmp_path, verb)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == RUN_WITH_NOTHING_SET
    assert not (tmp_path / "data").exists()  # nothing was started


def test_version(tmp_path: Path) -> None:
    with (REPO / "pyproject.toml").open("rb") as file:
        version = tomllib.load(file)["project"]["version"]
    assert importlib.metadata.version("ticketbot") == version
    result = ticketbot_env(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout == f"ticketbot {version}\n"


def test_version_without_package_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    with (REPO / "pyproject.toml").open("rb") as file:
        assert package_version() == tomllib.load(file)["project"]["version"]


@pytest.mark.parametrize(
    "args",
    [
        ("--log-level", "DEBUG", "migrate", "--config", str(APP_YAML)),
        ("migrate", "--config", str(APP_YAML), "--log-level", "debug"),
        ("--config", str(APP_YAML), "migrate", "--log-level", "DEBUG"),
    ],
)
def test_log_level_before_or_after_the_verb(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = ticketbot_env(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert " DEBUG " in result.stderr


def test_log_level_default_and_environment(tmp_path: Path) -> None:
    quiet = shipped(tmp_path, "migrate")
    assert quiet.returncode == 0 and quiet.stderr == ""
    loud = shipped(tmp_path, "migrate", TICKETBOT_LOG_LEVEL="debug")
    assert loud.returncode == 0 and " DEBUG " in loud.stderr
    bad = shipped(tmp_path, "migrate", TICKETBOT_LOG_LEVEL="chatty")
    assert bad.returncode == 2
    assert (
        bad.stderr == "ticketbot: config error: TICKETBOT_LOG_LEVEL: unknown log level 'CHATTY'\n"
    )
    refused = shipped(tmp_path, "migrate", "--log-level", "chatty")
    assert refused.returncode == 2
    assert "argument --log-level: unknown log level 'chatty'" in refused.stderr


def test_public_url_without_scheme_names_the_key(tmp_path: Path) -> None:
    result = shipped(tmp_path, "manifest", TICKETBOT_PUBLIC_URL="tickets.example.com")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "ticketbot: config error: slack.public_url: "
        "must be an http(s) URL such as https://tickets.example.com"
    ]
    result = shipped(tmp_path, "manifest", "--url", "tickets.example.com")
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        "argument --url: must be an http(s) URL such as https://tickets.example.com"
        in result.stderr
    )


def test_several_problems_are_one_line_each(tmp_path: Path) -> None:
    document = yaml.safe_load(APP_YAML.read_text())
    document["slack"]["bot_token"] = "xoxp-user"
    document["slack"]["public_url"] = "tickets.example.com"
    document["queues"][0]["channel"] = "#support"
    document["mail"]["followup_on_closed"] = "ignore"
    config = tmp_path / "app.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False))  # keep the file's order
    result = ticketbot_env(tmp_path, "check", "--config", str(config), SMTP_HOST="smtp.example.com")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert all(line.startswith("ticketbot: config error: ") for line in lines)
    keys = [line.removeprefix("ticketbot: config error: ").split(":")[0] for line in lines]
    assert keys == [
        "slack.signing_secret",
        "mail.imap.host",
        "mail.imap.username",
        "mail.imap.password",
        "slack.bot_token",
        "slack.public_url",
        "queues.0.channel",
        "mail.followup_on_closed",
    ]
