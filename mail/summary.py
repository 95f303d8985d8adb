"""The few headers that tell agents what a mail is, read with a fixed, small budget.

Used for mail that could not be processed (the quarantine card): whatever
broke its intake must not break this too, so only the first
`SCAN_BYTES` are looked at, every value is cut before it is decoded, and
nothing here can raise.
"""

from __future__ import annotations

import re

from mail.headers import decode_header

__all__ = ["SUMMARY_HEADERS", "header_summary"]

SCAN_BYTES = 64 * 1024
MAX_VALUE = 500
SUMMARY_HEADERS = ("From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID")
_WANTED = {name.lower(): name for name in SUMMARY_HEADERS}
_FIELD = re.compile(rb"([!-9;-~]{1,76})[ \t]*:(.*)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def _fields(raw: bytes) -> list[tuple[str, bytes]]:
    """Wanted header fields (first occurrence each), unfolded, from the start of `raw`."""
    head = raw[:SCAN_BYTES].replace(b"\r\n", b"\n")
    found: dict[str, list[bytes]] = {}
    current: list[bytes] | None = None
    for line in head.split(b"\n"):
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if current is not None and sum(map(len, current)) < MAX_VALUE * 4:
                current.append(line)
            continue
        match = _FIELD.fullmatch(line[: MAX_VALUE * 4])
        if match is None:
            break
        name = match.group(1).decode("ascii").lower()
        current = None
        if name in _WANTED and name not in found:
            current = found[name] = [match.group(2)]
    return [(_WANTED[name], b" ".join(parts)) for name, parts in found.items()]


def header_summary(raw: bytes) -> list[tuple[str, str]]:
    """(Header, decoded value) pairs in `SUMMARY_HEADERS` order; never raises."""
    try:
        fields = dict(_fields(bytes(raw)))
    except Exception:  # nothing to show is better than a second failure
        return []
    summary: list[tuple[str, str]] = []
    for name in SUMMARY_HEADERS:
        value = fields.get(name)
        if value is None:
            continue
        cut = value[: MAX_VALUE * 2].decode("ascii", "surrogateescape")
        try:
            text, _ = decode_header(cut)
        except Exception:
            text = cut
        text = _CONTROL.sub(" ", text.encode("utf-8", "replace").decode("utf-8"))
        summary.append((name, text.strip()[:MAX_VALUE]))
    return summary
