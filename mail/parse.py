"""Read one raw inbound mail into a `ParsedMail`, whatever state it arrives in.

`parse_mail` is pure and never raises: a customer's broken mail must still
become a ticket (SPEC "Email in"), so each section - headers, body,
attachments, bounce - is read on its own, and a failure in one is recorded in
`defects` while the others still fill in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import TypeVar

from mail.automatic import automatic_reason, bounce_message_ids, daemon_kind, is_bounce
from mail.body import Body, extract_attachments, extract_body
from mail.digest import content_digest
from mail.headers import decode_header, parse_address_list, parse_date, parse_message_ids
from mail.mime import Part, build_tree, header_values
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
    """Parse with policy.default; fall back to compat32, then to the whole input as a body."""
    try:
        return BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # policy.default's header parser raised on a malformed header
        defects.append(f"MIME structure unreadable with policy.default ({type(exc).__name__})")
    try:
        return BytesParser(policy=policy.compat32).parsebytes(raw)
    except Exception as exc:  # nothing left but treating everything as text
        defects.append(f"MIME structure unreadable ({type(exc).__name__}), read as plain text")
    message = Message()
    message.set_payload(raw.decode("ascii", "surrogateescape"))
    return message


def _first_address(message: Message, names: tuple[str, ...], defects: list[str]) -> Address | None:
    for name in names:
        addresses, address_defects = parse_address_list(header_values(message, name))
        defects.extend(address_defects)
        if addresses:
            return addresses[0]
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


def _empty_mail(digest: str, defects: list[str]) -> ParsedMail:
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


def _parse(raw: bytes, digest: str, defects: list[str]) -> ParsedMail:
    message = _read_message(raw, defects)
    defects.extend(_attempt(defects, "headers", lambda: _header_defects(message), []))

    subject = ""
    if values := header_values(message, "subject"):
        subject, subject_defects = decode_header(values[0])
        defects.extend(subject_defects)
    sender = _attempt(
        defects,
        "sender",
        lambda: _first_address(message, ("from", "sender", "return-path"), defects),
        None,
    )
    if sender is None and header_values(message, "from"):
        defects.append("header From unparseable")
    dates = header_values(message, "date")
    date, date_defects = parse_date(dates[0] if dates else None)
    defects.extend(date_defects)
    raw_ids = header_values(message, "message-id")[:1]
    message_ids = parse_message_ids(raw_ids)
    if raw_ids and not message_ids:
        defects.append("header Message-ID unparseable")

    tree: Part | None = _attempt(defects, "MIME structure", lambda: build_tree(message), None)
    body = Body("", None, ())
    attachments: tuple[ParsedAttachment, ...] = ()
    bounce = False
    bounce_ids: tuple[str, ...] = ()
    senders = [sender.email] if sender else []
    senders += [value.strip() for value in header_values(message, "return-path")]
    daemon = daemon_kind(senders)
    if tree is not None:
        for part in tree.walk():
            defects.extend(part.defects)
        body = _attempt(defects, "body", lambda: extract_body(tree), body)
        defects.extend(body.defects)
        no_attachments: tuple[tuple[ParsedAttachment, ...], tuple[str, ...]] = ((), ())
        found, attachment_defects = _attempt(
            defects, "attachments", lambda: extract_attachments(tree), no_attachments
        )
        attachments = found
        defects.extend(attachment_defects)
        bounce = _attempt(defects, "bounce report", lambda: is_bounce(tree, daemon, subject), False)
        if bounce:
            bounce_ids = _attempt(
                defects, "bounce report", lambda: bounce_message_ids(tree, body.text), ()
            )

    reason = automatic_reason(_decoded_headers(message, _AUTOMATIC_HEADERS), senders, bounce)
    return ParsedMail(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=parse_message_ids(header_values(message, "in-reply-to")),
        references=parse_message_ids(header_values(message, "references")),
        sender=sender,
        reply_to=_first_address(message, ("reply-to",), defects),
        to=_addresses(message, "to", defects),
        cc=_addresses(message, "cc", defects),
        delivered_to=_delivered_to(message),
        subject=subject,
        date=date,
        text=body.text,
        html=body.html,
        attachments=attachments,
        is_automatic=reason is not None,
        automatic_reason=reason,
        is_bounce=bounce,
        bounce_message_ids=bounce_ids,
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
        return _empty_mail(digest, defects)
