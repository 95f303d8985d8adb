"""The ingest socket's wire format (pure), the fast path's config reading, and the server
in this process with the real intake on SQLite and PostgreSQL (bot/app/pipe*.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app.config import IngestSettings, LimitSettings
from bot.app.config_file import DEFAULT_INGEST_SOCKET, DEFAULT_MAX_MESSAGE_BYTES
from bot.app.ingest import store_piped
from bot.app.pipe import (
    MAX_HEADER_BYTES,
    Answer,
    BadRequest,
    PipeRequest,
    encode_answer,
    encode_request,
    parse_answer,
    parse_request,
)
from bot.app.pipe_client import PipeConfig, read_limited, read_pipe_config
from bot.app.pipe_server import PipeServer
from mail.intake import MailIntake
from mail.limits import ParseLimits
from mail.parse_pool import ParsePool
from models.policy import Policy, QueueRoute
from models.store import db
from tests.support.make_mail import make_mail

LIMIT = 100_000

# --- the wire format ---


def test_a_request_header_round_trips() -> None:
    line = encode_request("/var/mail/one.eml", 10, 12)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert parse_request(line, LIMIT) == PipeRequest("/var/mail/one.eml", 10, 12)
    assert parse_request(encode_request("-", 10, 3), LIMIT).size == 10  # size ≥ length


def test_a_name_cannot_break_the_line_and_is_cut() -> None:
    request = parse_request(encode_request("a\nb\r" + "x" * 400, 1, 1), LIMIT)
    assert request.name.startswith("a b ") and len(request.name) == 300


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b"", "not a JSON line"),
        (b"\xff\n", "not a JSON line"),
        (b"{" * 100_000, "over 4096 bytes"),
        (b"[" * 4000 + b"\n", "not a JSON line"),  # too deep for json, not a crash
        (b"null\n", "not a JSON object"),
        (b'{"length": 1, "size": 1}\n', "name must be"),
        (b'{"name": 5, "length": 1, "size": 1}\n', "name must be"),
        (b'{"name": "x", "length": 1.5, "size": 2}\n', "whole numbers"),
        (b'{"name": "x", "length": false, "size": 0}\n', "whole numbers"),
        (b'{"name": "x", "length": "1", "size": 1}\n', "whole numbers"),
        (b'{"name": "x", "length": 1, "size": -1}\n', "whole numbers"),
        (b'{"name": "x", "length": 100001, "size": 100001}\n', "over the limit of 100000"),
        (b'{"name": "x", "length": 5, "size": 4}\n', "at least length"),
    ],
)
def test_bad_headers_are_refused_with_our_own_words(line: bytes, why: str) -> None:
    with pytest.raises(BadRequest, match=why):
        parse_request(line, LIMIT)


def test_the_limit_itself_is_allowed() -> None:
    assert parse_request(encode_request("x", LIMIT, LIMIT), LIMIT).length == LIMIT
    assert len(encode_request("x" * 1000, LIMIT, LIMIT)) < MAX_HEADER_BYTES


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        (b"stored new_ticket 2026120610000017\n", Answer("stored", "new_ticket 2026120610000017")),
        (b"stored duplicate\n", Answer("stored", "duplicate")),
        (b"retry the database does not answer\n", Answer("retry", "the database does not answer")),
        (b"refused too big\n", Answer("refused", "too big")),
        (b"stored new_ticket 20261206", None),  # cut off: the bot died mid-answer
        (b"", None),
        (b"HTTP/1.1 200 OK\n", None),
    ],
)
def test_answers(line: bytes, answer: Answer | None) -> None:
    assert parse_answer(line) == answer


def test_an_answer_is_always_one_line() -> None:
    line = encode_answer("refused", "a\nb\r\nc " + "x" * 10_000)
    assert line.startswith(b"refused a b c ") and line.count(b"\n") == 1
    assert len(line) <= 4096
    assert parse_answer(line) is not None


# --- what the fast path reads from app.yaml ---


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(text)
    return path


def test_the_fast_path_defaults_are_the_schemas() -> None:
    assert IngestSettings().socket == DEFAULT_INGEST_SOCKET
    assert LimitSettings().max_message_bytes == DEFAULT_MAX_MESSAGE_BYTES


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("database: {}\n", {}, PipeConfig(DEFAULT_INGEST_SOCKET, DEFAULT_MAX_MESSAGE_BYTES)),
        ("ingest:\nmail:\n  limits:\n", {}, PipeConfig("data/ingest.sock", 25 * 1024 * 1024)),
        (
            "ingest: {socket: '${SOCK:-/run/tb.sock}'}\nmail: {limits: {max_message_bytes: 70000}}",
            {},
            PipeConfig("/run/tb.sock", 70000),
        ),
        (
            "ingest: {socket: '${SOCK}'}\nmail: {limits: {max_message_bytes: '${MAX}'}}",
            {"SOCK": "/s", "MAX": "80000"},
            PipeConfig("/s", 80000),
        ),
        ("ingest: {socket: ''}\n", {}, PipeConfig("", DEFAULT_MAX_MESSAGE_BYTES)),
        # anything the full loader should judge: None, and `ingest` loads it
        ("ingest: {socket: '${SOCK}'}\n", {}, None),
        ("ingest: {socket: [1]}\n", {}, None),
        ("ingest: [1]\n", {}, None),
        ("mail: {limits: {max_message_bytes: 1000}}\n", {}, None),
        ("mail: {limits: {max_message_bytes: lots}}\n", {}, None),
        ("mail: {limits: {max_message_bytes: true}}\n", {}, None),
        ("slack: [unclosed\n", {}, None),
        ("- a list\n", {}, None),
    ],
)
def test_the_fast_path_reads_two_keys(
    tmp_path: Path, text: str, env: dict[str, str], expected: PipeConfig | None
) -> None:
    assert read_pipe_config(write(tmp_path, text), env) == expected


def test_a_missing_config_file_is_left_to_the_full_loader(tmp_path: Path) -> None:
    assert read_pipe_config(tmp_path / "missing.yaml", {}) is None


def test_read_limited_keeps_the_limit_and_counts_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "big.eml"
    path.write_bytes(b"x" * 3_000_000)
    assert read_limited(str(path), 1000) == (b"x" * 1000, 3_000_000)
    assert read_limited(str(path), 3_000_000) == (b"x" * 3_000_000, 3_000_000)


# --- the server in this process, with the real intake ---

POLICY = Policy(
    queues=(QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),),
    address="support@ticketbot.example",
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
)
LIMITS = ParseLimits(max_attempts=2, max_message_bytes=LIMIT)
POISON = {
    "sqlite": """CREATE TRIGGER poison BEFORE INSERT ON article WHEN NEW.subject LIKE '%POISON%'
        BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;""",
    "postgres": """CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.subject LIKE '%POISON%' THEN RAISE EXCEPTION 'poisoned row'; END IF;
        RETURN NEW; END $$;
        CREATE TRIGGER poison BEFORE INSERT ON article FOR EACH ROW EXECUTE FUNCTION poison();""",
}


@pytest.fixture
def socket_path() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tb-") as directory:  # short: a socket path
        yield Path(directory) / "ingest.sock"


@pytest.fixture
async def server(database: str, socket_path: Path) -> AsyncIterator[PipeServer]:
    await db.connection().execute_script(POISON[database.split(":", maxsplit=1)[0]])
    async with ParsePool(LIMITS) as pool:
        intake = MailIntake(POLICY, pool)

        async def store(raw: bytes, size: int, name: str) -> str | None:
            return await store_piped(intake.receive, raw, size, name, LIMITS.max_attempts)

        pipe = PipeServer(str(socket_path), store, max_bytes=LIMIT, read_seconds=0.5)
        assert await pipe.start()
        try:
            yield pipe
        finally:
            await pipe.close()


async def talk(path: Path, data: bytes) -> bytes:
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    return answer


async def test_a_mail_over_the_socket_is_stored_and_answered(server: PipeServer) -> None:
    mail = make_mail()
    assert (await talk(server.path, encode_request("-", len(mail), len(mail)) + mail)).startswith(
        b"stored new_ticket "
    )
    assert await talk(server.path, encode_request("-", len(mail), len(mail)) + mail) == (
        b"stored duplicate\n"
    )


async def test_a_poison_mail_is_quarantined_as_when_stored_directly(server: PipeServer) -> None:
    poison = make_mail(subject="POISON pill")
    answer = await talk(server.path, encode_request("p", len(poison), len(poison)) + poison)
    assert answer.startswith(b"stored quarantined")
    mail = make_mail(message_id="<after@x.example>")
    answer = await talk(server.path, encode_request("-", len(mail), len(mail)) + mail)
    assert answer.startswith(b"stored new_ticket ")  # the mail after it goes on


async def test_a_peer_too_slow_to_send_is_refused(server: PipeServer) -> None:
    reader, writer = await asyncio.open_unix_connection(server.path)
    writer.write(b'{"name": "slow", "len')  # and nothing more
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    assert answer == b"refused it did not send its mail within 0.5 s\n"
    mail = make_mail()
    assert (await talk(server.path, encode_request("-", len(mail), len(mail)) + mail)).startswith(
        b"stored new_ticket "
    )


async def test_the_mode_is_set_and_the_socket_removed_on_close(
    server: PipeServer, socket_path: Path
) -> None:
    assert socket_path.stat().st_mode & 0o777 == 0o600
    await server.close()
    assert not socket_path.exists()


async def test_a_second_server_on_a_live_socket_stands_aside(
    server: PipeServer, socket_path: Path
) -> None:
    other = PipeServer(str(socket_path), never, max_bytes=LIMIT)
    assert await other.start() is False
    await other.close()
    assert socket_path.exists()  # still the first server's


async def never(raw: bytes, size: int, name: str) -> str | None:
    raise AssertionError("no mail is sent to this server")


async def test_a_stale_socket_is_taken_over_and_a_plain_file_is_not(socket_path: Path) -> None:
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(socket_path))
    stale.close()  # the file stays, nobody listens: a bot that was killed
    pipe = PipeServer(str(socket_path), never, max_bytes=LIMIT)
    assert await pipe.start()
    await pipe.close()
    socket_path.write_text("not a socket")
    with pytest.raises(OSError, match="exists and is no socket"):
        await PipeServer(str(socket_path), never, max_bytes=LIMIT).start()
    assert socket_path.read_text() == "not a socket"


def test_the_header_is_json(tmp_path: Path) -> None:
    assert json.loads(encode_request("ü", 1, 1)) == {"name": "ü", "length": 1, "size": 1}


async def test_a_socket_that_cannot_be_made_names_the_path(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a directory")
    path = tmp_path / "file" / "ingest.sock"
    with pytest.raises(OSError, match=r"ingest\.socket .*/file/ingest\.sock: "):
        await PipeServer(str(path), never, max_bytes=LIMIT).start()
