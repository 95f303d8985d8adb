"""Read one raw inbound mail into a `ParsedMail`, whatever state it arrives in.

`parse_mail` is pure and never raises: a customer's broken mail must still
become a ticket (SPEC "Email in"), so each section - headers, body,
attachments, bounce - is read on its own, and a failure in one is recorded in
`defects` while the others still fill in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import TypeVar

from mail.automatic import automatic_reason, bounce_message_ids, daemon_kind, is_bounce
from mail.body import Body, extract_attachments, extract_body
from mail.digest import content_digest
from mail.headers import decode_header, parse_address_list, parse_date, parse_message_ids
from mail.mime import build_tree, header_values
from mail.parsed import Address, ParsedAttachment, ParsedMail

__all__ = ["content_digest", "parse_mail"]

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


def _attempt(defects: list[str], what: str, func: Callable[[], _T], default: _T) -> _T:
    """Run one section of the parse; on any error note it and carry on with `default`."""
    try:
        return func()
    except Exception as exc:  # the contract: parse_mail never raises
        defects.append(f"{what} unreadable ({type(exc).__name__})")
        return default


def _read_message(raw: bytes, defects: list[str]) -> Message:
    """Split the mail into its MIME tree; if even that fails, the whole input is the body.

    compat32, not policy.default: headers are decoded from their raw values in
    mail.headers anyway, and policy.default's header objects are what raises on
    damaged mail (an IndexError on a truncated "name*" parameter in 3.11) and
    cost ~8x the time, 0.9 s for a 185 kB mail of 5000 parts.
    """
    try:
        return BytesParser(policy=policy.compat32).parsebytes(raw)
    except Exception as exc:  # nothing left but treating everything as text
        defects.append(f"MIME structure unreadable ({type(exc).__name__}), read as plain text")
    message = Message()
    message.set_payload(raw.decode("ascii", "surrogateescape"))
    return message


def _first_address(message: Message, names: tuple[str, ...], defects: list[str]) -> Address | None:
    """The first address of the first header in `names` that has one.

    A header that is present but yields no address is noted, so a From that
    was replaced by Sender or Return-Path shows in the defects.
    """
    for name in names:
        values = header_values(message, name)
        addresses, address_defects = parse_address_list(values)
        defects.extend(address_defects)
        if addresses:
            return addresses[0]
        if values and name == names[0] and len(names) > 1:
            defects.append(f"header {_DISPLAY.get(name, name)} unparseable")
    return None


def _addresses(message: Message, name: str, defects: list[str]) -> tuple[Address, ...]:
    addresses, address_defects = parse_address_list(header_values(message, name))
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


def empty_mail(digest: str, defects: list[str]) -> ParsedMail:
    """A mail of which nothing could be read: the raw bytes still become a ticket."""
    return ParsedMail(
        message_id=None,
        in_reply_to=(),
        references=(),
        sender=None,
        reply_to=None,
        to=(),
        cc=(),
        delivered_to=(),
        subject="",
        date=None,
        text="",
        html=None,
        attachments=(),
        is_automatic=False,
        automatic_reason=None,
        is_bounce=False,
        bounce_message_ids=(),
        digest=digest,
        defects=tuple(defects),
    )


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


_NO_BODY = Body("", None, ())


@dataclass(frozen=True, slots=True)
class _Content:
    """What the MIME tree yields: body, attachments and the bounce verdict."""

    body: Body = _NO_BODY
    attachments: tuple[ParsedAttachment, ...] = ()
    bounce: bool = False
    bounce_ids: tuple[str, ...] = ()


def _content(message: Message, daemon: str | None, subject: str, defects: list[str]) -> _Content:
    tree = _attempt(defects, "MIME structure", lambda: build_tree(message), None)
    if tree is None:
        return _Content()
    for part in tree.walk():
        defects.extend(part.defects)
    body = _attempt(defects, "body", lambda: extract_body(tree), _NO_BODY)
    defects.extend(body.defects)
    no_attachments: tuple[tuple[ParsedAttachment, ...], tuple[str, ...]] = ((), ())
    attachments, attachment_defects = _attempt(
        defects, "attachments", lambda: extract_attachments(tree), no_attachments
    )
    defects.extend(attachment_defects)
    bounce = _attempt(defects, "bounce report", lambda: is_bounce(tree, daemon, subject), False)
    bounce_ids: tuple[str, ...] = ()
    if bounce:
        bounce_ids = _attempt(
            defects, "bounce report", lambda: bounce_message_ids(tree, body.text), ()
        )
    return _Content(body, attachments, bounce, bounce_ids)


def _parse(raw: bytes, digest: str, defects: list[str]) -> ParsedMail:
    """Read each part of the mail under its own guard, so one failure loses only that part."""
    message = _read_message(raw, defects)

    def read(what: str, func: Callable[[], _T], default: _T) -> _T:
        return _attempt(defects, what, func, default)

    defects.extend(read("headers", lambda: _header_defects(message), []))
    subject = read("header Subject", lambda: _subject(message, defects), "")
    sender = read(
        "sender",
        lambda: _first_address(message, ("from", "sender", "return-path"), defects),
        None,
    )
    senders = [sender.email] if sender else []
    senders += [value.strip() for value in header_values(message, "return-path")]
    daemon = daemon_kind(senders)
    content = _content(message, daemon, subject, defects)
    unsure: str | None = "automatic detection failed"  # better no auto-reply than a mail loop
    reason = read(
        "automatic detection",
        lambda: automatic_reason(
            _decoded_headers(message, _AUTOMATIC_HEADERS), senders, content.bounce
        ),
        unsure,
    )
    return ParsedMail(
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
        reply_to=read(
            "header Reply-To", lambda: _first_address(message, ("reply-to",), defects), None
        ),
        to=read("header To", lambda: _addresses(message, "to", defects), ()),
        cc=read("header Cc", lambda: _addresses(message, "cc", defects), ()),
        delivered_to=read("delivery headers", lambda: _delivered_to(message), ()),
        subject=subject,
        date=read("header Date", lambda: _date(message, defects), None),
        text=content.body.text,
        html=content.body.html,
        attachments=content.attachments,
        is_automatic=reason is not None,
        automatic_reason=reason,
        is_bounce=content.bounce,
        bounce_message_ids=content.bounce_ids,
        digest=digest,
        defects=tuple(dict.fromkeys(defects)),
    )


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse raw RFC 5322 bytes into a `ParsedMail`. Pure; never raises.

    What could not be read is described in `defects`; a mail nothing could be
    read from still comes back, with empty fields and its digest.
    """
    try:
        digest = content_digest(raw)
    except Exception:  # not bytes-like at all: still give the caller a stable value
        digest = hashlib.sha256(repr(raw).encode()).hexdigest()
    defects: list[str] = []
    try:
        return _parse(bytes(raw), digest, defects)
    except Exception as exc:  # last line of defence for the never-raises contract
        defects.append(f"message unreadable ({type(exc).__name__}); only the raw mail is kept")
        return empty_mail(digest, defects)
