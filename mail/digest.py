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
#: Where the header block ends: the first line (after an mbox "From " line) that is
#: neither a field nor, after a first field, a continuation; the blank line, usually.
_HEADER_END = re.compile(rb"^(?![ \t]|[!-9;-~]+[ \t]*:)", re.MULTILINE)
_DIGEST_FIELD = re.compile(
    rb"^(" + b"|".join(re.escape(name) for name in sorted(DIGEST_HEADERS)) + rb")[ \t]*:"
    rb"([^\n]*(?:\n[ \t][^\n]*)*)",
    re.MULTILINE | re.IGNORECASE,
)
_SPACES = re.compile(rb"\s+")
#: Fields digested at most; real mail has a dozen, and a stranger's mail of a million
#: To: lines must not cost a million steps (SPEC "Hostile mail").
MAX_DIGEST_FIELDS = 10_000


def _split(data: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The author-written fields (lower-cased name, unfolded value) and the body, leniently.

    The header block ends at the first blank line or the first line that is
    neither a field nor a continuation, so mail without a separator still
    splits. Regular expressions find the end and the fields, so a header block
    of millions of lines costs C time, not a Python loop per line.
    """
    start = 0
    if data.startswith(b"From "):  # mbox envelope line, added by storage
        newline = data.find(b"\n")
        start = len(data) if newline < 0 else newline + 1
    if data[start : start + 1] in (b" ", b"\t"):
        end = start  # a continuation with nothing to continue: no header block
    else:
        found = _HEADER_END.search(data, start)
        end = len(data) if found is None else found.start()
    fields: list[tuple[bytes, bytes]] = []
    for match in _DIGEST_FIELD.finditer(data, start, end):
        fields.append((match.group(1).lower(), match.group(2)))
        if len(fields) >= MAX_DIGEST_FIELDS:
            break
    body = data[end:]
    return fields, body[1:] if body.startswith(b"\n") else body


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
        digest.update(name + b":" + _SPACES.sub(b" ", value).strip() + b"\n")
    digest.update(b"\n")
    digest.update(body.rstrip())
    return digest.hexdigest()
