"""Outlook's winmail.dat (TNEF): the files packed inside it.

Outlook sends attachments inside winmail.dat when it decides the recipient
speaks "rich text"; no agent can open that file in Slack. So the files inside
become the mail's attachments (the raw mail keeps the original). Decoding uses
tnefparse (pure Python, no dependencies); anything it cannot read leaves
winmail.dat as it came, with a defect noted, and never fails the parse.
"""

from __future__ import annotations

import logging
import mimetypes
from typing import Any

from tnefparse import TNEF  # type: ignore[import-untyped]

from mail.parsed import ParsedAttachment

TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
# tnefparse logs every unknown attribute; real files are full of them.
logging.getLogger("tnefparse").setLevel(logging.ERROR)


def is_tnef(content_type: str, filename: str) -> bool:
    return content_type in TNEF_TYPES or filename.lower() == "winmail.dat"


def _filename(attachment: Any, codepage: str | None) -> str:
    try:
        name: str | bytes = attachment.long_filename()
    except UnicodeDecodeError:  # an 8-bit title in the sender's code page, not UTF-8
        name = getattr(attachment, "_name", b"")
    if isinstance(name, bytes):
        name = name.decode(codepage or "cp1252", "replace")
    return name.strip("\x00").strip()


def unpack_tnef(content: bytes) -> tuple[tuple[ParsedAttachment, ...], str | None]:
    """The files inside `content`, or () and a defect when there are none to be had."""
    try:
        tnef = TNEF(content, do_checksum=False)
        files = tuple(
            ParsedAttachment(
                filename=(name := _filename(item, tnef.codepage)),
                content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                content=bytes(item.data),
            )
            for item in tnef.attachments
            if item.data
        )
    except Exception as exc:  # untrusted bytes: any failure just keeps winmail.dat
        return (), f"winmail.dat could not be unpacked ({type(exc).__name__})"
    return files, None
