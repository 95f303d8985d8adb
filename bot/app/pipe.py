"""What `ticketbot ingest` and the running bot say to each other over the ingest socket.

Pure functions, standard library only: the client imports this on its fast path. One
connection carries one mail:

    client: {"name": "-", "length": 1234, "size": 1234}\\n   (one JSON line, ≤ MAX_HEADER_BYTES)
            <length bytes of the mail>
    bot:    stored new_ticket 2026120610000017\\n           (after the commit)
         or retry the database does not answer\\n          (the MTA should try later: 75)
         or refused <why>\\n                               (nothing was stored)

The records are NamedTuples rather than dataclasses: importing `dataclasses` (with
`inspect`) is a noticeable part of what a one-mail `ingest` process costs.

`length` is what follows the header (at most `mail.limits.max_message_bytes`); `size` is the
mail's whole size, larger when the client kept only the first `length` bytes (the bot then
stores a stub ticket from the headers, as `MailIntake.read` does for any source).
"""

from __future__ import annotations

import json
from typing import Literal, NamedTuple

MAX_HEADER_BYTES = 4096
MAX_ANSWER_BYTES = 4096
MAX_NAME_CHARS = 300  # the source is stored as "ingest:<name>", at most 320 characters

Status = Literal["stored", "retry", "refused"]
STATUSES: tuple[Status, ...] = ("stored", "retry", "refused")


class BadRequest(ValueError):
    """A header the bot cannot use; its text is ours (never the peer's bytes)."""


class PipeRequest(NamedTuple):
    name: str  # the file name or "-", for the source and the client's output
    length: int  # bytes of mail after the header
    size: int  # the mail's whole size (≥ length)


class Answer(NamedTuple):
    status: Status
    text: str  # stored: the outcome line ("new_ticket 2026…"); otherwise why


def encode_request(name: str, length: int, size: int) -> bytes:
    header = {"name": name[:MAX_NAME_CHARS], "length": length, "size": max(size, length)}
    return json.dumps(header, ensure_ascii=True).encode("ascii") + b"\n"


def parse_request(line: bytes, max_length: int) -> PipeRequest:
    """The header line (with or without its newline); `BadRequest` for anything else,
    including a mail longer than `max_length` (`mail.limits.max_message_bytes`)."""
    if len(line) > MAX_HEADER_BYTES:
        raise BadRequest(f"the header is over {MAX_HEADER_BYTES} bytes")
    try:
        header = json.loads(line)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, absurdly nested
        raise BadRequest("the header is not a JSON line") from None
    if not isinstance(header, dict):
        raise BadRequest("the header is not a JSON object")
    name, length, size = header.get("name"), header.get("length"), header.get("size")
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
        raise BadRequest(f"name must be a string of at most {MAX_NAME_CHARS} characters")
    if not _count(length) or not _count(size):
        raise BadRequest("length and size must be whole numbers ≥ 0")
    assert isinstance(length, int) and isinstance(size, int)
    if length > max_length:
        raise BadRequest(f"{length} bytes is over the limit of {max_length} bytes")
    if size < length:
        raise BadRequest("size must be at least length")
    return PipeRequest(name=name.replace("\n", " ").replace("\r", " "), length=length, size=size)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def encode_answer(status: Status, text: str) -> bytes:
    line = " ".join(text.split())  # one line, whatever the text holds
    return f"{status} {line}".encode("utf-8", "replace")[: MAX_ANSWER_BYTES - 1] + b"\n"


def parse_answer(line: bytes) -> Answer | None:
    """The bot's answer, or None when the line is none (a bot that died mid-answer)."""
    if not line.endswith(b"\n"):
        return None
    status, _, text = line.decode("utf-8", "replace").rstrip("\n").partition(" ")
    for known in STATUSES:
        if status == known:
            return Answer(known, text)
    return None
