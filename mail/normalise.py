"""The last step of every parse: no field of a `ParsedMail` can hurt a later layer.

SPEC "Hostile mail": inputs are normalised at the parse boundary. Whatever a
stranger's mail holds, the result is UTF-8 encodable (lone surrogates become
U+FFFD, NULs go), header text is one line without control or bidi/format
characters, every address is one strict addr-spec, and every value fits its
bound in `mail.field_limits.FIELD_LIMITS` (and so the column it is stored in).

This module imports nothing of ours but those two, so the header readers
can apply the same address rule early (a From that is not an address falls
back to Sender) while `normalise_mail` applies all rules once more at the end.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from itertools import islice

from mail.field_limits import (
    MAX_ADDRESS,
    MAX_ADDRESSES,
    MAX_BOUNCE_IDS,
    MAX_CONTENT_ID,
    MAX_DEFECT,
    MAX_DEFECTS,
    MAX_FILENAME_BYTES,
    MAX_IN_REPLY_TO,
    MAX_INCOMPLETE,
    MAX_MESSAGE_ID,
    MAX_NAME,
    MAX_OMITTED,
    MAX_OMITTED_NAME,
    MAX_REASON,
    MAX_REFERENCES,
    MAX_SUBJECT,
)
from mail.parsed import Address, ParsedAttachment, ParsedMail

__all__ = ["clean_line", "normalise_mail", "replace_surrogates", "strict_email"]

MAX_LOCAL_PART = 64  # UTF-8 octets (RFC 5321 4.5.3.1.1)
MAX_DOMAIN = 253
MAX_LABEL = 63  # of the ASCII (xn--) form of an IDN label
DEFAULT_CONTENT_TYPE = "application/octet-stream"

_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
_ATOM_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
# Printable ASCII less space, '"', '\\', and what splits or re-targets an address list.
_QUOTED_LOCAL = re.compile(r'"[!#-+\--:=?A-\[\]-~]+"')
_ASCII_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
# The reply and forward prefixes models.numbers strips, in runs longer than MAX_PREFIX_RUN.
_PREFIX = r"\b(?:re|aw|antw|sv|vs|fwd?|wg|tr|rv)(?:\[\d+\])?[ \t]*:[ \t]*"
_PREFIX_ONE = re.compile(_PREFIX, re.IGNORECASE)
_PREFIX_RUN = re.compile(f"(?:{_PREFIX}){{11,}}", re.IGNORECASE)
MAX_PREFIX_RUN = 10
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")


def replace_surrogates(text: str) -> str:
    """`text` with every lone surrogate (utf-7 output, surrogateescape leftovers) as U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def _scrub(text: str) -> str:
    """Encodable and NUL-free: what PostgreSQL, SQLite and JSON columns all accept."""
    return replace_surrogates(text).replace("\x00", "")


def _without_hidden(text: str, *, as_space: bool) -> str:
    """Controls, line separators (as spaces when `as_space`) and format characters gone.

    Format characters (category Cf) are the bidi controls U+200E/F, U+202A-E,
    U+2066-9 and U+061C, the zero-width U+200B-D and U+2060, U+FEFF and the
    like: invisible, and used to make a name or subject read differently from
    what it is.
    """
    if text.isascii() and text.isprintable():
        return text
    out: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            if as_space:
                out.append(" ")
        elif category not in ("Cf", "Cs"):
            out.append(char)
    return "".join(out)


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters; a cut one ends in "…" so a reader sees it was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def clean_line(text: str, limit: int) -> str:
    """One line of header text for people: no controls or bidi/format characters, cut.

    Only the first `8 * limit` characters are looked at, so a subject of
    megabytes costs what one of kilobytes does.
    """
    window = 8 * limit
    cut = len(text) > window
    text = _without_hidden(replace_surrogates(text[:window]), as_space=True)
    text = _SPACES.sub(" ", text).strip()
    if cut or len(text) > limit:
        return text[: limit - 1].rstrip() + "…"
    return text


def _shorter_prefix_runs(subject: str) -> str:
    """ "Re: Fwd: AW: " ten thousand times keeps its first ten: the question comes after."""

    def first(run: re.Match[str]) -> str:
        prefixes = islice(_PREFIX_ONE.finditer(run.group(0)), MAX_PREFIX_RUN)
        return "".join(prefix.group(0) for prefix in prefixes).rstrip() + " "

    return _PREFIX_RUN.sub(first, subject)


def _optional_line(text: str | None, limit: int, fallback: str) -> str | None:
    return None if text is None else clean_line(text, limit) or fallback


def _is_local_part(local: str) -> bool:
    if len(local.encode()) > MAX_LOCAL_PART or not local.strip("."):
        return False
    if local.startswith('"'):
        return _QUOTED_LOCAL.fullmatch(local) is not None
    if local.isascii():
        return _ATOM_LOCAL.fullmatch(local) is not None
    # RFC 6531 (SMTPUTF8): ASCII atext plus letters, marks and digits of any script.
    return all(
        _ATOM_LOCAL.fullmatch(char) is not None or unicodedata.category(char)[0] in "LMN"
        for char in local
    )


def _is_idn_char(char: str) -> bool:
    if char.isascii():
        return char.isalnum() or char == "-"
    return unicodedata.category(char)[0] in "LMN"


def _is_label(label: str) -> bool:
    if not label or len(label) > MAX_LABEL:
        return False
    if label.isascii():
        return _ASCII_LABEL.fullmatch(label) is not None
    if label.startswith("-") or label.endswith("-"):
        return False
    if not all(_is_idn_char(char) for char in label):
        return False
    try:
        return len(label.encode("punycode")) + 4 <= MAX_LABEL
    except UnicodeError:
        return False


def strict_email(value: str) -> str | None:
    """`value` as one strict addr-spec with its domain lower-cased, or None if it is not one.

    Strict means: at most 254 octets of UTF-8; exactly one "@" outside quotes;
    a local part of at most 64 octets that is either dot-atom text (RFC 5322
    atext and dots; consecutive or edge dots are allowed because Japanese
    carriers issued such addresses), or non-ASCII letters, marks and digits
    mixed with atext (RFC 6531, kept as sent, NFC), or one quoted string of
    printable ASCII without space, '"', '\\', "@", ",", ";", "<" or ">" - a
    quoted "@", "," or ";" is how one header smuggles several recipients past a
    naive re-parse. The domain is dot-separated labels (letters, digits and
    inner hyphens, or IDN letters whose xn-- form fits) of at most 63 octets,
    253 in all; one trailing dot is dropped; address literals ([192.0.2.1]) are
    refused. No whitespace or control character anywhere.
    """
    if not value or len(value) > MAX_ADDRESS:
        return None
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return None
    local = unicodedata.normalize("NFC", local)
    domain = unicodedata.normalize("NFC", domain).lower().removesuffix(".")
    if len(domain) > MAX_DOMAIN or not all(_is_label(label) for label in domain.split(".")):
        return None
    if not _is_local_part(local):
        return None
    email = f"{local}@{domain}"
    return email if len(email.encode()) <= MAX_ADDRESS else None


def _address(address: Address | None, defects: list[str], what: str) -> Address | None:
    if address is None:
        return None
    email = strict_email(replace_surrogates(address.email))
    if email is None:
        defects.append(f"{what} address dropped: not a valid address")
        return None
    return Address(name=clean_line(address.name, MAX_NAME), email=email)


def _address_list(
    addresses: Iterable[Address], defects: list[str], what: str
) -> tuple[Address, ...]:
    kept = [a for a in (_address(a, defects, what) for a in addresses) if a is not None]
    if len(kept) > MAX_ADDRESSES:
        defects.append(f"{what}: {len(kept)} addresses, the first {MAX_ADDRESSES} kept")
    return tuple(kept[:MAX_ADDRESSES])


def _message_ids(ids: Iterable[str], defects: list[str], what: str) -> list[str]:
    kept: list[str] = []
    for value in ids:
        if len(value) > MAX_MESSAGE_ID:
            defects.append(f"{what}: an id of {len(value)} characters dropped (over 998)")
        elif _MESSAGE_ID.fullmatch(value):
            kept.append(value)
    return kept


def _references(ids: Iterable[str], defects: list[str]) -> tuple[str, ...]:
    kept = _message_ids(ids, defects, "References")
    if len(kept) <= MAX_REFERENCES:
        return tuple(kept)
    defects.append(f"References: {len(kept)} ids, the first and the last {MAX_REFERENCES - 1} kept")
    return (kept[0], *kept[-(MAX_REFERENCES - 1) :])


def _fit_bytes(name: str, limit: int) -> str:
    """`name` cut to `limit` octets of UTF-8 on a character boundary, a short extension kept."""
    if len(name.encode()) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension if dot and stem and len(extension) <= 16 else ""
    stem = name[: len(name) - len(suffix)]
    room = limit - len(suffix.encode())
    return stem.encode()[:room].decode("utf-8", "ignore").rstrip() + suffix


def _filename(name: str) -> str:
    name = _without_hidden(replace_surrogates(name), as_space=False)
    return _fit_bytes(name.strip(), MAX_FILENAME_BYTES)


def _content_type(value: str) -> str:
    value = value.strip().lower()
    return value if _CONTENT_TYPE.fullmatch(value) else DEFAULT_CONTENT_TYPE


def _content_id(value: str | None) -> str | None:
    if value is None:
        return None
    value = _without_hidden(replace_surrogates(value), as_space=False).strip()
    return value if 0 < len(value) <= MAX_CONTENT_ID else None


def _attachment(part: ParsedAttachment) -> ParsedAttachment:
    return replace(
        part,
        filename=_filename(part.filename),
        content_type=_content_type(part.content_type),
        content_id=_content_id(part.content_id),
    )


def _defects(defects: Iterable[str]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(clean_line(d, MAX_DEFECT) for d in defects))
    unique = [d for d in unique if d]
    if len(unique) > MAX_DEFECTS:
        more = len(unique) - MAX_DEFECTS + 1
        unique = [*unique[: MAX_DEFECTS - 1], f"and {more} more defects not listed"]
    return tuple(unique)


def normalise_mail(mail: ParsedMail) -> ParsedMail:
    """`mail` with every rule of this module applied; what had to go is added to its defects."""
    defects: list[str] = []
    message_ids = _message_ids([mail.message_id] if mail.message_id else [], defects, "Message-ID")
    in_reply_to = _message_ids(mail.in_reply_to, defects, "In-Reply-To")
    bounce_ids = _message_ids(mail.bounce_message_ids, defects, "bounce report")
    delivered = (strict_email(replace_surrogates(e)) for e in mail.delivered_to)
    delivered_to = tuple(dict.fromkeys(e.lower() for e in delivered if e is not None))
    if len(delivered_to) > MAX_ADDRESSES:
        defects.append(f"delivery headers: {len(delivered_to)} addresses, the first 100 kept")
    omitted = [clean_line(_filename(n), MAX_OMITTED_NAME) for n in mail.omitted_attachments]
    if len(omitted) > MAX_OMITTED:
        more = len(omitted) - MAX_OMITTED + 1
        omitted = [*omitted[: MAX_OMITTED - 1], f"and {more} more"]
    normal = replace(
        mail,
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=tuple(in_reply_to[:MAX_IN_REPLY_TO]),
        references=_references(mail.references, defects),
        sender=_address(mail.sender, defects, "From"),
        reply_to=_address(mail.reply_to, defects, "Reply-To"),
        to=_address_list(mail.to, defects, "To"),
        cc=_address_list(mail.cc, defects, "Cc"),
        delivered_to=delivered_to[:MAX_ADDRESSES],
        subject=clean_line(_shorter_prefix_runs(mail.subject), MAX_SUBJECT),
        text=_scrub(mail.text),
        html=_scrub(mail.html) if mail.html is not None else None,
        attachments=tuple(_attachment(part) for part in mail.attachments),
        automatic_reason=_optional_line(mail.automatic_reason, MAX_REASON, "automatic"),
        bounce_message_ids=tuple(bounce_ids[:MAX_BOUNCE_IDS]),
        incomplete=_optional_line(mail.incomplete, MAX_INCOMPLETE, "it could not be read fully"),
        omitted_attachments=tuple(omitted),
    )
    return replace(normal, defects=_defects([*mail.defects, *defects]))
