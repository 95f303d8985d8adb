"""Build winmail.dat (TNEF) bytes the way Outlook lays them out, for tests: the stream
signature and key, then per file an attachment-rendering object that opens it, its
title (the 8.3-style name) and its data. Each object: level, id, length, data, checksum."""

from __future__ import annotations

import struct

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F


def _object(level: int, attribute: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BII", level, attribute, len(data)) + data + struct.pack("<H", checksum)


def build_tnef(files: list[tuple[str, bytes]]) -> bytes:
    out = struct.pack("<IH", SIGNATURE, 0x1234)
    out += _object(LVL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000))
    out += _object(LVL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", 1252, 0))
    for name, content in files:
        out += _object(LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, b"\x01\x00" + b"\xff" * 12)
        out += _object(LVL_ATTACHMENT, ATT_ATTACH_TITLE, name.encode("cp1252") + b"\x00")
        out += _object(LVL_ATTACHMENT, ATT_ATTACH_DATA, content)
    return out
