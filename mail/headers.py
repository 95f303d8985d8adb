"""Decode header fields: encoded words, addresses, message ids and dates.

These work on the raw header text as the stdlib parser stores it (ASCII with
surrogate escapes for 8-bit bytes), not on `policy.default` header objects,
because those raise or give up on exactly the malformed headers a helpdesk
receives. Every result is single-line and free of control characters, so no
decoded value can inject a header or break a Slack message.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from mail.charsets import decode_bytes
from mail.normalise import replace_surrogates, strict_email
from mail.parsed import Address

__all__ = [
    "clean_text",
    "decode_header",
    "decode_raw",
    "normalize_message_id",
    "parse_address_list",
    "parse_date",
    "parse_message_ids",
    "parse_single_address",
]

# Encoded text may not contain "?"; some mailers put spaces in it, which we tolerate.
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?]*?)\?=")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"\s+")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
_ID_ATOM = re.compile(r"[!-~]+")  # printable ASCII without space
# Placeholders keep encoded words whole while getaddresses splits on commas.
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")


def clean_text(text: str) -> str:
    """Make decoded header text single-line: controls become spaces, runs collapse."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def decode_raw(value: str | bytes) -> tuple[str, list[str]]:
    """Recover unencoded 8-bit header bytes as text (UTF-8, else a guess).

    The stdlib parser keeps such bytes as surrogate escapes in a str.
    """
    if isinstance(value, str):
        if value.isascii():
            return value, []
        try:
            data = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a surrogate no byte escapes to (utf-7 in RFC 2231)
            data = replace_surrogates(value).encode("utf-8", "surrogateescape")
    else:
        data = value
        if data.isascii():
            return data.decode("ascii"), []
    result = decode_bytes(data)
    defects = (
        [f"raw 8-bit header text decoded as {result.charset}"] if result.charset != "utf-8" else []
    )
    return result.text, defects


def _b_decode(text: str) -> bytes:
    """Base64 that tolerates missing padding, stray characters and truncation."""
    data = _B64_JUNK.sub(b"", text.encode("ascii", "ignore"))
    if len(data) % 4 == 1:
        data = data[:-1]
    data += b"=" * (-len(data) % 4)
    try:
        return base64.b64decode(data)
    except (binascii.Error, ValueError):
        return b""


def _q_decode(text: str) -> bytes:
    data = text.replace("_", " ").encode("utf-8", "surrogateescape")
    return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def decode_header(value: str | bytes | None, collapse: bool = True) -> tuple[str, list[str]]:
    """Decode an unstructured header (Subject, a display name) to clean text.

    Handles RFC 2047 B and Q words in any charset, adjacent words split in the
    middle of a character, unknown or wrong charsets, and raw 8-bit bytes.
    With collapse=False (filenames) control characters are deleted and inner
    spaces kept, instead of runs of whitespace becoming one space.
    Returns the text and human-readable defects.
    """
    if value is None:
        return "", []
    text, defects = decode_raw(value)
    text = re.sub(r"\r?\n(?=[ \t])", "", text)
    # (plain text, charset, decoded bytes of adjacent same-charset encoded words)
    chunks: list[tuple[str, str | None, list[bytes]]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        previous_is_word = bool(chunks) and chunks[-1][1] is not None
        if between and not (previous_is_word and between.isspace()):
            chunks.append((between, None, []))
        charset = match.group(1)
        encoded = match.group(3)
        data = _b_decode(encoded) if match.group(2) in "bB" else _q_decode(encoded)
        previous_charset = chunks[-1][1] if chunks else None
        if previous_charset is not None and previous_charset.lower() == charset.lower():
            chunks[-1][2].append(data)  # a character may be split across the two words
        else:
            chunks.append(("", charset, [data]))
        position = match.end()
    if position < len(text):
        chunks.append((text[position:], None, []))
    parts: list[str] = []
    for plain, charset, pieces in chunks:
        if charset is None:
            parts.append(plain)
            continue
        decoded = decode_bytes(b"".join(pieces), charset)
        if decoded.defect:
            defects.append(decoded.defect)
        parts.append(decoded.text)
    joined = "".join(parts)
    if not collapse:
        return _CONTROL.sub("", joined).strip(), defects
    return clean_text(joined), defects


def _clean_email(raw: str) -> str | None:
    """The addr-spec in `raw` if it is a strict one (`mail.normalise.strict_email`), else None.

    Tolerated on the way: controls, stray angle brackets, quotes around the whole
    address and - outside quoted local parts - whitespace a folded header left.
    """
    email = _CONTROL.sub("", raw).strip()
    if '"' not in email:
        email = re.sub(r"\s+", "", email)
    email = email.strip("<>")
    if len(email) > 2 and email[0] == email[-1] and email[0] in "\"'":
        email = email[1:-1]
    return strict_email(email)


def _address_candidates(
    values: Iterable[str | bytes], defects: list[str]
) -> Iterator[tuple[str, str | None]]:
    """(decoded name, strict address or None) for each address the headers hold."""
    for value in values:
        text, raw_defects = decode_raw(value)
        defects.extend(raw_defects)
        text = re.sub(r"[\r\n]+", " ", text)
        words: list[str] = []

        def hide(match: re.Match[str], words: list[str] = words) -> str:
            words.append(match.group(0))
            return f"\ue000{len(words) - 1}\ue001"

        hidden = _ENCODED_WORD.sub(hide, text)

        def unhide(match: re.Match[str], words: list[str] = words) -> str:
            return words[int(match.group(1))]

        for hidden_name, email in getaddresses([hidden]):
            if not email.strip(" <>\"'"):
                continue  # a group's name ("undisclosed-recipients:;"), not an address
            clean = _clean_email(email)
            if clean is None:
                yield "", None
                continue
            decoded, name_defects = decode_header(_PLACEHOLDER.sub(unhide, hidden_name))
            defects.extend(name_defects)
            yield decoded.strip("\"' "), clean


def parse_address_list(
    values: Iterable[str | bytes], header: str = "address"
) -> tuple[list[Address], list[str]]:
    """Parse address headers (From, To, Cc...) into Addresses with decoded names.

    Encoded words are swapped for placeholders before splitting, so a comma
    inside an encoded display name does not split the address. What is not a
    strict address is left out, with a defect naming `header`.
    """
    defects: list[str] = []
    addresses: list[Address] = []
    for name, email in _address_candidates(values, defects):
        if email is None:
            defects.append(f"header {header}: an invalid address was ignored")
        else:
            addresses.append(Address(name=name, email=email))
    return addresses, defects


def parse_single_address(
    values: Iterable[str | bytes], header: str
) -> tuple[Address | None, list[str]]:
    """The one address of a header such as Reply-To, or None unless it holds exactly one.

    A Reply-To naming several addresses (or one that is not an address) must not
    decide where an answer goes: SPEC "Acknowledgements are no reflector".
    """
    defects: list[str] = []
    candidates = list(_address_candidates(values, defects))
    if len(candidates) > 1:
        defects.append(f"header {header} holds {len(candidates)} addresses, none used")
        return None, defects
    if not candidates:
        return None, defects
    name, email = candidates[0]
    if email is None:
        defects.append(f"header {header}: an invalid address was ignored")
        return None, defects
    return Address(name=name, email=email), defects


def normalize_message_id(value: str) -> str | None:
    """Return one id as "<local@domain>" (domain lower-cased), or None if it is not one."""
    inner = re.sub(r"\s+", "", value).strip().strip("<>")
    if not _ID_ATOM.fullmatch(inner) or "<" in inner or ">" in inner:
        return None
    local, at, domain = inner.rpartition("@")
    if not at or not local or not domain:
        return None
    return f"<{local}@{domain.lower()}>"


def _strip_comments(text: str) -> str:
    """Remove (comments), possibly nested, outside angle brackets and quotes."""
    out: list[str] = []
    depth = 0
    in_angle = False
    in_quote = False
    for char in text:
        if depth:
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            continue
        if char == '"' and not in_angle:
            in_quote = not in_quote
        elif char == "<" and not in_quote:
            in_angle = True
        elif char == ">":
            in_angle = False
        elif char == "(" and not in_angle and not in_quote:
            depth = 1
            continue
        out.append(char)
    return "".join(out)


def parse_message_ids(values: Iterable[str | bytes]) -> tuple[str, ...]:
    """Extract normalised message ids from Message-ID, In-Reply-To or References.

    Bracketed ids win; without brackets, whitespace- or comma-separated tokens
    containing "@" are taken. Duplicates are dropped, order kept.
    """
    found: dict[str, None] = {}  # an ordered set: References can hold thousands of ids
    for value in values:
        text = _strip_comments(decode_raw(value)[0])
        candidates = re.findall(r"<([^<>]*)>", text)
        if not candidates:
            candidates = [token for token in re.split(r"[\s,;]+", text) if "@" in token]
        for candidate in candidates:
            normal = normalize_message_id(candidate)
            if normal is not None:
                found.setdefault(normal)
    return tuple(found)


def parse_date(value: str | bytes | None) -> tuple[datetime | None, list[str]]:
    """Parse a Date header to an aware UTC datetime; None and a defect if unreadable."""
    if value is None:
        return None, ["header Date missing"]
    text = clean_text(decode_raw(value)[0])
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, ["header Date unparseable"]
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC), []
    except (OverflowError, ValueError):
        return None, ["header Date out of range"]
