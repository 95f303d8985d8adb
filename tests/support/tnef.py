"""Build winmail.dat (TNEF) bytes the way Outlook lays them out, for tests: the stream
signature and key, then per file an attachment-rendering object that opens it, its
title (the 8.3-style name) and its data. Each object: level, id, length, data, checksum.

The lower-level builders (`tnef_stream`, `tnef_object`, `mapi`, `mapi_property`) make
the hostile ones: objects whose length lies, MAPI blocks whose counts claim more values
than there are bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_MAPI_PROPS = 0x00069003
ATT_RECIPIENT_TABLE = 0x00069004
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005
#: MAPI property types (a multi-valued one has MV set) and the ids used here.
PT_SHORT, PT_LONG, PT_STRING8, PT_UNICODE, PT_BINARY = 0x0002, 0x0003, 0x001E, 0x001F, 0x0102
MV = 0x1000
PR_ATTACH_SIZE = 0x0E20
PR_ATTACH_DATA_OBJ = 0x3701
PR_ATTACH_LONG_FILENAME = 0x3707


def tnef_object(level: int, attribute: int, data: bytes, length: int | None = None) -> bytes:
    """One object; `length` overrides the real data length (a lying header)."""
    checksum = sum(data) & 0xFFFF
    header = struct.pack("<BII", level, attribute, len(data) if length is None else length)
    return header + data + struct.pack("<H", checksum)


def tnef_stream(objects: Iterable[bytes]) -> bytes:
    """The signature and key, a version object, then `objects`."""
    version = tnef_object(LVL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000))
    return struct.pack("<IH", SIGNATURE, 0x1234) + version + b"".join(objects)


def mapi_property(prop_type: int, prop_id: int, value: bytes) -> bytes:
    """A property with a numeric id; `value` already encoded (counts, lengths, padding)."""
    return struct.pack("<HH", prop_type, prop_id) + value


def mapi(properties: Sequence[bytes], count: int | None = None) -> bytes:
    """A MAPI property block: its count (`count` overrides, to lie) and the properties."""
    return struct.pack("<I", len(properties) if count is None else count) + b"".join(properties)


def mapi_binary(prop_id: int, content: bytes) -> bytes:
    """A single-valued binary property: one value, its length, the bytes padded to 4."""
    padding = b"\x00" * (-len(content) % 4)
    return mapi_property(
        PT_BINARY, prop_id, struct.pack("<II", 1, len(content)) + content + padding
    )


def build_tnef(files: list[tuple[str, bytes]], *, attachment_mapi: bytes | None = None) -> bytes:
    """winmail.dat holding `files`; `attachment_mapi` is added to each file as its MAPI block."""
    objects = [tnef_object(LVL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", 1252, 0))]
    for name, content in files:
        objects.append(
            tnef_object(LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, b"\x01\x00" + b"\xff" * 12)
        )
        objects.append(
            tnef_object(LVL_ATTACHMENT, ATT_ATTACH_TITLE, name.encode("cp1252") + b"\x00")
        )
        objects.append(tnef_object(LVL_ATTACHMENT, ATT_ATTACH_DATA, content))
        if attachment_mapi is not None:
            objects.append(tnef_object(LVL_ATTACHMENT, ATT_ATTACHMENT, attachment_mapi))
    return tnef_stream(objects)
