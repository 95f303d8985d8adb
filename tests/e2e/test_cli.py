"""The CLI verbs `check` and `ingest`, run as a user would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.sandbox.emulator import SlackEmulator
from tests.support.bot_process import bot_config
from tests.support.dovecot import DovecotServer, free_port
from tests.support.make_mail import make_mail
from tests.support.smtp_server import SmtpServer


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
