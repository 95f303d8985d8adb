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
from mail.mime import header_values
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


def attempt(defects: list[str], what: str, func: Callable[[], _T], default: _T) -> _T:
    """Run one section of the parse; on any error note it and carry on with `default`."""
    try:
        return func()
    except Exception as exc:  # the contract: parse_mail never raises
        defects.append(f"{what} unreadable ({type(exc).__name__})")
        return default


def _first_address(message: Message, names: tuple[str, ...], defects: list[str]) -> Address | None:
    """The first address of the first header in `names` that has one.

    A header that is present but yields no address is noted, so a From that
    was replaced by Sender or Return-Path shows in the defects.
    """
    for name in names:
        values = header_values(message, name)
        addresses, address_defects = parse_address_list(values, _DISPLAY.get(name, name))
        defects.extend(address_defects)
        if addresses:
            return addresses[0]
        if values and name == names[0] and len(names) > 1:
            defects.append(f"header {_DISPLAY.get(name, name)} unparseable")
    return None


def _reply_to(message: Message, defects: list[str]) -> Address | None:
    address, address_defects = parse_single_address(header_values(message, "reply-to"), "Reply-To")
    defects.extend(address_defects)
    return address


def _addresses(message: Message, name: str, defects: list[str]) -> tuple[Address, ...]:
    addresses, address_defects = parse_address_list(header_values(message, name), name.title())
    defects.extend(address_defects)
    return tuple(addresses)


def _delivered_to(message: Message) -> tuple[str, ...]:
    found: list[str] = []
    for name in _DELIVERED_TO_HEADERS:
        addresses, _ = parse_address_list(header_values(message, name))
        for address in addresses:
            email = address.email.lower()
            if email not in found:
                found.append(email)
    return tuple(found)


def _decoded_headers(message: Message, names: tuple[str, ...]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name in names:
        values = header_values(message, name)
        if values:
            headers[name] = [decode_header(value)[0] for value in values]
    return headers


def _header_defects(message: Message) -> list[str]:
    defects: list[str] = []
    for name in _SINGLE_HEADERS:
        count = len(header_values(message, name))
        if count > 1:
            defects.append(f"header {_DISPLAY[name]} appears {count} times, first used")
    for name in ("from", "message-id"):
        if not header_values(message, name):
            defects.append(f"header {_DISPLAY[name]} missing")
    return defects


def _subject(message: Message, defects: list[str]) -> str:
    values = header_values(message, "subject")
    if not values:
        return ""
    subject, subject_defects = decode_header(values[0])
    defects.extend(subject_defects)
    return subject


def _message_id(message: Message, defects: list[str]) -> str | None:
    raw_ids = header_values(message, "message-id")[:1]
    ids = parse_message_ids(raw_ids)
    if raw_ids and not ids:
        defects.append("header Message-ID unparseable")
    return ids[0] if ids else None


def _date(message: Message, defects: list[str]) -> datetime | None:
    values = header_values(message, "date")
    date, date_defects = parse_date(values[0] if values else None)
    defects.extend(date_defects)
    return date


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


def read_header_fields(message: Message, defects: list[str]) -> HeaderFields:
    """Each field under its own guard, so one failure loses only that field."""

    def read(what: str, func: Callable[[], _T], default: _T) -> _T:
        return attempt(defects, what, func, default)

    defects.extend(read("headers", lambda: _header_defects(message), []))
    subject = read("header Subject", lambda: _subject(message, defects), "")
    sender = read(
        "sender",
        lambda: _first_address(message, ("from", "sender", "return-path"), defects),
        None,
    )
    senders = [sender.email] if sender else []
    senders += [value.strip() for value in header_values(message, "return-path")]
    return HeaderFields(
        message_id=read("header Message-ID", lambda: _message_id(message, defects), None),
        in_reply_to=read(
            "header In-Reply-To",
            lambda: parse_message_ids(header_values(message, "in-reply-to")),
            (),
        ),
        references=read(
            "header References",
            lambda: parse_message_ids(header_values(message, "references")),
            (),
        ),
        sender=sender,
        reply_to=read("header Reply-To", lambda: _reply_to(message, defects), None),
        to=read("header To", lambda: _addresses(message, "to", defects), ()),
        cc=read("header Cc", lambda: _addresses(message, "cc", defects), ()),
        delivered_to=read("delivery headers", lambda: _delivered_to(message), ()),
        subject=subject,
        date=read("header Date", lambda: _date(message, defects), None),
        senders=tuple(senders),
        daemon=daemon_kind(senders),
        automatic_headers=read(
            "automatic detection", lambda: _decoded_headers(message, _AUTOMATIC_HEADERS), {}
        ),
    )
