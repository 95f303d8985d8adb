"""Read one raw inbound mail into a `ParsedMail`, whatever state it arrives in.

`parse_mail` is pure and never raises: a customer's broken mail must still
become a ticket (SPEC "Email in"), so each section - headers, body,
attachments, bounce - is read on its own, and a failure in one is recorded in
`defects` while the others still fill in. It honours `mail.limits` (parts,
attachments, HTML, message size: SPEC "Hostile mail"), and every result goes
through `mail.normalise.normalise_mail`, so no later layer is handed a value
the database or SMTP refuses. `parse_headers_only` reads just the header block,
for mail too large to parse or whose full parse ran out of time.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from email import policy
from email.message import Message
from email.parser import HeaderParser

from mail.automatic import automatic_reason, bounce_message_ids, is_bounce
from mail.body import Attachments, Body, extract_attachments, extract_body, human_size
from mail.digest import content_digest
from mail.header_fields import HeaderFields, attempt, read_header_fields
from mail.limits import DEFAULT_LIMITS, ParseLimits
from mail.mime import MAX_DEPTH, BoundedMessage, Part, build_tree, read_message
from mail.normalise import normalise_mail
from mail.parsed import ParsedMail

__all__ = ["HEADER_BLOCK_BYTES", "content_digest", "parse_headers_only", "parse_mail"]

#: What `parse_headers_only` reads at most: far more than any real header block.
HEADER_BLOCK_BYTES = 64 * 1024
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def _read_message(raw: bytes, max_parts: int, defects: list[str]) -> tuple[Message, int]:
    """Split the mail into its MIME tree; if even that fails, the whole input is the body.

    compat32, not policy.default: headers are decoded from their raw values in
    mail.headers anyway, and policy.default's header objects are what raises on
    damaged mail (an IndexError on a truncated "name*" parameter in 3.11) and
    cost ~8x the time, 0.9 s for a 185 kB mail of 5000 parts. Returns the
    message and the number of parts past `max_parts` left unparsed.
    """
    try:
        return read_message(raw, max_parts)
    except Exception as exc:  # nothing left but treating everything as text
        defects.append(f"MIME structure unreadable ({type(exc).__name__}), read as plain text")
    message = BoundedMessage()
    message.set_payload(raw.decode("ascii", "surrogateescape"))
    return message, 0


def _bare(digest: str, defects: list[str]) -> ParsedMail:
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


def empty_mail(digest: str, defects: list[str]) -> ParsedMail:
    """A mail of which nothing could be read: the raw bytes still become a ticket."""
    return _normalised(_bare(digest, defects))


_NO_BODY = Body("", None, ())
_NO_ATTACHMENTS = Attachments(())


@dataclass(frozen=True, slots=True)
class _Content:
    """What the MIME tree yields: body, attachments and the bounce verdict."""

    body: Body = _NO_BODY
    attachments: Attachments = _NO_ATTACHMENTS
    bounce: bool = False
    bounce_ids: tuple[str, ...] = ()
    incomplete: str | None = None


def _content(
    message: Message,
    unread_parts: int,
    header: HeaderFields,
    limits: ParseLimits,
    defects: list[str],
) -> _Content:
    tree = attempt(defects, "MIME structure", lambda: build_tree(message, limits.max_parts), None)
    if tree is None:
        return _Content()
    for part in tree.walk():
        defects.extend(part.defects)
    cut: list[str] = []
    skipped = unread_parts + tree.skipped_parts
    if skipped:
        defects.append(
            f"{skipped} MIME parts past the first {limits.max_parts} not read "
            "(mail.limits.max_parts)"
        )
        cut.append(f"{skipped} of its MIME parts were not read (mail.limits.max_parts)")
    if tree.too_deep_parts:
        cut.append(
            f"{tree.too_deep_parts} of its MIME parts, nested more than {MAX_DEPTH} deep, "
            "were not read"
        )
    body = attempt(defects, "body", lambda: extract_body(tree, limits.max_html_bytes), _NO_BODY)
    defects.extend(body.defects)
    attachments = attempt(
        defects,
        "attachments",
        lambda: extract_attachments(tree, limits.max_attachments),
        _NO_ATTACHMENTS,
    )
    defects.extend(attachments.defects)
    if body.html_cut:
        size = human_size(limits.max_html_bytes)
        cut.append(f"its HTML was converted only up to {size} (mail.limits.max_html_bytes)")
    if attachments.past_limit:
        cut.append(
            f"{attachments.past_limit} attachments were not kept (mail.limits.max_attachments)"
        )
    bounce = attempt(
        defects, "bounce report", lambda: is_bounce(tree, header.daemon, header.subject), False
    )
    bounce_ids: tuple[str, ...] = ()
    if bounce:
        bounce_ids = attempt(
            defects, "bounce report", lambda: bounce_message_ids(tree, body.text), ()
        )
    return _Content(body, attachments, bounce, bounce_ids, "; ".join(cut) or None)


def _mail(
    header: HeaderFields, content: _Content, digest: str, defects: list[str], incomplete: str | None
) -> ParsedMail:
    unsure: str | None = "automatic detection failed"  # better no auto-reply than a mail loop
    reason = attempt(
        defects,
        "automatic detection",
        lambda: automatic_reason(header.automatic_headers, header.senders, content.bounce),
        unsure,
    )
    return ParsedMail(
        message_id=header.message_id,
        in_reply_to=header.in_reply_to,
        references=header.references,
        sender=header.sender,
        reply_to=header.reply_to,
        to=header.to,
        cc=header.cc,
        delivered_to=header.delivered_to,
        subject=header.subject,
        date=header.date,
        text=content.body.text,
        html=content.body.html,
        attachments=content.attachments.kept,
        is_automatic=reason is not None,
        automatic_reason=reason,
        is_bounce=content.bounce,
        bounce_message_ids=content.bounce_ids,
        digest=digest,
        defects=tuple(dict.fromkeys(defects)),
        incomplete=incomplete,
        omitted_attachments=content.attachments.omitted,
        marked_important=header.marked_important,
    )


def _parse(raw: bytes, digest: str, limits: ParseLimits, defects: list[str]) -> ParsedMail:
    """Read each part of the mail under its own guard, so one failure loses only that part."""
    message, unread_parts = _read_message(raw, limits.max_parts, defects)
    header = read_header_fields(message, defects)
    content = _content(message, unread_parts, header, limits, defects)
    return _mail(header, content, digest, defects, content.incomplete)


def _digest(raw: bytes) -> str:
    try:
        return content_digest(raw)
    except Exception:  # not bytes-like at all: still give the caller a stable value
        return hashlib.sha256(repr(raw).encode()).hexdigest()


def _normalised(mail: ParsedMail) -> ParsedMail:
    try:
        return normalise_mail(mail)
    except Exception as exc:  # the never-raises contract holds for the normaliser too
        defect = f"message unreadable ({type(exc).__name__}); only the raw mail is kept"
        return replace(_bare(mail.digest, [defect]), incomplete=defect)


def parse_mail(raw: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> ParsedMail:
    """Parse raw RFC 5322 bytes into a `ParsedMail`. Pure; never raises.

    What could not be read is described in `defects`; a mail nothing could be
    read from still comes back, with empty fields and its digest. A mail over
    `limits.max_message_bytes` is read from its headers only (`incomplete` says so).
    """
    try:
        size = len(raw)
    except Exception:
        size = 0
    if size > limits.max_message_bytes:
        limit = human_size(limits.max_message_bytes)
        reason = (
            f"it is {human_size(size, round_up=True)}, over the {limit} limit "
            "(mail.limits.max_message_bytes)"
        )
        return parse_headers_only(raw, reason, limits)
    digest = _digest(raw)
    defects: list[str] = []
    try:
        return _normalised(_parse(bytes(raw), digest, limits, defects))
    except Exception as exc:  # last line of defence for the never-raises contract
        defects.append(f"message unreadable ({type(exc).__name__}); only the raw mail is kept")
        return empty_mail(digest, defects)


def _header_block(raw: bytes) -> bytes:
    """The header block, at most `HEADER_BLOCK_BYTES` of it and only whole lines."""
    head = raw[:HEADER_BLOCK_BYTES]
    blank = _BLANK_LINE.search(head)
    if blank is not None:
        return head[: blank.start()]
    if len(raw) <= HEADER_BLOCK_BYTES:
        return head
    return head[: head.rfind(b"\n") + 1]


def _headers_only(raw: bytes, reason: str, digest: str, defects: list[str]) -> ParsedMail:
    block = _header_block(raw)
    message = HeaderParser(BoundedMessage, policy=policy.compat32).parsestr(
        block.decode("ascii", "surrogateescape")
    )
    header = read_header_fields(message, defects)
    root = Part(message=message, content_type=message.get_content_type(), view=message, path="1")
    bounce = attempt(
        defects, "bounce report", lambda: is_bounce(root, header.daemon, header.subject), False
    )
    defects.append(f"only the headers were read: {reason}")
    return _mail(header, _Content(bounce=bounce), digest, defects, reason)


def parse_headers_only(raw: bytes, reason: str, limits: ParseLimits = DEFAULT_LIMITS) -> ParsedMail:
    """The mail as its header block tells it, with `incomplete=reason`. Pure; never raises.

    For a mail too large to parse, or whose full parse ran out of time or
    crashed: only the first `HEADER_BLOCK_BYTES` are read (linear, bounded), so
    From, Subject, Message-ID, To and the rest are known and the ticket can say
    why its body is missing. `limits` is accepted for symmetry with `parse_mail`.
    """
    del limits  # the header block has its own fixed bound
    digest = _digest(raw)
    defects: list[str] = []
    try:
        return _normalised(_headers_only(bytes(raw), reason, digest, defects))
    except Exception as exc:  # the same promise as parse_mail
        defects.append(f"headers unreadable ({type(exc).__name__}); only the raw mail is kept")
        return _normalised(replace(_bare(digest, defects), incomplete=reason))
