"""Recognise mail no human wrote: auto-replies, lists, bulk mail and bounces.

ticketbot must never auto-acknowledge such mail (two robots answering each
other is a mail loop), and bounces become a note on the ticket they refer to.
The rules are those of RFC 3834 plus the headers Exchange and list servers
use in practice; each hit has a short reason for the logs and the ticket.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from email import policy
from email.message import Message
from email.parser import HeaderParser

from mail.body import EMBEDDED_MESSAGE_TYPES
from mail.headers import parse_message_ids
from mail.mime import Part, header_values, stored_payload

__all__ = [
    "automatic_reason",
    "bounce_message_ids",
    "daemon_kind",
    "is_bounce",
    "is_bounce_subject",
]

_LIST_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_SUPPRESS_TOKENS = frozenset({"all", "oof", "autoreply"})
_DAEMONS = ("mailer-daemon", "postmaster")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|returned to sender|delivery status notification"
    r"|delivery (?:failure|failed|has failed|problem|incomplete)"
    r"|mail delivery (?:failed|failure|system)"
    r"|failure notice|could not be delivered|not delivered|non remis|unzustellbar|nicht zustellbar"
    r"|no se puede entregar|non recapitabile",
    re.IGNORECASE,
)
_DSN_ID_FIELDS = ("original-message-id", "x-original-message-id")
_MESSAGE_ID_LINE = re.compile(
    r"^[ \t>]*message-id:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE
)


def _token(value: str) -> str:
    """First word of a header value, lower-cased, without parameters or comments."""
    return re.split(r"[;(\s]", value.strip(), maxsplit=1)[0].lower()


def daemon_kind(addresses: Iterable[str]) -> str | None:
    """The daemon local part ("mailer-daemon" or "postmaster") among `addresses`, if any."""
    for address in addresses:
        local = address.strip().strip("<>").rpartition("@")[0] or address.strip().strip("<>")
        if local.lower() in _DAEMONS:
            return local.lower()
    return None


def is_bounce_subject(subject: str) -> bool:
    """True for the subjects MTAs give non-delivery reports, in several languages."""
    return _BOUNCE_SUBJECT.search(subject) is not None


def automatic_reason(
    headers: Mapping[str, Sequence[str]], senders: Iterable[str], bounce: bool
) -> str | None:
    """Why a message is automatic (e.g. "precedence: bulk"), or None if a person sent it.

    `headers` maps lower-case names to decoded values; `senders` are the
    From/Sender/Return-Path addresses.
    """
    for value in headers.get("auto-submitted", ()):
        kind = _token(value)
        if kind != "no":
            return f"auto-submitted: {kind}" if kind else "auto-submitted"
    for value in headers.get("precedence", ()):
        if _token(value) in _LIST_PRECEDENCE:
            return f"precedence: {_token(value)}"
    if "list-id" in headers:
        return "list-id"
    if "list-unsubscribe" in headers:
        return "list-unsubscribe"
    for value in headers.get("x-auto-response-suppress", ()):
        if _SUPPRESS_TOKENS & {t.lower() for t in re.split(r"[\s,;]+", value) if t}:
            return "x-auto-response-suppress"
    for name in ("x-autoreply", "x-autorespond"):
        if any(_token(value) != "no" for value in headers.get(name, ())):
            return name
    if any(value.strip() in ("", "<>") for value in headers.get("return-path", ())):
        return "empty return-path"
    daemon = daemon_kind(senders)
    if daemon:
        return daemon
    return "bounce" if bounce else None


def is_bounce(root: Part, daemon: str | None, subject: str) -> bool:
    """A DSN (multipart/report, delivery-status part) or a daemon's non-delivery subject."""
    if root.content_type == "multipart/report":
        report_type = (root.param("report-type") or "").lower()
        if report_type in ("delivery-status", "global-delivery-status"):
            return True
    if any(part.content_type.endswith("delivery-status") for part in root.walk()):
        return True
    return daemon is not None and is_bounce_subject(subject)


def _status_blocks(part: Part) -> list[Message]:
    payload = stored_payload(part.message)
    if isinstance(payload, list):
        return payload
    if isinstance(payload, str):  # some parsers leave it unsplit; read it as header blocks
        return [
            HeaderParser(policy=policy.compat32).parsestr(b)
            for b in re.split(r"\r?\n\r?\n", payload)
        ]
    return []


def bounce_message_ids(root: Part, text: str) -> tuple[str, ...]:
    """Message-IDs of the original mail a bounce reports on.

    From Original-Message-ID fields of the delivery-status part, the attached
    message or its headers, or - for plain-text bounces such as qmail's - a
    Message-ID line in the quoted original.
    """
    values: list[str] = []
    for part in root.leaves():
        if part.content_type.endswith("delivery-status"):
            for block in _status_blocks(part):
                for name in _DSN_ID_FIELDS:
                    values.extend(header_values(block, name))
        elif part.content_type in EMBEDDED_MESSAGE_TYPES:
            payload = stored_payload(part.message)
            if isinstance(payload, list) and payload:
                values.extend(header_values(payload[0], "message-id"))
        elif part.content_type in ("text/rfc822-headers", "message/global-headers"):
            data, _ = part.payload()
            headers = HeaderParser(policy=policy.compat32).parsestr(data.decode("utf-8", "replace"))
            values.extend(header_values(headers, "message-id"))
    ids = parse_message_ids(values)
    if not ids:
        ids = parse_message_ids(_MESSAGE_ID_LINE.findall(text))
    return ids
