"""`ticketbot ingest` hands mail to a running `ticketbot run` over the ingest socket (issue 14).

Real processes throughout: the bot as a subprocess (tests/support/bot_process.py), each
`ingest` as the MTA would start it, and raw socket clients for what no `ingest` sends.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.emulator import SlackEmulator
from tests.support.bot_process import BotFactory, BotProcess, query
from tests.support.make_mail import make_mail
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import block_text, wait_cards

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"new_ticket (\d{16})$")
# What the fast path must not import: the bot has it loaded already (bot/app/pipe_client.py).
HEAVY = ("tortoise", "asyncpg", "slack_bolt", "slack_sdk", "aiohttp", "pydantic", "mail.parse")


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory anyone may enter (pytest's tmp_path is 0700 and long): so that the
    socket's own mode is what keeps other users out, and its path fits a Unix socket."""
    path = Path(tempfile.mkdtemp(prefix="tb-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def ingest(
    bot: BotProcess, *files: str, stdin: bytes | None = None, python: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`ticketbot ingest` with the bot's own app.yaml, in the bot's directory."""
    raw = subprocess.run(
        [sys.executable, *python, "-m", "bot", "ingest", "--config", str(bot.config_path), *files],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
        cwd=bot.workdir,
    )
    result = subprocess.CompletedProcess(
        raw.args, raw.returncode, raw.stdout.decode(), raw.stderr.decode()
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def received(bot: BotProcess) -> dict[str, float]:
    """`ticketbot_mails_received_total` by outcome, from the bot's /metrics."""
    with urllib.request.urlopen(f"{bot.base}/metrics", timeout=5) as response:
        text = response.read().decode()
    pattern = re.compile(r'^ticketbot_mails_received_total\{outcome="(\w+)"\} (\S+)$', re.M)
    return {outcome: float(value) for outcome, value in pattern.findall(text)}


def healthy(bot: BotProcess) -> bool:
    with urllib.request.urlopen(f"{bot.base}/healthz", timeout=5) as response:
        return response.status == 200 and json.load(response)["status"] == "ok"


def tickets(db_url: str) -> int:
    [(count,)] = query(db_url, "SELECT COUNT(*) FROM ticket")
    return int(count)


def test_a_piped_mail_becomes_a_ticket_through_the_bot_once(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    bot = bot_factory(db_url)  # the default socket, data/ingest.sock beside the bot
    mail = make_mail(message_id="<pipe-1@customer.example>", subject="Printer on fire")
    (tmp_path / "one.eml").write_bytes(mail)

    first = ingest(bot, str(tmp_path / "one.eml"))
    assert first.returncode == 0, first.stderr
    number = NUMBER.search(first.stdout.strip())
    assert number, first.stdout
    assert first.stdout == f"{tmp_path / 'one.eml'}: new_ticket {number.group(1)}\n"

    [card] = wait_cards(slack, 1)
    assert number.group(1) in block_text(card)
    assert "Printer on fire" in block_text(card)
    [ack] = smtp_server.wait_for(1, timeout=20)
    assert ack.message["Subject"] == f"[Ticket#{number.group(1)}] Printer on fire"

    again = ingest(bot, stdin=mail)  # the MTA delivering the same mail twice
    assert again.returncode == 0, again.stderr
    assert again.stdout == "-: duplicate\n"
    second = tmp_path / "two.eml"
    second.write_bytes(make_mail(message_id="<pipe-2@customer.example>", subject="Second"))
    both = ingest(bot, str(tmp_path / "one.eml"), str(second))
    assert both.returncode == 0, both.stderr
    lines = both.stdout.splitlines()
    assert lines[0] == f"{tmp_path / 'one.eml'}: duplicate"
    assert lines[1].startswith(f"{second}: new_ticket ")

    # the bot stored them (its own counters moved), and nothing else did
    counted = received(bot)
    assert (counted["new_ticket"], counted["duplicate"]) == (2.0, 2.0)
    assert tickets(db_url) == 2
    wait_cards(slack, 2)
    smtp_server.wait_for(2, timeout=20)
    assert len(smtp_server.messages) == 2


def test_the_fast_path_imports_neither_database_nor_slack_nor_parser(
    db_url_sqlite: str, bot_factory: BotFactory, tmp_path: Path
) -> None:
    bot = bot_factory(db_url_sqlite)
    result = ingest(bot, stdin=make_mail(), python=("-X", "importtime"))
    assert result.returncode == 0
    assert result.stdout.startswith("-: new_ticket ")
    imported = {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "bot.app.pipe_client" in imported  # the list is real
    heavy = sorted(m for m in imported if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []


def test_with_no_bot_listening_ingest_stores_directly(
    db_url: str, bot_factory: BotFactory, slack: SlackEmulator
) -> None:
    bot = bot_factory(db_url)
    bot.kill()  # SIGKILL: the socket file stays behind, nobody listens on it
    assert (bot.workdir / "data" / "ingest.sock").exists()
    result = ingest(bot, stdin=make_mail(message_id="<while-down@customer.example>"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("-: new_ticket ")
    assert tickets(db_url) == 1

    bot.start()  # takes the stale socket over; the card of the mail stored meanwhile follows
    wait_cards(slack, 1)
    again = ingest(bot, stdin=make_mail(message_id="<while-down@customer.example>"))
    assert again.stdout == "-: duplicate\n"
    assert received(bot).get("duplicate") == 1.0  # this time through the bot


def test_an_empty_socket_setting_means_no_bot_is_asked(
    db_url_sqlite: str, bot_factory: BotFactory
) -> None:
    bot = bot_factory(db_url_sqlite, ingest__socket="")
    assert not (bot.workdir / "data" / "ingest.sock").exists()
    result = ingest(bot, stdin=make_mail())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("-: new_ticket ")
    assert received(bot).get("new_ticket") == 0.0  # stored by ingest itself


def ask(path: Path, data: bytes, *, shut: bool = False) -> bytes:
    """Send raw bytes to the socket and return everything the bot says before it hangs up."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(30)
        conn.connect(str(path))
        try:
            conn.sendall(data)
            if shut:
                conn.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it refused before reading everything
        answer = b""
        try:
            while chunk := conn.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer


def header(length: int, size: int | None = None, name: str = "raw") -> bytes:
    return json.dumps({"name": name, "length": length, "size": size or length}).encode() + b"\n"


@pytest.mark.parametrize(
    ("request_bytes", "answer"),
    [
        (b"x" * 70_000, "refused the header is over 4096 bytes"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "refused the header is not a JSON line"),
        (b"[1, 2]\n", "refused the header is not a JSON object"),
        (b'{"name": "x", "length": -1, "size": 0}\n', "refused length and size must be"),
        (b'{"name": "x", "length": true, "size": 1}\n', "refused length and size must be"),
        (header(200 * 1024 * 1024), "refused 209715200 bytes is over the limit of"),
        (header(10, 5), "refused size must be at least length"),
        (b"\xff\xfe\n", "refused the header is not a JSON line"),
    ],
)
def test_garbage_and_oversized_requests_are_refused_and_the_bot_carries_on(
    db_url_sqlite: str,
    bot_factory: BotFactory,
    socket_dir: Path,
    request_bytes: bytes,
    answer: str,
) -> None:
    path = socket_dir / "ingest.sock"
    bot = bot_factory(db_url_sqlite, ingest__socket=str(path))
    said = ask(path, request_bytes).decode()
    assert said.startswith(answer), said
    assert said.endswith("\n") and said.count("\n") == 1
    assert healthy(bot)
    assert tickets(db_url_sqlite) == 0
    result = ingest(bot, stdin=make_mail())
    assert result.stdout.startswith("-: new_ticket "), result.stderr
    assert received(bot).get("new_ticket") == 1.0
    assert "refused 1 request(s) to the ingest socket" in bot.log()


def test_a_client_that_hangs_up_mid_mail_stores_nothing(
    db_url: str, bot_factory: BotFactory, socket_dir: Path
) -> None:
    path = socket_dir / "ingest.sock"
    bot = bot_factory(db_url, ingest__socket=str(path))
    mail = make_mail(message_id="<cut@customer.example>")
    assert ask(path, header(len(mail)) + mail[: len(mail) // 2], shut=True) == b""
    assert ask(path, header(len(mail))[:10], shut=True) == b""
    assert healthy(bot)
    assert tickets(db_url) == 0
    # the whole mail afterwards is a new ticket, not a duplicate of a partial one
    assert ask(path, header(len(mail), name="whole") + mail).startswith(b"stored new_ticket ")
    assert tickets(db_url) == 1


NOBODY = 65534
SYSTEM_PYTHON = Path("/usr/bin/python3")  # one that user may run (pyenv's lives under /root)
TRY_CONNECT = """
import os, socket, sys
os.stat(sys.argv[1])  # the directories let this user reach the socket file
try:
    socket.socket(socket.AF_UNIX).connect(sys.argv[1])
except PermissionError:
    print("EACCES")
else:
    print("connected")
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or not SYSTEM_PYTHON.exists(),
    reason="needs root and /usr/bin/python3 to try the socket as another user",
)
@pytest.mark.parametrize(("mode", "expected"), [(None, "EACCES"), ("0666", "connected")])
def test_only_users_the_socket_mode_admits_may_connect(
    db_url_sqlite: str,
    bot_factory: BotFactory,
    socket_dir: Path,
    mode: str | None,
    expected: str,
) -> None:
    path = socket_dir / "ingest.sock"
    overrides = {"ingest__socket_mode": mode} if mode else {}
    bot = bot_factory(db_url_sqlite, ingest__socket=str(path), **overrides)
    assert path.stat().st_mode & 0o777 == (int(mode, 8) if mode else 0o600)
    tried = subprocess.run(
        [str(SYSTEM_PYTHON), "-I", "-c", TRY_CONNECT, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        user=NOBODY,
    )
    assert tried.stdout.strip() == expected
    assert healthy(bot)
