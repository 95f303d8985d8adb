"""What a mail's header block says, read field by field.

The full parse and the headers-only parse (a mail too large, or one whose
full parse ran out of time) read the header block the same way, so a stub
ticket knows its From, Subject, Message-ID and recipients as a full one does.
Each field is read under its own guard: one unreadable header loses only itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import TypeVar

from mail.automatic import daemon_kind
from mail.headers import (
    decode_header,
    parse_address_list,
    parse_date,
    parse_message_ids,
    parse_single_address,
)
from mail.parsed import Address

__all__ = ["HeaderFields", "attempt", "read_header_fields"]

_T = TypeVar("_T")
_SINGLE_HEADERS = ("subject", "from", "date", "message-id", "in-reply-to")
_DISPLAY = {
    "subject": "Subject",
    "from": "From",
    "date": "Date",
    "message-id": "Message-ID",
    "in-reply-to": "In-Reply-To",
    "reply-to": "Reply-To",
}
_AUTOMATIC_HEADERS = (
    "auto-submitted",
    "precedence",
    "list-id",
    "list-unsubscribe",
    "x-auto-response-suppress",
    "x-autoreply",
    "x-autorespond",
    "return-path",
)
_DELIVERED_TO_HEADERS = ("delivered-to", "x-original-to", "envelope-to")


_Headers = dict[str, list[str]]


def _index(message: Message) -> _Headers:
    """Raw header values by lower-cased name, in order: read once, not once per field
    (a header block of a million lines would otherwise be walked twenty times)."""
    headers: _Headers = {}
    for name, value in message.raw_items():
        headers.setdefault(name.strip().lower(), []).append(str(value))
    return headers


def _values(headers: _Headers, name: str) -> list[str]:
    return headers.get(name, [])


def attempt(defects: list[str], what: str, func: Callable[[], _T], default: _T) -> _T:
    """Run one section of the parse; on any error note it and carry on with `default`."""
    try:
        return func()
    except Exception as exc:  # the contract: parse_mail never raises
        defects.append(f"{what} unreadable ({type(exc).__name__})")
        return default


def _first_address(headers: _Headers, names: tuple[str, ...], defects: list[str]) -> Address | None:
    """The first address of the first header in `names` that has one.

    A header that is present but yields no address is noted, so a From that
    was replaced by Sender or Return-Path shows in the defects.
    """
    for name in names:
        values = _values(headers, name)
        addresses, address_defects = parse_address_list(values, _DISPLAY.get(name, name))
        defects.extend(address_defects)
        if addresses:
            return addresses[0]
        if values and name == names[0] and len(names) > 1:
            defects.append(f"header {_DISPLAY.get(name, name)} unparseable")
    return None


def _reply_to(headers: _Headers, defects: list[str]) -> Address | None:
    address, address_defects = parse_single_address(_values(headers, "reply-to"), "Reply-To")
    defects.extend(address_defects)
    return address


def _addresses(headers: _Headers, name: str, defects: list[str]) -> tuple[Address, ...]:
    addresses, address_defects = parse_address_list(_values(headers, name), name.title())
    defects.extend(address_defects)
    return tuple(addresses)


def _delivered_to(headers: _Headers) -> tuple[str, ...]:
    found: dict[str, None] = {}  # an ordered set: a relay can add thousands
    for name in _DELIVERED_TO_HEADERS:
        addresses, _ = parse_address_list(_values(headers, name))
        for address in addresses:
            found.setdefault(address.email.lower())
    return tuple(found)


def _decoded_headers(headers: _Headers, names: tuple[str, ...]) -> dict[str, list[str]]:
    decoded: dict[str, list[str]] = {}
    for name in names:
        values = _values(headers, name)
        if values:
            decoded[name] = [decode_header(value)[0] for value in values]
    return decoded


def _header_defects(headers: _Headers) -> list[str]:
    defects: list[str] = []
    for name in _SINGLE_HEADERS:
        count = len(_values(headers, name))
        if count > 1:
            defects.append(f"header {_DISPLAY[name]} appears {count} times, first used")
    for name in ("from", "message-id"):
        if not _values(headers, name):
            defects.append(f"header {_DISPLAY[name]} missing")
    return defects


def _subject(headers: _Headers, defects: list[str]) -> str:
    values = _values(headers, "subject")
    if not values:
        return ""
    subject, subject_defects = decode_header(values[0])
    defects.extend(subject_defects)
    return subject


def _message_id(headers: _Headers, defects: list[str]) -> str | None:
    raw_ids = _values(headers, "message-id")[:1]
    ids = parse_message_ids(raw_ids)
    if raw_ids and not ids:
        defects.append("header Message-ID unparseable")
    return ids[0] if ids else None


def _date(headers: _Headers, defects: list[str]) -> datetime | None:
    values = _values(headers, "date")
    date, date_defects = parse_date(values[0] if values else None)
    defects.extend(date_defects)
    return date


_IMPORTANT_X_PRIORITY = frozenset({"1", "2"})  # 1 (Highest), 2 (High); 3 is normal


def is_marked_important(headers: _Headers) -> bool:
    """`Importance: high` (Outlook) or `X-Priority: 1`/`2` ("1 (Highest)"): the first value
    of each, anything else (absent, garbage, "low", a megabyte of text) is not important."""
    importance = _values(headers, "importance")[:1]
    if importance and importance[0][:100].strip().lower() == "high":
        return True
    x_priority = _values(headers, "x-priority")[:1]
    if not x_priority:
        return False
    words = x_priority[0][:100].split()
    return bool(words) and words[0] in _IMPORTANT_X_PRIORITY


@dataclass(frozen=True, slots=True)
class HeaderFields:
    """What the header block says: the same for a full and a headers-only parse."""

    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    sender: Address | None
    reply_to: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    delivered_to: tuple[str, ...]
    subject: str
    date: datetime | None
    senders: tuple[str, ...]
    daemon: str | None
    automatic_headers: dict[str, list[str]]
    marked_important: bool = False


def read_header_fields(message: Message, defects: list[str]) -> HeaderFields:
    """Each field under its own guard, so one failure loses only that field."""
    headers = _index(message)

    def read(what: str, func: Callable[[], _T], default: _T) -> _T:
        return attempt(defects, what, func, default)

    defects.extend(read("headers", lambda: _header_defects(headers), []))
    subject = read("header Subject", lambda: _subject(headers, defects), "")
    sender = read(
        "sender",
        lambda: _first_address(headers, ("from", "sender", "return-path"), defects),
        None,
    )
    senders = [sender.email] if sender else []
    senders += [value.strip() for value in _values(headers, "return-path")]
    return HeaderFields(
        message_id=read("header Message-ID", lambda: _message_id(headers, defects), None),
        in_reply_to=read(
            "header In-Reply-To",
            lambda: parse_message_ids(_values(headers, "in-reply-to")),
            (),
        ),
        references=read(
            "header References",
            lambda: parse_message_ids(_values(headers, "references")),
            (),
        ),
        sender=sender,
        reply_to=read("header Reply-To", lambda: _reply_to(headers, defects), None),
        to=read("header To", lambda: _addresses(headers, "to", defects), ()),
        cc=read("header Cc", lambda: _addresses(headers, "cc", defects), ()),
        delivered_to=read("delivery headers", lambda: _delivered_to(headers), ()),
        subject=subject,
        date=read("header Date", lambda: _date(headers, defects), None),
        senders=tuple(senders),
        daemon=daemon_kind(senders),
        automatic_headers=read(
            "automatic detection", lambda: _decoded_headers(headers, _AUTOMATIC_HEADERS), {}
        ),
        marked_important=read("header Importance", lambda: is_marked_important(headers), False),
    )
