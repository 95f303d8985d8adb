"""`ticketbot ingest`'s fast path: read the mail, hand it to the running bot, print its answer.

An MTA starts one `ingest` per mail, so what this process imports is what every mail costs.
It reads two keys of the config file (`ingest.socket`, `mail.limits.max_message_bytes`)
with nothing but PyYAML and the standard library, talks blocking sockets (no event loop),
and leaves the database, the parser, pydantic, Slack and aiohttp alone: the bot has them
loaded already. Only when no bot answers does `ingest` load all of that and store the mail
itself (bot/app/ingest.py), as it always did.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from bot.app.config_file import DEFAULT_INGEST_SOCKET, DEFAULT_MAX_MESSAGE_BYTES, expand_value
from bot.app.pipe import MAX_ANSWER_BYTES, Answer, encode_request, parse_answer

EXIT_TEMPFAIL = 75  # sysexits EX_TEMPFAIL: an MTA keeps the mail and retries
CONNECT_SECONDS = 5.0
# The bot answers once the mail is committed: parsing (mail.limits.parse_seconds, per
# attempt) and the database. Past this, exit 75 and let the MTA try again (the same bytes
# are the same mail, so a late commit on the bot's side does not make a second ticket).
ANSWER_SECONDS = 120.0


class PipeConfig(NamedTuple):
    socket: str  # empty: no bot to ask
    max_message_bytes: int


class PipedMail(NamedTuple):
    name: str  # the file as given, "-" for standard input
    raw: bytes | None  # None: it could not be read (and that was said)
    size: int  # the whole mail's size; raw holds at most the limit


class NoBot(Exception):
    """No bot took the mail (no socket, nobody listening, it died or refused): store it here."""


def read_pipe_config(path: Path, environ: Mapping[str, str]) -> PipeConfig | None:
    """The two keys the fast path reads, or None for anything unusual (no file, bad YAML,
    unset variables, odd values): the full loader then says what is wrong, as for any verb."""
    try:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except Exception:  # anything: the full loader reports it properly
        return None
    socket_path = _value(document, ("ingest", "socket"), DEFAULT_INGEST_SOCKET, environ)
    limit = _value(
        document, ("mail", "limits", "max_message_bytes"), DEFAULT_MAX_MESSAGE_BYTES, environ
    )
    if not isinstance(socket_path, str):
        return None
    try:
        max_bytes = int(limit)
    except (TypeError, ValueError):
        return None
    if isinstance(limit, bool) or max_bytes < 64 * 1024:
        return None
    return PipeConfig(socket=socket_path, max_message_bytes=max_bytes)


def _value(document: Any, keys: tuple[str, ...], default: object, env: Mapping[str, str]) -> Any:
    """The value at `keys` with `${NAME}` expanded; `default` where the file leaves it out,
    None where the file has something the full loader should judge."""
    node = document
    for key in keys:
        if node is None:
            return default
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    if node is None:
        return default
    if isinstance(node, str):
        value, missing = expand_value(node, env)
        return None if missing else value
    return node


def read_limited(name: str, limit: int) -> tuple[bytes, int]:
    """At most `limit` + 1 bytes of a mail and its whole size; the rest is read and dropped
    (an MTA's pipe must be drained, or it sees a failed delivery)."""
    stream = sys.stdin.buffer if name == "-" else Path(name).open("rb")  # noqa: SIM115
    try:
        raw = stream.read(limit + 1)
        size = len(raw)
        while chunk := stream.read(1024 * 1024):
            size += len(chunk)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return raw[:limit] if size > limit else raw, size


def read_sources(names: Iterable[str], limit: int) -> Iterator[PipedMail]:
    """Each named mail, read when its turn comes; one that cannot be read is said on stderr."""
    for name in names:
        try:
            raw, size = read_limited(name, limit)
        except OSError as exc:
            print(f"{name}: cannot read: {exc.strerror}", file=sys.stderr)
            yield PipedMail(name, None, 0)
            continue
        yield PipedMail(name, raw, size)


def handover(path: str, mail: PipedMail, *, answer_seconds: float = ANSWER_SECONDS) -> Answer:
    """Send one mail to the bot listening on `path` and return its answer.

    `NoBot` when the mail was not taken: no socket file, nobody listening, permission
    denied, or the connection ended before an answer came (a bot that died mid-mail has
    committed nothing, or the mail again is a duplicate). `TimeoutError` when the bot took
    the mail but did not answer in time.
    """
    assert mail.raw is not None
    if not path:
        raise NoBot("ingest.socket is empty")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(CONNECT_SECONDS)
        try:
            conn.connect(path)
        except OSError as exc:  # FileNotFoundError, ConnectionRefusedError, PermissionError…
            raise NoBot(f"no bot answers on {path}: {exc.strerror or exc}") from None
        conn.settimeout(answer_seconds)
        try:
            conn.sendall(encode_request(mail.name, len(mail.raw), mail.size))
            conn.sendall(mail.raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it refused early and hung up; its answer may still be there to read
        except TimeoutError:
            raise NoBot(f"the bot on {path} did not take the mail in time") from None
        answer = parse_answer(_read_line(conn))
    if answer is None:
        raise NoBot(f"the bot on {path} hung up without an answer")
    if answer.status == "refused":
        raise NoBot(f"the bot on {path} refused the mail: {answer.text}")
    return answer


def _read_line(conn: socket.socket) -> bytes:
    """The answer line; b"" or a partial line when the connection ended first."""
    buffer = b""
    try:
        while not buffer.endswith(b"\n") and len(buffer) < MAX_ANSWER_BYTES:
            chunk = conn.recv(MAX_ANSWER_BYTES)
            if not chunk:
                break
            buffer += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    return buffer


class Fallback(NamedTuple):
    """What is left for `ingest` to store itself: the mail no bot took, and those after it."""

    status: int
    mails: Iterator[PipedMail]
    reason: str  # why no bot took it, for the log


def pipe_to_bot(config: PipeConfig, names: Iterable[str]) -> int | Fallback:
    """Hand each mail to the bot and print its line (`NAME: new_ticket 2026…`, as when
    storing directly); the exit status, or `Fallback` at the first mail no bot took."""
    status = 0
    mails = read_sources(names, config.max_message_bytes)
    for mail in mails:
        if mail.raw is None:
            status = 1
            continue
        try:
            answer = handover(config.socket, mail)
        except NoBot as exc:
            return Fallback(status, _chain(mail, mails), reason=str(exc))
        except TimeoutError:
            print(
                f"ticketbot: the bot on {config.socket} did not answer within "
                f"{ANSWER_SECONDS:g} s; try again later",
                file=sys.stderr,
            )
            return EXIT_TEMPFAIL
        if answer.status == "retry":
            print(f"ticketbot: {answer.text}", file=sys.stderr)
            return EXIT_TEMPFAIL
        print(f"{mail.name}: {answer.text}", flush=True)
    return status


def _chain(first: PipedMail, rest: Iterator[PipedMail]) -> Iterator[PipedMail]:
    yield first
    yield from rest
