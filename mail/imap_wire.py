"""Pure helpers for IMAP replies: parsing what the server said, and naming it safely in logs.

No I/O and no aioimaplib here; `mail.imap_client` feeds these with the reply lines
aioimaplib collected (untagged lines without their `* `, literals as bytearray, the
tagged status text last).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_EXISTS = re.compile(rb"(\d+) EXISTS")
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")
# "BODY[]<0>" answers a partial fetch; the octet count of the literal follows in braces.
_FETCH_BODY = re.compile(rb"\d+ FETCH \(.*BODY\[\](?:<\d+>)? (?:\{(\d+)\}|\"\")", re.DOTALL)
_FETCH_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_FETCH_UID = re.compile(rb"UID (\d+)")

Lines = list[bytes | bytearray]


@dataclass(frozen=True, slots=True)
class Reply:
    """A finished command: `result` is OK, NO or BAD; the last line is the tagged text."""

    result: str
    lines: Lines

    @property
    def text(self) -> str:
        last = self.lines[-1] if self.lines else b""
        return bytes(last).decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class MailboxStatus:
    """What SELECT told us about the folder."""

    folder: str
    uidvalidity: int
    exists: int
    uidnext: int | None = None


def redact_username(username: str) -> str:
    """`support@example.com` → `s***@example.com`: enough to tell mailboxes apart in logs."""
    local, at, domain = username.partition("@")
    return f"{local[:1]}***{at}{domain}"


def parse_select(folder: str, lines: Lines) -> MailboxStatus | None:
    """UIDVALIDITY and EXISTS from a SELECT reply; None without UIDVALIDITY."""
    uidvalidity = exists = uidnext = None
    for line in lines:
        if (found := _UIDVALIDITY.search(line)) is not None:
            uidvalidity = int(found.group(1))
        elif (found := _UIDNEXT.search(line)) is not None:
            uidnext = int(found.group(1))
        elif (found := _EXISTS.fullmatch(line)) is not None:
            exists = int(found.group(1))
    if uidvalidity is None:
        return None
    return MailboxStatus(folder, uidvalidity, exists or 0, uidnext)


def parse_search(lines: Lines, first: int) -> list[int]:
    """UIDs >= `first`, ascending, from a `UID SEARCH UID first:*` reply.

    `first:*` also matches the highest UID when that is below `first` (RFC 3501
    6.4.8: `*` is the largest UID in use), so the filter is not optional.
    """
    found: set[int] = set()
    for line in lines[:-1]:
        tokens = bytes(line).split()
        # aioimaplib hands over the SEARCH result as bare numbers; an untagged "3 EXISTS"
        # or "1 RECENT" that arrives meanwhile has a word in it and is no UID.
        if tokens and all(token.isdigit() for token in tokens):
            found.update(int(token) for token in tokens)
    return sorted(uid for uid in found if uid >= first)


def parse_fetched_all(lines: Lines) -> dict[int, tuple[bytes, int | None]]:
    """Every BODY[] literal of a multi-message FETCH reply by UID, with its RFC822.SIZE.

    Untagged FETCHes without a body (flag changes pushed meanwhile) are skipped.
    """
    found: dict[int, tuple[bytes, int | None]] = {}
    for index, line in enumerate(lines):
        if isinstance(line, bytearray):
            continue
        match = _FETCH_BODY.match(line)
        if match is None:
            continue
        has_literal = match.group(1) is not None
        after = lines[index + 2] if has_literal and index + 2 < len(lines) else b""
        uid_match = _FETCH_UID.search(line) or _FETCH_UID.search(bytes(after))
        if uid_match is None:
            continue
        size_match = _FETCH_SIZE.search(line) or _FETCH_SIZE.search(bytes(after))
        size = int(size_match.group(1)) if size_match is not None else None
        if not has_literal:
            found[int(uid_match.group(1))] = (b"", size)
        elif index + 1 < len(lines) and isinstance(lines[index + 1], bytearray):
            found[int(uid_match.group(1))] = (bytes(lines[index + 1]), size)
    return found


def parse_sizes(lines: Lines) -> dict[int, int]:
    """UID -> RFC822.SIZE from a `UID FETCH set (RFC822.SIZE)` reply."""
    sizes: dict[int, int] = {}
    for line in lines[:-1]:
        if isinstance(line, bytearray):
            continue
        uid_match, size_match = _FETCH_UID.search(line), _FETCH_SIZE.search(line)
        if uid_match is not None and size_match is not None:
            sizes[int(uid_match.group(1))] = int(size_match.group(1))
    return sizes


def uid_set(uids: Iterable[int]) -> str:
    """A UID set for one command, runs folded: [1, 2, 3, 7] → "1:3,7"."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("an empty UID set")
    parts: list[str] = []
    start = previous = ordered[0]
    for uid in [*ordered[1:], None]:
        if uid is not None and uid == previous + 1:
            previous = uid
            continue
        parts.append(str(start) if start == previous else f"{start}:{previous}")
        if uid is not None:
            start = previous = uid
    return ",".join(parts)


def encode_mailbox_name(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3), as servers expect it:
    printable ASCII stays, "&" becomes "&-", any other run becomes "&" + base64 of its
    UTF-16BE with "," for "/" and no padding + "-" ("Entwürfe" → "Entw&APw-rfe")."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            utf16 = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(utf16).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)
