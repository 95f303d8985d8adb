"""The sandbox's mail: what customers write, and the inbox of what the helpdesk sent them.

Customers' mails are built here as RFC 822 bytes and handed to the bot's own intake (the
path `ticketbot ingest` takes); the bot's outgoing mail goes over real SMTP to an aiosmtpd
server on loopback, whose handler keeps each message for the customer pane.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

#: The customer pane shows at most this many mails (the newest).
INBOX_LIMIT = 200
#: Attachments a customer may add in the pane, in all.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class CustomerMail:
    """What a customer writes in the pane (or a sample): enough for a real mail."""

    sender: str  # "Name <address>" or an address
    subject: str
    text: str
    attachments: Sequence[Attachment] = ()
    in_reply_to: str = ""
    references: str = ""
    headers: Sequence[tuple[str, str]] = ()


def build_mail(mail: CustomerMail, to: str, *, now: datetime | None = None) -> bytes:
    """RFC 822 bytes as a mail client would send them (CRLF, Message-ID, Date)."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = mail.sender
    message["To"] = to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now or datetime.now(UTC))
    domain = parseaddr(mail.sender)[1].rpartition("@")[2] or "example.net"
    message["Message-ID"] = make_msgid(domain=domain)
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
        message["References"] = " ".join(filter(None, [mail.references, mail.in_reply_to]))
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.text or "")
    for item in mail.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        message.add_attachment(
            item.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=item.filename,
        )
    return message.as_bytes()


@dataclass(frozen=True, slots=True)
class SentMail:
    """One mail the helpdesk sent, as the customer's inbox shows it."""

    number: int
    mail_from: str
    rcpt_tos: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    text: str
    received_at: datetime

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return ""


def read_sent(number: int, envelope_from: str, rcpt_tos: Sequence[str], raw: bytes) -> SentMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    body = message.get_body(("plain",)) if isinstance(message, EmailMessage) else None
    text = body.get_content() if body is not None else ""
    return SentMail(
        number=number,
        mail_from=envelope_from,
        rcpt_tos=tuple(rcpt_tos),
        headers=tuple((key, str(value)) for key, value in message.items()),
        text=text,
        received_at=datetime.now(UTC),
    )


@dataclass
class Inbox:
    """What the helpdesk's SMTP server received; read by the page from another task."""

    mails: list[SentMail] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _count: int = 0

    def add(self, envelope_from: str, rcpt_tos: Sequence[str], raw: bytes) -> SentMail:
        with self._lock:
            self._count += 1
            mail = read_sent(self._count, envelope_from, rcpt_tos, raw)
            self.mails.append(mail)
            del self.mails[:-INBOX_LIMIT]
            return mail

    def snapshot(self) -> list[SentMail]:
        with self._lock:
            return list(self.mails)

    @property
    def version(self) -> int:
        return self._count

    def find(self, number: int) -> SentMail | None:
        with self._lock:
            return next((m for m in self.mails if m.number == number), None)


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.inbox.add(str(envelope.mail_from or ""), list(envelope.rcpt_tos), raw)
        return "250 OK"


async def start_smtp(inbox: Inbox, host: str = "127.0.0.1") -> tuple[asyncio.Server, int]:
    """An SMTP server on this loop that files every mail it accepts into `inbox`."""
    loop = asyncio.get_running_loop()
    handler = _Handler(inbox)

    def factory() -> Any:
        return SMTP(handler, hostname="sandbox.example", enable_SMTPUTF8=True)

    server = await loop.create_server(factory, host, 0)
    port = int(server.sockets[0].getsockname()[1])
    return server, port


def recipients(mail: SentMail) -> list[str]:
    """The addresses a sent mail is for, as its To header names them."""
    return [address for _, address in getaddresses([mail.header("To")]) if address]
