"""Outlook's winmail.dat (TNEF): the files packed inside it.

Outlook sends attachments inside winmail.dat when it decides the recipient
speaks "rich text"; no agent can open that file in Slack. So the files inside
become the mail's attachments (the raw mail keeps the original). Anything that
cannot be read leaves winmail.dat as it came, with a defect noted, and never
fails the parse.

The reader is our own, and bounded: one pass over the bytes, every length and
count checked against the bytes that remain before anything is read or
allocated. tnefparse, used before, trusted a MAPI value count (45 bytes claiming
2**32 - 1 values grew until the process was killed) and copied the rest of the
stream for every object (quadratic in the number of attachments).

Layout (MS-OXTNEF): a signature and a key, then objects - level (1 byte),
attribute id (4), length (4), data, checksum (2). An attachment starts with
attAttachRendData; attAttachTitle is its 8.3 name, attAttachData its bytes, and
attAttachment a MAPI property block that may hold the long file name.
"""

from __future__ import annotations

import contextlib
import mimetypes
import struct
from dataclasses import dataclass

from mail.parsed import ParsedAttachment

__all__ = ["TNEF_TYPES", "is_tnef", "unpack_tnef"]

TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
SIGNATURE = 0x223E9F78
LVL_ATTACHMENT = 2
ATT_OEM_CODEPAGE = 0x00069007
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005
_OBJECT_HEADER = struct.Struct("<BII")
_CHECKSUM = 2

# MAPI property types: fixed sizes as stored in TNEF (short values padded to 4 bytes).
MV_FLAG = 0x1000
_FIXED_SIZES = {
    0x0001: 4,  # PT_NULL
    0x0002: 4,  # PT_SHORT
    0x0003: 4,  # PT_LONG
    0x0004: 4,  # PT_FLOAT
    0x0005: 8,  # PT_DOUBLE
    0x0006: 8,  # PT_CURRENCY
    0x0007: 8,  # PT_APPTIME
    0x000A: 4,  # PT_ERROR
    0x000B: 4,  # PT_BOOLEAN
    0x0014: 8,  # PT_I8
    0x0040: 8,  # PT_SYSTIME
    0x0048: 16,  # PT_CLSID
}
PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT = 0x001E, 0x001F, 0x0102, 0x000D
_VARIABLE = frozenset({PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT})
PR_ATTACH_DATA_OBJ = 0x3701
PR_ATTACH_LONG_FILENAME = 0x3707
_NAMED_PROPERTY = 0x8000
_GUID = 16


class _Malformed(Exception):
    """The bytes say something they do not hold."""


def is_tnef(content_type: str, filename: str) -> bool:
    return content_type in TNEF_TYPES or filename.lower() == "winmail.dat"


@dataclass
class _File:
    title: bytes = b""
    long_name: str | bytes | None = None
    data: bytes = b""


def _u32(data: memoryview, offset: int, end: int) -> int:
    if offset + 4 > end:
        raise _Malformed("truncated")
    value: int = struct.unpack_from("<I", data, offset)[0]
    return value


def _padded(length: int) -> int:
    return length + (-length % 4)


def _read_mapi(data: memoryview, into: _File) -> None:
    """Read a MAPI property block; keep the long file name and the data object, if any.

    Every count is checked against the bytes left, so a lying count costs nothing.
    """
    end, offset = len(data), 4
    count = _u32(data, 0, end)
    if count > (end - 4) // 8:  # each property takes at least 8 bytes
        raise _Malformed("property count")
    for _ in range(count):
        if offset + 4 > end:
            raise _Malformed("truncated")
        prop_type, prop_id = struct.unpack_from("<HH", data, offset)
        offset += 4
        if prop_id >= _NAMED_PROPERTY:  # a GUID, a kind, then an id or a name
            kind = _u32(data, offset + _GUID, end)
            offset += _GUID + 4
            if kind == 0:
                offset += 4
            else:
                offset += 4 + _padded(_u32(data, offset, end))
        base = prop_type & ~MV_FLAG
        multi = prop_type & MV_FLAG or base in _VARIABLE
        values = _u32(data, offset, end) if multi else 1
        offset += 4 if multi else 0
        if base in _VARIABLE:
            if values > (end - offset) // 4:
                raise _Malformed("value count")
            for _ in range(values):
                length = _u32(data, offset, end)
                start, offset = offset + 4, offset + 4 + _padded(length)
                if offset > end:
                    raise _Malformed("value length")
                _keep(into, prop_id, base, bytes(data[start : start + length]))
        else:
            size = _FIXED_SIZES.get(base)
            if size is None or values > (end - offset) // size:
                raise _Malformed("property type or value count")
            offset += values * size


def _keep(into: _File, prop_id: int, base: int, value: bytes) -> None:
    if prop_id == PR_ATTACH_LONG_FILENAME and base == PT_UNICODE:
        into.long_name = value.decode("utf-16-le", "replace")
    elif prop_id == PR_ATTACH_LONG_FILENAME and base == PT_STRING8:
        into.long_name = value
    elif prop_id == PR_ATTACH_DATA_OBJ and base == PT_BINARY and not into.data:
        into.data = value


def _read(content: bytes) -> tuple[list[_File], str, str | None]:
    """The attachments of a TNEF stream, its code page, and what stopped the reading early."""
    data = memoryview(content)
    end = len(data)
    files: list[_File] = []
    codepage = "cp1252"
    if end < 6 or struct.unpack_from("<I", data, 0)[0] != SIGNATURE:
        return files, codepage, "no TNEF signature"
    offset = 6  # signature and key
    while offset < end:
        if offset + _OBJECT_HEADER.size > end:
            return files, codepage, "truncated object"
        level, attribute, length = _OBJECT_HEADER.unpack_from(data, offset)
        start = offset + _OBJECT_HEADER.size
        offset = start + length + _CHECKSUM
        if offset > end:
            return files, codepage, "object longer than the stream"
        body = data[start : start + length]
        if attribute == ATT_OEM_CODEPAGE and length >= 4:
            codepage = f"cp{struct.unpack_from('<I', body, 0)[0]}"
        elif level == LVL_ATTACHMENT and attribute == ATT_ATTACH_REND_DATA:
            files.append(_File())
        elif level == LVL_ATTACHMENT and files:
            if attribute == ATT_ATTACH_TITLE:
                files[-1].title = bytes(body).split(b"\x00", 1)[0]
            elif attribute == ATT_ATTACH_DATA:
                files[-1].data = bytes(body)
            elif attribute == ATT_ATTACHMENT:
                with contextlib.suppress(_Malformed):  # the 8.3 title and the data remain
                    _read_mapi(body, files[-1])
    return files, codepage, None


def _decode(name: str | bytes, codepage: str) -> str:
    if isinstance(name, str):
        return name
    try:
        return name.decode(codepage, "replace")
    except LookupError:  # a code page Python does not know
        return name.decode("cp1252", "replace")


def unpack_tnef(content: bytes) -> tuple[tuple[ParsedAttachment, ...], str | None]:
    """The files inside `content`, or () and a defect when there are none to be had.

    A stream damaged after some complete files still gives those files.
    """
    files, codepage, problem = _read(content)
    found = []
    for item in files:
        if not item.data:
            continue
        name = _decode(item.long_name or item.title, codepage).strip("\x00").strip()
        found.append(
            ParsedAttachment(
                filename=name,
                content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                content=item.data,
            )
        )
    if found:
        return tuple(found), None
    return (), f"winmail.dat could not be unpacked ({problem or 'no files inside'})"
