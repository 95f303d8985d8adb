"""Build outgoing mail from a stored article (pure: no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")


def header_safe(value: str) -> str:
    """No CR/LF or other control characters may reach a header (injection)."""
    return _UNSAFE.sub(" ", value).strip()


@dataclass(frozen=True, slots=True)
class Outgoing:
    from_name: str
    from_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    body: str
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime
    auto_replied: bool = False
    #: Sent by no person and answering no mail (the rating request after a close).
    auto_generated: bool = False
    ticket_number: str = ""


class _KeptHeaderClasses(HeaderRegistry):
    """The standard registry, but each header's class is made once: the stdlib builds a new
    class with `type()` for every header set, a fifth of an acknowledgement's build time."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# RFC 5322's hard line limit: Python otherwise folds a Message-ID longer than 78
# characters into RFC 2047 encoded words, which no mail client recognises as an id,
# and In-Reply-To/References would no longer thread.
POLICY = SMTP.clone(max_line_length=998, header_factory=_KeptHeaderClasses())


def build_message(out: Outgoing) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    message["From"] = formataddr((header_safe(out.from_name), header_safe(out.from_address)))
    message["To"] = ", ".join(header_safe(a) for a in out.to)
    if out.cc:
        message["Cc"] = ", ".join(header_safe(a) for a in out.cc)
    message["Subject"] = header_safe(out.subject)
    message["Date"] = format_datetime(out.date)
    message["Message-ID"] = header_safe(out.message_id)
    if out.in_reply_to:
        message["In-Reply-To"] = header_safe(out.in_reply_to)
    if out.references:
        message["References"] = " ".join(header_safe(r) for r in out.references)
    if out.auto_replied:
        # RFC 3834; the Microsoft header keeps Exchange out-of-office replies from looping.
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    elif out.auto_generated:  # RFC 3834 too: an out-of-office answer would reopen the ticket
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
    if out.ticket_number:
        message["X-Ticketbot-Ticket"] = header_safe(out.ticket_number)
    message.set_content(out.body, charset="utf-8")
    return message
