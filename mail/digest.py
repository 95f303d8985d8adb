"""A digest of what a mail says, blind to how it travelled.

The poller deduplicates by Message-ID plus this digest, so the same mail
fetched twice - or delivered to two of our addresses by different routes -
must digest the same although every hop adds Received, Delivered-To, DKIM,
ARC and spam headers. Only the headers the author's client wrote and the body
count; the raw bytes are read directly, so even unparseable mail has one.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["DIGEST_HEADERS", "content_digest"]

#: Headers written by the sender's client. Anything else may be added in transit.
DIGEST_HEADERS = frozenset(
    {
        b"from",
        b"sender",
        b"reply-to",
        b"to",
        b"cc",
        b"subject",
        b"date",
        b"message-id",
        b"in-reply-to",
        b"references",
        b"mime-version",
        b"content-type",
        b"content-transfer-encoding",
        b"content-disposition",
    }
)
_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]*:(.*)$", re.DOTALL)
_SPACES = re.compile(rb"\s+")


def _split(data: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Header fields (lower-cased name, unfolded value) and the body, leniently.

    The header block ends at the first blank line or the first line that is
    neither a field nor a continuation, so mail without a separator still splits.
    """
    fields: list[tuple[bytes, list[bytes]]] = []
    position = 0
    length = len(data)
    while position < length:
        end = data.find(b"\n", position)
        end = length if end < 0 else end
        line = data[position:end]
        if line.startswith((b" ", b"\t")) and fields:
            fields[-1][1].append(line)
        elif position == 0 and line.startswith(b"From "):
            pass  # mbox envelope line, added by storage
        else:
            match = _FIELD.match(line)
            if match is None:
                break
            fields.append((match.group(1).lower(), [match.group(2)]))
        position = end + 1
    body = data[position:] if position < length else b""
    if body.startswith(b"\n"):
        body = body[1:]
    return [(name, b" ".join(lines)) for name, lines in fields], body


def content_digest(raw: bytes) -> str:
    """Hex SHA-256 of the author-written headers and the body of a raw mail.

    Insensitive to trace headers (Received, Return-Path, Delivered-To,
    DKIM-Signature, ARC-*, X-Spam-*, ...), to CRLF versus LF and to refolding;
    sensitive to the body and to From/To/Cc/Subject/Date/Message-ID.
    """
    data = bytes(raw).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    fields, body = _split(data)
    digest = hashlib.sha256()
    for name, value in fields:
        if name in DIGEST_HEADERS:
            digest.update(name + b":" + _SPACES.sub(b" ", value).strip() + b"\n")
    digest.update(b"\n")
    digest.update(body.rstrip())
    return digest.hexdigest()
