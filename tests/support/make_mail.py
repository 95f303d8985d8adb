"""The one factory for ad-hoc test mails: `make_mail(**overrides) -> bytes`.

Defaults describe an ordinary customer mail to the helpdesk; a test overrides
only what it is about, so the reader sees the point of the test. Pass None to
leave a header out. Malformed mail belongs in tests/fixtures/mail/*.eml: this
factory builds with the stdlib, which refuses to write broken headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime

__all__ = ["DEFAULT_DATE", "make_mail"]

DEFAULT_DATE = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)

AddressValue = str | Sequence[str] | None
HeaderValue = str | Sequence[str] | None


def _set(message: EmailMessage, name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, str):
        message[name] = value
    elif isinstance(value, datetime):
        message[name] = format_datetime(value)
    elif isinstance(value, Sequence):
        if name.lower() in ("to", "cc", "bcc", "reply-to", "references", "in-reply-to"):
            separator = " " if name.lower() in ("references", "in-reply-to") else ", "
            message[name] = separator.join(str(item) for item in value)
        else:
            for item in value:  # repeated header, e.g. two Received lines
                message[name] = str(item)
    else:
        raise TypeError(f"make_mail: unsupported value for {name}: {value!r}")


def make_mail(
    *,
    from_: AddressValue = "Alice Customer <alice@example.com>",
    to: AddressValue = "Helpdesk <support@ticketbot.example>",
    cc: AddressValue = None,
    subject: str | None = "Printer on floor 3 is broken",
    body: str | None = "Hello,\n\nthe printer on floor 3 prints blank pages.\n\nAlice\n",
    html: str | None = None,
    message_id: str | None = "<20260115093000.1234@example.com>",
    in_reply_to: HeaderValue = None,
    references: HeaderValue = None,
    date: datetime | str | None = DEFAULT_DATE,
    headers: Mapping[str, HeaderValue] | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    verbatim: Mapping[str, str] | None = None,
    **aliases: AddressValue,
) -> bytes:
    """Build a mail as bytes (CRLF line ends, like IMAP delivers them).

    `from` can be given as `from_=` or `**{"from": ...}`. `headers` adds
    extra headers (a list value repeats the header; None omits it).
    `attachments` are (filename, "type/subtype", content) triples; a
    message/rfc822 content is attached as a message. `verbatim` headers are
    written exactly as given (no encoding, no folding), replacing any header of
    the same name: for what the stdlib refuses to write, such as a 2000-character
    Reply-To or an `=?utf-7?...?=` subject.
    """
    unknown = set(aliases) - {"from"}
    if unknown:
        raise TypeError(f"make_mail: unknown overrides {sorted(unknown)}")
    sender = aliases.get("from", from_)

    message = EmailMessage(policy=policy.default)
    _set(message, "From", sender)
    _set(message, "To", to)
    _set(message, "Cc", cc)
    _set(message, "Subject", subject)
    _set(message, "Date", date)
    _set(message, "Message-ID", message_id)
    _set(message, "In-Reply-To", in_reply_to)
    _set(message, "References", references)
    for name, value in (headers or {}).items():
        _set(message, name, value)

    if body is not None:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, _, subtype = content_type.partition("/")
        if content_type == "message/rfc822":
            attached = BytesParser(policy=policy.default).parsebytes(content)
            message.add_attachment(attached, filename=filename)
        else:
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    # Like real clients: long Message-IDs stay on one line, never RFC 2047 encoded.
    raw = message.as_bytes(policy=policy.default.clone(linesep="\r\n", max_line_length=998))
    return _with_verbatim(raw, verbatim or {})


def _with_verbatim(raw: bytes, headers: Mapping[str, str]) -> bytes:
    """`raw` with `headers` replacing same-named ones, appended as-is to the header block."""
    if not headers:
        return raw
    head, _, body = raw.partition(b"\r\n\r\n")
    replaced = {name.lower().encode() for name in headers}
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.partition(b":")[0].strip().lower() in replaced
        if not skipping:
            kept.append(line)
    for name, value in headers.items():
        kept.append(f"{name}: {value}".encode("utf-8", "surrogateescape"))
    return b"\r\n".join(kept) + b"\r\n\r\n" + body
