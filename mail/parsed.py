"""The parsed form of one inbound mail: what the rest of ticketbot may rely on.

`mail.parse.parse_mail` builds it and never raises; what it could not read is
listed in `defects` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox. `email` has its domain lower-cased; `name` may be empty."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    """One attachment or inline part, as sent.

    `filename` is the decoded name the sender gave (RFC 2047/2231), untrusted and
    possibly empty; storage must make it safe. `content_id` has no angle brackets.
    """

    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None
    is_inline: bool = False


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """Everything ticketbot reads from one message.

    Message ids (`message_id`, `in_reply_to`, `references`, `bounce_message_ids`)
    are normalised to the `<local@domain>` form. Header text is decoded and has
    no CR/LF. `text` is the readable body: text/plain when present, else the
    HTML part converted to text. Every field is within its bound in
    `mail.normalise.FIELD_LIMITS` and UTF-8 encodable.

    `incomplete` says in a few words why the mail could not be read fully (too
    large, out of time, a crashed parser), None when it was. `omitted_attachments`
    names the attachments past `mail.limits.max_attachments`, which were not kept.
    `marked_important`: the sender flagged it (`Importance: high`, `X-Priority: 1` or 2).
    """

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
    text: str
    html: str | None
    attachments: tuple[ParsedAttachment, ...]
    is_automatic: bool
    automatic_reason: str | None
    is_bounce: bool
    bounce_message_ids: tuple[str, ...]
    digest: str
    defects: tuple[str, ...]
    incomplete: str | None = None
    omitted_attachments: tuple[str, ...] = ()
    marked_important: bool = False
