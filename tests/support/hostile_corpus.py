"""The hostile mail corpus (tests/fixtures/hostile/): its generator and its loader.

    python -m tests.support.hostile_corpus   # rewrite the corpus and its manifest

The support address is open to the whole internet, so these mails are what a
stranger can send to stop, stall or abuse the helpdesk. Each is built here
byte by byte (the stdlib refuses to write most of them), deterministically:
fixed dates and ids, seeded randomness, gzip with mtime 0, so re-running the
generator reproduces the committed files exactly. Files over `GZIP_OVER` bytes
are stored as `.eml.gz`; `load_corpus` hands them out decompressed.

`manifest.json` says per file what the helpdesk must make of it (`expect`) and
gives machine-readable hints (`checks`, vocabulary in `CHECKS`) for the tests
that push the corpus through the running bot. Nothing here parses a mail.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
import struct
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

__all__ = [
    "CASES",
    "CHECKS",
    "CLASSES",
    "HOSTILE_DIR",
    "MANIFEST",
    "Expect",
    "HostileMail",
    "generate",
    "load_corpus",
    "load_mail",
    "read_manifest",
]

HOSTILE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"
MANIFEST = "manifest.json"
GZIP_OVER = 200_000  # bytes
MIB = 1024 * 1024
#: mail.limits.max_message_bytes' default; the size cases sit on either side of it.
MAX_MESSAGE_BYTES = 25 * MIB

CRLF = b"\r\n"
DATE = "Thu, 15 Jan 2026 09:30:00 +0000"
SUPPORT = "Helpdesk <support@ticketbot.example>"


class Expect(StrEnum):
    """What the helpdesk must make of a mail."""

    TICKET = "ticket"
    #: A bounce that names one of our own sent mails: a note on that ticket. The corpus
    #: cannot know our ids, so its bounces are all BOUNCE_UNMATCHED.
    NOTE = "note"
    #: A bounce (or something shaped like one) that refers to nothing we sent.
    BOUNCE_UNMATCHED = "bounce_unmatched"
    #: Over mail.limits.max_message_bytes: stored raw, a stub ticket, nothing parsed.
    STUB = "stub"
    #: A ticket marked "could not be read fully" (ParsedMail.incomplete): a limit cut
    #: something away (max_parts, max_html_bytes, max_attachments), or the parse ran
    #: out of its budget or crashed.
    TICKET_INCOMPLETE = "ticket_incomplete"


#: The attack classes, each with what it is about.
CLASSES: dict[str, str] = {
    "control": "an ordinary mail, for comparison and as the target other mails refer to",
    "html": "pathological HTML-only bodies for the HTML-to-text conversion",
    "quotes": "text that looks almost like quoted history, for quote trimming",
    "body": "plain bodies of awkward shape: one huge line, bare CRs, flowed text",
    "tnef": "winmail.dat built to exhaust the TNEF unpacker",
    "address": "From, Reply-To and Cc built to break address parsing or make us a reflector",
    "charset": "charsets that decode to lone surrogates, absurd or dangerous charset names",
    "bounce": "delivery reports with absurd ids, or forged to hit a customer's ticket",
    "ids": "Message-ID and References beyond any sane size",
    "structure": "MIME trees too deep or too wide",
    "headers": "huge headers, too many headers, absurd Date and Subject",
    "mime_params": "Content-Type/Disposition parameters that make the stdlib quadratic",
    "encoding": "broken or unknown transfer encodings",
    "injection": "CR, LF and NUL smuggled in encoded words to inject headers",
    "display": "bidi overrides, control characters and combining marks meant for a screen",
    "mentions": "Slack markup (mentions, links) meant to ping or phish agents",
    "filenames": "attachment names that escape directories or name Windows devices",
    "bytes": "8-bit garbage and undeclared charsets that send the detector to work",
    "size": "mails at, over and far over mail.limits.max_message_bytes",
    "attachments": "more attachments than mail.limits.max_attachments",
    "dedupe": "one Message-ID for two different mails",
}

#: The keys a manifest entry's `checks` may hold, with what each asks of the helpdesk.
CHECKS: dict[str, str] = {
    "subject_contains": "the ticket's subject (card, thread, ack) shows this text",
    "text_contains": "the text shown for the mail contains this",
    "ack_to": '"from": one acknowledgement, to the From address only; "none": no ack at all',
    "ack_recipients": "the acknowledgement has exactly this many SMTP recipients",
    "never_mail": "addresses no mail we send may ever go to",
    "no_mentions": "no Slack text we post carries <!…>, <@…>, <#…> or <url|label> from the mail",
    "no_control_chars": "subject, names and filenames we show have no control or bidi characters",
    "no_surrogates": "no lone surrogate reaches the database, Slack or an outgoing mail",
    "no_injected_header": "header names the acknowledgement must not carry",
    "max_references": "at most this many References are kept",
    "max_id_length": "no id we keep is longer than this",
    "attachments_in_mail": "how many attachments the mail carries (for the count listed)",
    "max_attachments": "at most this many attachments are stored; the rest are listed by name",
    "safe_filenames": "stored and uploaded names have no path parts, device names or controls",
    "text_cut": "the text was cut at mail.limits.max_html_bytes, with a marker",
    "new_ticket": "becomes a new ticket even though its subject carries ticket numbers",
    "not_note_on": "must not become a note on the ticket made from this corpus file",
    "same_message_id_as": "shares its Message-ID with this corpus file; both are kept",
}


@dataclass(frozen=True, slots=True)
class HostileMail:
    """One corpus file as the manifest describes it, with its raw bytes (decompressed)."""

    file: str
    attack_class: str
    description: str
    expect: Expect
    checks: dict[str, Any]
    raw: bytes

    @property
    def stem(self) -> str:
        return self.file.removesuffix(".gz").removesuffix(".eml")


@dataclass(frozen=True, slots=True)
class Case:
    """How to build one corpus file, and what it is for."""

    stem: str
    attack_class: str
    expect: Expect
    description: str
    build: Callable[[], bytes]
    checks: dict[str, Any] = field(default_factory=dict)


CASES: list[Case] = []


def add_case(
    stem: str,
    attack_class: str,
    expect: Expect,
    description: str,
    build: Callable[[], bytes],
    **checks: Any,
) -> None:
    """Register one corpus file; its mail's subject carries `tag(stem)`."""
    if attack_class not in CLASSES or not set(checks) <= set(CHECKS):
        raise ValueError(f"{stem}: unknown class {attack_class!r} or checks {sorted(checks)}")
    checks = {"subject_contains": tag(stem), **checks}
    CASES.append(Case(stem, attack_class, expect, description, build, checks))


def case(
    attack_class: str, expect: Expect, **checks: Any
) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    """Register the decorated builder: named after its file, described by its docstring."""

    def register(build: Callable[[], bytes]) -> Callable[[], bytes]:
        description = " ".join((build.__doc__ or "").split())
        add_case(build.__name__, attack_class, expect, description, build, **checks)
        return build

    return register


# --- building blocks --------------------------------------------------------------------

Header = tuple[str, str | bytes]


def tag(stem: str) -> str:
    """The text that names a corpus file in the mail's subject."""
    return f"hostile/{stem}"


def address(stem: str) -> str:
    """A sender of its own per file, so per-sender and per-domain ack caps never interfere."""
    return f"customer@{stem.replace('_', '-')}.example"


def message_id(stem: str) -> str:
    return f"<{stem}@hostile.corpus.example>"


def standard(
    stem: str,
    content_type: str | None = "text/plain; charset=utf-8",
    *,
    subject: str | bytes | None = None,
    sender: str | bytes | None = None,
    cte: str | None = None,
    extra: Iterable[Header] = (),
) -> list[Header]:
    """The headers of an ordinary mail from the file's own customer."""
    headers: list[Header] = [
        ("From", sender if sender is not None else f"Customer <{address(stem)}>"),
        ("To", SUPPORT),
        ("Subject", subject if subject is not None else tag(stem)),
        ("Date", DATE),
        ("Message-ID", message_id(stem)),
        ("MIME-Version", "1.0"),
    ]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    if cte is not None:
        headers.append(("Content-Transfer-Encoding", cte))
    headers.extend(extra)
    return headers


def entity(headers: Iterable[Header], body: bytes) -> bytes:
    """Headers, a blank line, the body: a whole mail or one MIME part.

    Text values go out as UTF-8: non-ASCII in a header is raw 8-bit, as careless clients send.
    """
    out = bytearray()
    for name, value in headers:
        out += name.encode("ascii") + b": "
        out += value if isinstance(value, bytes) else value.encode("utf-8")
        out += CRLF
    return bytes(out + CRLF + body)


def text(value: str, encoding: str = "utf-8") -> bytes:
    """Body text with CRLF line ends."""
    return value.replace("\n", "\r\n").encode(encoding)


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", CRLF)


def multipart(parts: Sequence[bytes], boundary: str) -> bytes:
    marker = b"--" + boundary.encode("ascii")
    body = b"".join(marker + CRLF + part + CRLF for part in parts)
    return body + marker + b"--" + CRLF


def text_part(value: str, content_type: str = "text/plain; charset=utf-8") -> bytes:
    return entity([("Content-Type", content_type)], text(value))


def attachment(
    filename: str, content: bytes, content_type: str = "application/octet-stream"
) -> bytes:
    return entity(
        [
            ("Content-Type", f'{content_type}; name="{filename}"'),
            ("Content-Disposition", f'attachment; filename="{filename}"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64(content),
    )


def mixed(stem: str, parts: Sequence[bytes], **headers: Any) -> bytes:
    """A multipart/mixed mail of `parts`, the first one usually naming the file."""
    boundary = f"=_{stem}"
    return entity(
        standard(stem, f'multipart/mixed; boundary="{boundary}"', **headers),
        multipart(parts, boundary),
    )


def html_mail(stem: str, markup: str) -> bytes:
    return entity(standard(stem, "text/html; charset=utf-8"), markup.encode("utf-8"))


def plain_mail(stem: str, body: str, **headers: Any) -> bytes:
    return entity(standard(stem, **headers), text(body))


def fill(unit: str, size: int) -> str:
    """`unit` repeated to at least `size` characters."""
    return unit * -(-size // len(unit))


def encoded_word(value: str, charset: str = "utf-8", label: str | None = None) -> str:
    """An RFC 2047 B word of `value` encoded in `charset` (and labelled `label`, if given)."""
    data = base64.b64encode(value.encode(charset)).decode("ascii")
    return f"=?{label or charset}?B?{data}?="


def fold(words: Iterable[str], width: int = 76) -> str:
    """Join words into a folded header value (CRLF + space between lines)."""
    lines: list[str] = []
    current = ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return "\r\n ".join(lines)


def ticket_number(counter: int, day: str = "20260115", system_id: str = "10") -> str:
    """A ticket number with a valid OTRS DateChecksum check digit (SPEC "Tickets")."""
    digits = f"{day}{system_id}{counter:05d}"
    total = sum(int(digit) * (1 + index % 2) for index, digit in enumerate(digits))
    check = 10 - total % 10
    return f"{digits}{1 if check == 10 else check}"


def replace_header(headers: list[Header], name: str, value: str | bytes) -> list[Header]:
    return [(key, value if key == name else old) for key, old in headers]


def winmail_mail(stem: str, winmail: bytes) -> bytes:
    parts = [text_part("See the attached file.\n"), attachment("winmail.dat", winmail, TNEF_TYPE)]
    return mixed(stem, parts)


def dsn(stem: str, original: Sequence[Header]) -> bytes:
    """A delivery status notification returning the headers `original` of a lost mail."""
    boundary = f"=_{stem}"
    status = (
        "Reporting-MTA: dns; mx.bounce.example\n\n"
        "Final-Recipient: rfc822; nobody@elsewhere.example\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
    )
    returned = [
        ("From", SUPPORT),
        ("To", "nobody@elsewhere.example"),
        ("Subject", "Re: [Ticket#2026011510000017] anything"),
        ("Date", DATE),
        *original,
    ]
    parts = [
        text_part("Your message could not be delivered.\n"),
        entity([("Content-Type", "message/delivery-status")], text(status)),
        entity([("Content-Type", "text/rfc822-headers")], entity(returned, b"")),
    ]
    headers = standard(
        stem,
        f'multipart/report; report-type=delivery-status; boundary="{boundary}"',
        sender="Mail Delivery System <MAILER-DAEMON@mx.bounce.example>",
        subject=f"Undelivered Mail Returned to Sender {tag(stem)}",
        extra=[("Auto-Submitted", "auto-replied"), ("Return-Path", "<>")],
    )
    return entity(headers, multipart(parts, boundary))


def sized_mail(stem: str, size: int) -> bytes:
    """A mail of exactly `size` bytes: a text and one big base64 attachment, padded.

    Every base64 line is the same, so gzip keeps even 50 MiB to kilobytes.
    """
    line = base64.b64encode(bytes(range(57))) + CRLF
    boundary = f"=_{stem}"
    headers = standard(stem, f'multipart/mixed; boundary="{boundary}"')
    file_headers = [
        ("Content-Type", 'application/octet-stream; name="big.bin"'),
        ("Content-Disposition", 'attachment; filename="big.bin"'),
        ("Content-Transfer-Encoding", "base64"),
    ]

    def build(lines: int, pad: int) -> bytes:
        parts = [text_part("A big file attached.\n"), entity(file_headers, line * lines)]
        return entity([*headers, ("X-Pad", "x" * pad)], multipart(parts, boundary))

    lines, pad = divmod(size - len(build(0, 0)), len(line))
    return build(lines, pad)


# --- TNEF, laid out as tnefparse 1.4 reads it (tnefparse/tnef.py, mapi.py) ----------------
# A signature and key, then objects: level (1 byte), attribute (type << 16 | name),
# length, data, checksum. MAPI property blocks: a count, then type, name, value(s).

TNEF_TYPE = "application/ms-tnef"
TNEF_SIGNATURE = 0x223E9F78
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_MAPI_PROPS = 0x00069003
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACHMENT = 0x00069005
ATT_ATTACH_DATA = 0x0006800F
MV_LONG = 0x1003  # multi-valued PT_LONG
PT_LONG, PT_STRING8 = 0x0003, 0x001E
PR_ATTACH_SIZE, PR_ATTACH_LONG_FILENAME = 0x0E20, 0x3707


def _tnef_object(level: int, attribute: int, data: bytes) -> bytes:
    checksum = struct.pack("<H", sum(data) & 0xFFFF)
    return struct.pack("<BII", level, attribute, len(data)) + data + checksum


def _tnef(objects: Iterable[bytes], codepage: int | None = None) -> bytes:
    """A TNEF stream; without a code page tnefparse cannot decode 8-bit strings."""
    head = [_tnef_object(1, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000))]
    if codepage is not None:
        head.append(_tnef_object(1, ATT_OEM_CODEPAGE, struct.pack("<II", codepage, 0)))
    return struct.pack("<IH", TNEF_SIGNATURE, 0x0001) + b"".join([*head, *objects])


def tnef_bomb() -> bytes:
    """44 bytes: one multi-valued MAPI property claiming 2**32 - 1 values.

    tnefparse's decode_mapi loops over `range(count)`, slicing past the end of the
    data without complaint and appending an attribute object per claimed value:
    CPU and memory until something gives.
    """
    props = struct.pack("<IHHI", 1, MV_LONG, PR_ATTACH_SIZE, 0xFFFFFFFF)
    return _tnef([_tnef_object(1, ATT_MAPI_PROPS, props)])


def _zip_claiming(size: int) -> bytes:
    """A zip local file header promising `size` bytes from 16 bytes of deflate data."""
    name = b"payload.bin"
    header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x5C2F, 0, 16, size, len(name), 0)
    return header + name + b"\x03\x00" * 8


def tnef_many_huge() -> bytes:
    """30 000 attachments, each a tiny zip claiming 4 GiB, PR_ATTACH_SIZE claiming 2 GiB.

    Besides the claims there is the count: tnefparse copies the rest of the stream for
    every object it reads (`data[offset:]`), quadratic in the number of objects.
    """
    objects: list[bytes] = []
    for n in range(1, 30_001):
        long_name = f"bomb-{n:05d}.zip".encode() + b"\x00" * 4
        props = struct.pack("<I", 2) + struct.pack("<HHI", PT_LONG, PR_ATTACH_SIZE, 0x7FFFFFFF)
        props += struct.pack("<HHII", PT_STRING8, PR_ATTACH_LONG_FILENAME, 1, len(long_name))
        objects += [
            _tnef_object(2, ATT_ATTACH_REND_DATA, b"\x01\x00" + b"\xff" * 12),
            _tnef_object(2, ATT_ATTACH_TITLE, f"B{n:05d}.ZIP".encode() + b"\x00"),
            _tnef_object(2, ATT_ATTACHMENT, props + long_name),
            _tnef_object(2, ATT_ATTACH_DATA, _zip_claiming(0xFFFFFFFF)),
        ]
    return _tnef(objects, codepage=1252)


# --- the cases: each builder is named after its file; its docstring describes it --------


@case("control", Expect.TICKET, ack_to="from", text_contains="printer on floor 3")
def control_plain() -> bytes:
    """An ordinary customer mail."""
    body = "Hello,\n\nthe printer on floor 3 prints blank pages since Monday.\n\nAlice\n"
    return plain_mail("control_plain", body)


def _unclosed(stem: str, construct: str, count: int) -> bytes:
    return html_mail(stem, construct * count + f"<p>{tag(stem)}: the end</p>")


for _stem, _construct, _count, _what in (
    ("html_unclosed_a_20k", "<a", 10_000, '"<a" x 10 000 (20 kB), no ">" anywhere'),
    ("html_unclosed_a_80k", "<a", 40_000, '"<a" x 40 000 (80 kB), no ">" anywhere'),
    ("html_unclosed_head", "<head", 2_500, '"<head" x 2 500, no ">"'),
    ("html_unclosed_title", "<title>", 2_500, '"<title>" x 2 500, never closed'),
    ("html_unclosed_script", "<script", 2_500, '"<script" x 2 500, no ">"'),
    ("html_unclosed_comment", "<!--", 2_500, '"<!--" x 2 500, never closed'),
    ("html_unclosed_cdata", "<![CDATA[", 2_500, '"<![CDATA[" x 2 500, never closed'),
    ("html_markup_declarations", "<!x</y<?z", 1_000, '"<!x", "</y", "<?z" x 1 000, unclosed'),
):
    add_case(
        _stem,
        "html",
        Expect.TICKET,
        f"HTML-only body: {_what}.",
        partial(_unclosed, _stem, _construct, _count),
    )


@case("html", Expect.TICKET)
def html_unclosed_mix_1mb() -> bytes:
    """1 MB HTML-only body of every unclosed construct, 20 000 of each, comments last."""
    constructs = ("<head>", "<title>", "<head ", "<title ", "<script ", "<style ", "<![CDATA[")
    markup = "".join(construct * 20_000 for construct in constructs)
    markup += '<a href="' * 20_000 + "<div class='" * 20_000 + "<!--" * 20_000
    return html_mail("html_unclosed_mix_1mb", f"<p>{tag('html_unclosed_mix_1mb')}</p>{markup}")


@case("html", Expect.TICKET)
def html_unbalanced_quotes() -> bytes:
    """Links and attributes whose quotes never balance, 5 000 of each."""
    unit = '<a href="https://example.com/x>link</a> <p title=\'t>para</p> <img src="y.png>\n'
    return html_mail("html_unbalanced_quotes", unit * 5_000)


@case("html", Expect.TICKET)
def html_blockquote_nesting() -> bytes:
    """2 500 nested unclosed <blockquote>s with a line each: quadratic "> " prefixes as text."""
    return _unclosed("html_blockquote_nesting", "<blockquote><p>deeper</p>", 2_500)


@case("html", Expect.TICKET)
def html_list_nesting() -> bytes:
    """2 500 nested unclosed lists: quadratic indentation as text."""
    return _unclosed("html_list_nesting", "<ul><li>deeper", 2_500)


@case("html", Expect.TICKET)
def html_giant_attribute() -> bytes:
    """A 1 MB href attribute that never closes."""
    return html_mail("html_giant_attribute", '<p>Hello</p><a href="https://' + "A" * MIB)


@case("html", Expect.TICKET)
def html_numeric_entities() -> bytes:
    """Character references out of range, negative, surrogate, NUL, unterminated; 10 000 each."""
    unit = "&#99999999999999999999; &#x110000; &#xD800; &#0; &#-1; &#; &amp&lt&#x &#1114111;\n"
    return html_mail("html_numeric_entities", unit * 10_000)


@case("html", Expect.TICKET_INCOMPLETE, text_cut=True)
def html_over_max_bytes() -> bytes:
    """3 MiB of ordinary HTML paragraphs: over mail.limits.max_html_bytes (2 MiB)."""
    paragraphs = "".join(f"<p>Paragraph {n} of a newsletter that goes on.</p>\n" for n in range(10))
    return html_mail("html_over_max_bytes", fill(paragraphs, 3 * MIB))


@case("quotes", Expect.TICKET)
def quotes_on_lines_1mb() -> bytes:
    """1 MB of "On <date> 10:00, <name>" attribution lines without "wrote:"."""
    line = "On Mon, 12 Jan 2026 10:00, Alice Example <alice@example.com>\n"
    return plain_mail("quotes_on_lines_1mb", "Please help.\n\n" + fill(line, MIB))


@case("quotes", Expect.TICKET)
def quotes_am_schrieb_1mb() -> bytes:
    """1 MB of 495-character lines repeating "Am <date> schrieb am <date>", never a colon."""
    line = "Am 12.01.2026 um 10:00 schrieb am 12.01.2026 um 10:00 " * 9 + "\n"
    return plain_mail("quotes_am_schrieb_1mb", "Bitte helfen.\n\n" + fill(line, MIB))


@case("quotes", Expect.TICKET)
def quotes_on_single_line_1mb() -> bytes:
    """One 1 MB line of "On 12 Jan 2026 10:00 Am 12.01.2026 schrieb am", never "wrote:"."""
    unit = "On 12 Jan 2026 10:00 Am 12.01.2026 um 10:00 schrieb am "
    return plain_mail("quotes_on_single_line_1mb", "Help.\n\n" + fill(unit, MIB) + "\n")


@case("quotes", Expect.TICKET)
def quotes_deep_markers() -> bytes:
    """200 quoted lines 5 000 ">" deep, then one new line."""
    body = (">" * 5_000 + " old text\n") * 200 + "My new question.\n"
    return plain_mail("quotes_deep_markers", body)


@case("quotes", Expect.TICKET)
def quotes_alternating_100k() -> bytes:
    """100 000 alternations of a quoted line and an answer line (inline-reply judging)."""
    return plain_mail("quotes_alternating_100k", "> question?\nanswer.\n" * 100_000)


@case("quotes", Expect.TICKET)
def quotes_header_blocks_100k() -> bytes:
    """100 000 Outlook-header-like lines (From:, Von:, Sent:), never a whole header block."""
    return plain_mail(
        "quotes_header_blocks_100k", "Hello.\n\n" + "From: a\nVon: b\nSent: c\n\n" * 25_000
    )


@case("body", Expect.TICKET)
def body_single_line_10mb() -> bytes:
    """A text/plain body of one 10 MB line."""
    return plain_mail("body_single_line_10mb", "Hello " + "A" * (10 * MIB) + "\n")


@case("body", Expect.TICKET)
def body_cr_only_1mb() -> bytes:
    """A body of 1 MB of bare CRs: a million empty lines."""
    return entity(standard("body_cr_only_1mb"), b"Hello\r" + b"\r" * MIB + b"end\r\n")


@case("body", Expect.TICKET)
def flowed_delsp_one_paragraph() -> bytes:
    """format=flowed; delsp=yes: one 4 MB paragraph of 1 000 000 soft-broken lines."""
    ctype = "text/plain; charset=utf-8; format=flowed; delsp=yes"
    return plain_mail(
        "flowed_delsp_one_paragraph", "ab \n" * 1_000_000 + "end\n", content_type=ctype
    )


@case("tnef", Expect.TICKET)
def tnef_multivalue_bomb() -> bytes:
    """A 44-byte winmail.dat whose multi-valued MAPI property claims 2^32-1 values."""
    return winmail_mail("tnef_multivalue_bomb", tnef_bomb())


@case("tnef", Expect.TICKET_INCOMPLETE, attachments_in_mail=30_000, max_attachments=50)
def tnef_many_huge_attachments() -> bytes:
    """winmail.dat with 30 000 attachments claiming 2 GiB (PR_ATTACH_SIZE) and 4 GiB (zip)."""
    return winmail_mail("tnef_many_huge_attachments", tnef_many_huge())


@case("address", Expect.TICKET, ack_to="none")
def from_local_part_400() -> bytes:
    """From with a 400-character local part: no valid address to acknowledge."""
    stem = "from_local_part_400"
    sender = f"Customer <{'a' * 400}@{address(stem).partition('@')[2]}>"
    return plain_mail(stem, "Hello, who am I?\n", sender=sender)


REPLY_TO_VICTIMS = [f"victim{n:02d}@reflect{n:02d}.example" for n in range(80)]


@case("address", Expect.TICKET, ack_to="from", ack_recipients=1, never_mail=REPLY_TO_VICTIMS)
def reply_to_2kb() -> bytes:
    """A 2 kB Reply-To of 80 third-party addresses: the ack must not reflect to them."""
    reply_to = fold(f"{victim}," for victim in REPLY_TO_VICTIMS).rstrip(",")
    return plain_mail("reply_to_2kb", "Hello.\n", extra=[("Reply-To", reply_to)])


QUOTED_LOCAL_PART = '"v1@a.example,v2@b.example"@x.example'


@case(
    "address",
    Expect.TICKET,
    ack_to="from",
    ack_recipients=1,
    never_mail=["v1@a.example", "v2@b.example", QUOTED_LOCAL_PART],
)
def reply_to_quoted_local_part() -> bytes:
    """Reply-To "v1@a.example,v2@b.example"@x.example: a quoted local part holding @ and ,."""
    extra = [("Reply-To", QUOTED_LOCAL_PART)]
    return plain_mail("reply_to_quoted_local_part", "Hello.\n", extra=extra)


@case("address", Expect.TICKET)
def from_nested_comments() -> bytes:
    """From with 5 000 nested comments before the address (a recursive parser overflows)."""
    stem = "from_nested_comments"
    sender = "(" * 5_000 + ")" * 5_000 + f" Customer <{address(stem)}>"
    return plain_mail(stem, "Hello.\n", sender=sender)


CC_FLOOD = [f"cc{n:05d}@cc.example" for n in range(1, 10_001)]


@case("address", Expect.TICKET, ack_to="from", ack_recipients=1, never_mail=CC_FLOOD[::2_500])
def cc_10000() -> bytes:
    """Cc of 10 000 addresses: nobody but the sender may get the ack."""
    return plain_mail(
        "cc_10000", "Hello all.\n", extra=[("Cc", fold(a + "," for a in CC_FLOOD)[:-1])]
    )


@case("charset", Expect.TICKET, ack_to="from", no_surrogates=True)
def utf7_lone_surrogate() -> bytes:
    """charset=utf-7 body, subject and display name that decode to lone surrogates."""
    stem = "utf7_lone_surrogate"
    subject = f"{tag(stem)} =?utf-7?Q?+2D0-?= {encoded_word('+2D3YPQ-', 'ascii', 'utf-7')}"
    headers = standard(
        stem,
        "text/plain; charset=utf-7",
        subject=subject,
        sender=f"=?utf-7?Q?Eve_+2D0-?= <{address(stem)}>",
    )
    return entity(headers, b"Hello +2D0- and +2D3YPQ- and +3gA-.\r\n")


SURROGATE_BYTES = b"\xed\xa0\x80\xed\xbf\xbf"  # U+D800 and U+DFFF, encoded as UTF-8 would


@case("charset", Expect.TICKET, ack_to="from", no_surrogates=True)
def utf8_encoded_surrogates() -> bytes:
    """UTF-8-encoded surrogates (ED A0 80, ED BF BF) in subject, body and filename."""
    stem = "utf8_encoded_surrogates"
    word = f"=?utf-8?B?{base64.b64encode(SURROGATE_BYTES).decode()}?="
    subject = f"{tag(stem)} {word} raw ".encode() + SURROGATE_BYTES
    name = "attachment; filename*=utf-8''%ED%A0%80name%ED%BF%BF.txt"
    parts = [
        entity([("Content-Type", "text/plain; charset=utf-8")], b"Hi " + SURROGATE_BYTES + CRLF),
        entity([("Content-Type", "text/plain"), ("Content-Disposition", name)], b"file\r\n"),
    ]
    return mixed(stem, parts, subject=subject)


@case("charset", Expect.TICKET)
def charset_name_10kb() -> bytes:
    """A 10 kB charset name, in Content-Type and in an encoded word."""
    stem = "charset_name_10kb"
    name = "x-" + "a" * 10_240
    headers = standard(
        stem, f'text/plain; charset="{name}"', subject=f"{tag(stem)} =?{name}?Q?hello?="
    )
    return entity(headers, b"Hello \xe9t\xe9.\r\n")


BOGUS_CHARSETS = (
    *("x-no-such-charset", "utf-8*en", "zlib", "base64", "rot13", "uu", "hex", "bz2"),
    *("unicode-escape", "raw_unicode_escape", "idna", "punycode", "utf-16", "utf-32"),
    *("cp65001", "../../etc/passwd", "%s%s%n", "utf-7", "undefined", "mbcs"),
)


@case("charset", Expect.TICKET)
def rfc2047_bogus_charsets() -> bytes:
    """Encoded words and body parts in non-charsets (zlib, base64, unicode-escape, idna...)."""
    stem = "rfc2047_bogus_charsets"
    payload = base64.b64encode(b"x\x9c\\N{BEL}\\U0010ffff\xff").decode()
    words = [f"=?{charset}?B?{payload}?=" for charset in BOGUS_CHARSETS]
    body = b"x\x9c\\N{BEL} \\ud800 +2D0- \xff\xfe\x00a\r\n"
    parts = [
        entity([("Content-Type", f'text/plain; charset="{charset}"')], body)
        for charset in BOGUS_CHARSETS
    ]
    return mixed(stem, [text_part("Hello.\n"), *parts], subject=fold([tag(stem), *words]))


@case("bounce", Expect.BOUNCE_UNMATCHED, ack_to="none", max_id_length=998)
def dsn_long_message_id() -> bytes:
    """A DSN whose original Message-ID is 1 200 characters."""
    original = "<" + "o" * 1_181 + "@ticketbot.example>"
    return dsn("dsn_long_message_id", [("Message-ID", original)])


@case("bounce", Expect.BOUNCE_UNMATCHED, ack_to="none", not_note_on="control_plain.eml")
def dsn_forged_customer_id() -> bytes:
    """A forged DSN quoting the Message-ID of a customer's mail (control_plain.eml), not ours."""
    return dsn("dsn_forged_customer_id", [("Message-ID", message_id("control_plain"))])


@case("bounce", Expect.BOUNCE_UNMATCHED, ack_to="none", max_references=100)
def dsn_50000_original_ids() -> bytes:
    """A DSN whose returned headers hold 50 000 References."""
    references = fold(f"<bounced-{n:05d}@elsewhere.example>" for n in range(50_000))
    original = [("Message-ID", "<bounced@elsewhere.example>"), ("References", references)]
    return dsn("dsn_50000_original_ids", original)


@case("ids", Expect.TICKET, ack_to="from", max_references=100)
def references_50000() -> bytes:
    """References with 50 000 ids."""
    references = fold(f"<ref-{n:05d}@elsewhere.example>" for n in range(50_000))
    return plain_mail("references_50000", "Hello.\n", extra=[("References", references)])


@case("ids", Expect.TICKET, max_id_length=998)
def message_id_1mb() -> bytes:
    """A 1 MB Message-ID and In-Reply-To."""
    huge = "<" + "m" * MIB + "@huge.example>"
    headers = replace_header(standard("message_id_1mb"), "Message-ID", huge)
    return entity([*headers, ("In-Reply-To", huge)], b"Hello.\r\n")


@case("structure", Expect.TICKET_INCOMPLETE)
def multipart_nested_1000() -> bytes:
    """multipart/mixed nested 1 000 deep, with text at the top and at the bottom."""
    stem = "multipart_nested_1000"
    inner = text_part("The innermost text.\n")
    for depth in range(999, 0, -1):
        boundary = f"n{depth}"
        inner = entity(
            [("Content-Type", f'multipart/mixed; boundary="{boundary}"')],
            multipart([inner], boundary),
        )
    return mixed(stem, [text_part("The top text.\n"), inner])


@case("structure", Expect.TICKET_INCOMPLETE, attachments_in_mail=9_999, max_attachments=50)
def parts_10000() -> bytes:
    """10 000 parts: a text and 9 999 one-byte attachments."""
    files = [
        entity(
            [
                ("Content-Type", f'text/plain; name="part-{n:05d}.txt"'),
                ("Content-Disposition", f'attachment; filename="part-{n:05d}.txt"'),
            ],
            b"x",
        )
        for n in range(1, 10_000)
    ]
    return mixed("parts_10000", [text_part("Hello.\n"), *files])


@case("structure", Expect.TICKET_INCOMPLETE)
def parts_100000_empty() -> bytes:
    """100 000 empty parts (7 bytes each), every one an inline text body."""
    return mixed("parts_100000_empty", [text_part("Hello.\n"), *([b""] * 100_000)])


@case("structure", Expect.TICKET)
def rfc822_nested_100() -> bytes:
    """A forwarded message/rfc822 nested 100 deep."""
    stem = "rfc822_nested_100"
    inner = entity(standard(f"{stem}_100"), b"The innermost message.\r\n")
    for depth in range(99, 0, -1):
        inner = entity(standard(f"{stem}_{depth}", "message/rfc822"), inner)
    forwarded = entity(
        [("Content-Type", "message/rfc822"), ("Content-Disposition", "attachment")], inner
    )
    return mixed(stem, [text_part("Forwarded, see below.\n"), forwarded])


@case("headers", Expect.TICKET)
def header_1mb_subject() -> bytes:
    """A 1 MB Subject, folded over 14 000 lines."""
    stem = "header_1mb_subject"
    return plain_mail(stem, "Hello.\n", subject=fold([tag(stem), *(["word"] * (MIB // 5))]))


@case("headers", Expect.TICKET)
def header_1mb_unfolded() -> bytes:
    """One header of 1 MB on a single line."""
    return plain_mail("header_1mb_unfolded", "Hello.\n", extra=[("X-Filler", "A" * MIB)])


@case("headers", Expect.TICKET)
def headers_100000() -> bytes:
    """100 000 Received headers: 8 MB of header section."""
    received = ("Received", f"from relay.example by mx.example; {DATE}")
    return plain_mail("headers_100000", "Hello.\n", extra=[received] * 100_000)


@case("headers", Expect.TICKET)
def date_absurd() -> bytes:
    """A Date with 100 kB of digits, year 99999999999999, 99:99:99 and a +9999 zone."""
    absurd = f"Thu, {'9' * 100_000} Jan 99999999999999 99:99:99 +9999"
    return entity(replace_header(standard("date_absurd"), "Date", absurd), b"Hello.\r\n")


@case("headers", Expect.TICKET)
def subject_prefix_flood() -> bytes:
    """A Subject of 10 000 "Re: Fwd: AW: WG: SV:" runs before the file's name."""
    stem = "subject_prefix_flood"
    subject = fold([*(["Re: Fwd: AW: WG: SV:"] * 10_000), tag(stem)])
    return plain_mail(stem, "Hello.\n", subject=subject)


@case("headers", Expect.TICKET, new_ticket=True)
def subject_forged_hooks() -> bytes:
    """A Subject of 5 000 distinct [Ticket#...] hooks with valid check digits."""
    stem = "subject_forged_hooks"
    hooks = [f"[Ticket#{ticket_number(n)}]" for n in range(1, 5_001)]
    return plain_mail(stem, "Hello.\n", subject=fold([tag(stem), *hooks]))


@case("mime_params", Expect.TICKET)
def mime_params_unbalanced_quote() -> bytes:
    """A charset parameter that opens a quote, then 200 000 semicolons (quadratic _parseparam)."""
    ctype = 'text/plain; charset="utf-8' + ";" * 200_000
    return plain_mail("mime_params_unbalanced_quote", "Hello.\n", content_type=ctype)


@case("mime_params", Expect.TICKET)
def mime_params_100000() -> bytes:
    """A multipart/mixed Content-Type with 100 000 parameters after the boundary."""
    stem = "mime_params_100000"
    boundary = f"=_{stem}"
    params = "; p=v" * 100_000
    return entity(
        standard(stem, f'multipart/mixed; boundary="{boundary}"{params}'),
        multipart([text_part("Hello.\n")], boundary),
    )


@case("mime_params", Expect.TICKET)
def rfc2231_10000_continuations() -> bytes:
    """An attachment name in 10 000 RFC 2231 continuations, shuffled."""
    order = list(range(10_000))
    random.Random(2231).shuffle(order)
    params = "".join(
        f"; filename*{n}*=utf-8''a%41" if n == 0 else f"; filename*{n}*=b%42" for n in order
    )
    part = entity(
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Disposition", f"attachment{params}"),
        ],
        b"data",
    )
    return mixed("rfc2231_10000_continuations", [text_part("Hello.\n"), part])


@case("encoding", Expect.TICKET)
def base64_invalid() -> bytes:
    """base64 with invalid characters, padding in the middle, 8-bit bytes and truncation."""
    good = base64.b64encode(b"Hello, this is the body text.")
    bodies = [
        good + b"!!!!$$$$****" + good,
        good[:10] + b"====" + good[10:] + b"=Q",
        b"\xff\xfe\x00" + good + b"\x80\x81",
        good[:-1],
        b"=" * 4_000,
        b"====QUJD====" * 1_000,
    ]
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "base64"),
    ]
    parts = [entity(headers, body + CRLF) for body in bodies]
    parts.append(attachment("broken.bin", b"") + b"%%%%not base64\r\n")
    return mixed("base64_invalid", parts)


@case("encoding", Expect.TICKET)
def base64_padding_flood() -> bytes:
    """A base64 body of 1 MB of "QQ==": 250 000 padded chunks."""
    body = base64.b64encode(b"Hello.\n") + CRLF + fill("QQ==", MIB).encode() + CRLF
    return entity(standard("base64_padding_flood", cte="base64"), body)


CTE_VALUES: tuple[str | bytes, ...] = (
    *("x-bogus-42", "base64; foo=bar", "quoted-printable-ish", b"7bit\x00\x01", "x-uuencode"),
    *("binary " + "(" * 1_000, "x-" + "e" * 10_240, "BASE64 ", "8bit\t;"),
)


@case("encoding", Expect.TICKET)
def cte_unknown() -> bytes:
    """Parts with unknown, parameterised, NUL-laden and 10 kB Content-Transfer-Encodings."""
    parts = [
        entity(
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", cte)],
            b"SGVsbG8= =48=65 body\r\n",
        )
        for cte in CTE_VALUES
    ]
    return mixed("cte_unknown", [text_part("Hello.\n"), *parts])


@case("encoding", Expect.TICKET)
def qp_soft_breaks_1mb() -> bytes:
    """quoted-printable of 1 MB of soft line breaks and invalid escapes."""
    body = b"Hello=\r\n" + b"a=\r\n=ZZ=\r\n" * (MIB // 10) + b"=\r\n="
    return entity(standard("qp_soft_breaks_1mb", cte="quoted-printable"), body)


@case("encoding", Expect.TICKET)
def uuencode_garbage() -> bytes:
    """x-uuencode with a begin line and 1 MB of garbage lines."""
    rng = random.Random(644)
    block = bytes(rng.randrange(32, 97) for _ in range(4_096))
    lines = b"".join(block[n % 61 : n % 61 + 61] + CRLF for n in range(MIB // 63))
    part = entity(
        [("Content-Type", "application/octet-stream"), ("Content-Transfer-Encoding", "x-uuencode")],
        b"begin 644 evil.exe\r\n" + lines + b"end\r\n",
    )
    return mixed("uuencode_garbage", [text_part("Hello.\n"), part])


INJECTED = ["victim1@injected.example", "victim2@injected.example"]


@case(
    "injection",
    Expect.TICKET,
    ack_to="from",
    ack_recipients=1,
    no_injected_header=["Bcc", "X-Injected"],
    never_mail=INJECTED,
)
def crlf_in_encoded_words() -> bytes:
    """CR/LF in encoded words of subject, display name and filename, to inject headers."""
    stem = "crlf_in_encoded_words"
    subject = f"{tag(stem)} =?utf-8?Q?Hi=0D=0ABcc:_{INJECTED[0]}=0D=0AX-Injected:_yes?="
    name = encoded_word(f"Eve\r\nBcc: {INJECTED[1]}\r\n")
    filename = encoded_word("a.txt\r\nX-Injected: yes")
    disposition = f'attachment; filename="{filename}"'
    parts = [
        text_part(f"Hello.\nBcc: {INJECTED[0]}\n"),
        entity([("Content-Type", "text/plain"), ("Content-Disposition", disposition)], b"f\r\n"),
    ]
    return mixed(stem, parts, subject=subject, sender=f"{name} <{address(stem)}>")


@case("injection", Expect.TICKET, ack_to="from")
def nul_in_encoded_words() -> bytes:
    """NUL bytes, encoded (Q, B) and raw, in subject, display name, filename and body."""
    stem = "nul_in_encoded_words"
    subject = f"{tag(stem)} =?utf-8?Q?a=00b?= {encoded_word('c' + chr(0) + 'd')} e".encode()
    disposition = f'attachment; filename="{encoded_word("x" + chr(0) + ".txt")}"'
    parts = [
        entity([("Content-Type", "text/plain; charset=utf-8")], b"Hel\x00lo\r\n"),
        entity(
            [("Content-Type", "text/plain"), ("Content-Disposition", disposition)], b"f\x00\r\n"
        ),
    ]
    sender = f"{encoded_word('Ev' + chr(0) + 'e')} <{address(stem)}>"
    return mixed(
        stem, parts, subject=subject + b"\x00f", sender=sender, extra=[("X-Nul", b"a\x00b")]
    )


DISPLAY_TRAPS = (
    "\u202eexe.pdf\u202c \x1b[31mRED\x1b[0m \x07\x08 \u200f\u2066x\u2069 \u061c\ufeff\u200b"
)


@case("display", Expect.TICKET, no_control_chars=True)
def bidi_and_controls() -> bytes:
    """Bidi overrides, isolates, ANSI escapes, BEL and zero-width characters in subject,
    display name and filename."""
    stem = "bidi_and_controls"
    filename = encoded_word("invoice\u202efdp.exe")
    name = encoded_word("\u202eEve " + DISPLAY_TRAPS)
    disposition = f'attachment; filename="{filename}"'
    parts = [
        text_part(f"Body {DISPLAY_TRAPS}\n"),
        entity(
            [("Content-Type", "application/octet-stream"), ("Content-Disposition", disposition)],
            b"MZ",
        ),
    ]
    subject = f"{tag(stem)} {encoded_word(DISPLAY_TRAPS)}"
    return mixed(stem, parts, subject=subject, sender=f"{name} <{address(stem)}>")


@case("display", Expect.TICKET)
def zalgo_combining_marks() -> bytes:
    """10 000 combining marks on 50 letters in the subject, 1 MB of them in the body."""
    stem = "zalgo_combining_marks"
    marks = "\u0301\u0316\u0337\u0360"
    words = [encoded_word("Z" + marks * 50) for _ in range(50)]
    return plain_mail(stem, "Z" + fill(marks, MIB // 2) + "\n", subject=fold([tag(stem), *words]))


MENTIONS = (
    "<!channel> <!here> <!everyone> <@U0123ABCD> <#C0123ABCD> <!subteam^S0123ABCD> "
    "<https://evil.example/login|Click to verify> <mailto:x@evil.example|support> "
    "<!date^1392734382^{date}|x> *bold* _it_ ~strike~ `code` ```block``` &lt;!channel&gt;"
)


@case("mentions", Expect.TICKET, no_mentions=True)
def mentions_plain() -> bytes:
    """Slack mentions, links and markup in subject, display name, body and filename."""
    stem = "mentions_plain"
    disposition = 'attachment; filename="<!channel>.txt"'
    parts = [
        text_part(f"Hello {MENTIONS}\n"),
        entity([("Content-Type", "text/plain"), ("Content-Disposition", disposition)], b"file\r\n"),
    ]
    subject = f"{tag(stem)} <!channel> <@U0123ABCD> <https://evil.example|click>"
    return mixed(stem, parts, subject=subject, sender=f'"<!here> <@U0123ABCD>" <{address(stem)}>')


@case("mentions", Expect.TICKET, no_mentions=True)
def mentions_html_entities() -> bytes:
    """HTML-only body: mentions spelt as entities, links whose text lies about the target."""
    markup = (
        "<p>&lt;!channel&gt; &#60;@U0123ABCD&#62; &lt;!here|here&gt;</p>"
        '<p><a href="https://evil.example/">https://support.example/</a> '
        '<a href="https://evil.example|click">x</a> <a href="&lt;!channel&gt;">y</a></p>'
    )
    return html_mail("mentions_html_entities", markup)


TRAVERSAL_NAMES = (
    *("../../../../etc/passwd", "..\\..\\windows\\system32\\cmd.exe", "/etc/shadow"),
    *("C:\\boot.ini", "\\\\server\\share\\x.txt", "CON", "PRN.txt", "AUX", "NUL.pdf", "COM1"),
    *("LPT9.doc", "con.", "file.txt. ", "..", ".", "", "%2e%2e%2fx", "\uff0e\uff0e\uff0fx"),
    *(".htaccess", "x" * 1_000 + ".txt", "a:b.txt", "name\x00.exe"),
)
TRAVERSAL_DISPOSITIONS = (
    *(f'attachment; filename="{name.replace(chr(92), chr(92) * 2)}"' for name in TRAVERSAL_NAMES),
    f'attachment; filename="{encoded_word("../../x.sh")}"',
    "attachment; filename*=utf-8''..%2F..%2F..%2Fetc%2Fcron.d%2Fx",
)


@case(
    "filenames",
    Expect.TICKET,
    safe_filenames=True,
    attachments_in_mail=len(TRAVERSAL_DISPOSITIONS),
)
def filenames_traversal_devices() -> bytes:
    """Attachments named for path traversal, absolute and UNC paths, Windows devices, dots,
    NUL and 1 000 characters, spelt plain, RFC 2047 and RFC 2231."""
    parts = [
        entity(
            [("Content-Type", "application/octet-stream"), ("Content-Disposition", disposition)],
            b"data\r\n",
        )
        for disposition in TRAVERSAL_DISPOSITIONS
    ]
    return mixed("filenames_traversal_devices", [text_part("Hello.\n"), *parts])


@case("bytes", Expect.TICKET)
def garbage_8bit() -> bytes:
    """Seeded random bytes (NUL, CR, LF, 8-bit) in headers and a 64 kB body; no MIME headers."""
    stem = "garbage_8bit"
    rng = random.Random(8)
    headers: list[Header] = [
        ("From", f"Customer <{address(stem)}>"),
        ("To", SUPPORT),
        ("Subject", f"{tag(stem)} ".encode() + bytes(rng.randrange(128, 256) for _ in range(40))),
        ("Date", DATE),
        ("Message-ID", message_id(stem)),
        ("X-Garbage", bytes(rng.randrange(128, 256) for _ in range(200))),
    ]
    return entity(headers, rng.randbytes(64 * 1024))


@case("bytes", Expect.TICKET)
def detector_many_garbage_parts() -> bytes:
    """100 inline text parts of 32 kB 8-bit garbage, each in an unknown charset: the charset
    detector runs once per part."""
    rng = random.Random(100)
    block = bytes(rng.randrange(128, 256) for _ in range(4_096))
    parts = [
        entity(
            [
                ("Content-Type", f"text/plain; charset=x-unknown-{n}"),
                ("Content-Transfer-Encoding", "8bit"),
            ],
            (block[n:] + block[:n]) * 8 + CRLF,
        )
        for n in range(100)
    ]
    return mixed("detector_many_garbage_parts", [text_part("Hello.\n"), *parts])


@case("size", Expect.TICKET)
def size_at_limit() -> bytes:
    """Exactly 25 MiB, mail.limits.max_message_bytes: not over it, so parsed."""
    return sized_mail("size_at_limit", MAX_MESSAGE_BYTES)


@case("size", Expect.STUB)
def size_over_limit() -> bytes:
    """25 MiB and one byte: over mail.limits.max_message_bytes."""
    return sized_mail("size_over_limit", MAX_MESSAGE_BYTES + 1)


@case("size", Expect.STUB)
def size_50mb() -> bytes:
    """50 MiB: one big base64 attachment."""
    return sized_mail("size_50mb", 50 * MIB)


@case("attachments", Expect.TICKET_INCOMPLETE, attachments_in_mail=200, max_attachments=50)
def attachments_200() -> bytes:
    """200 small attachments."""
    files = [
        attachment(f"file-{n:03d}.txt", f"file {n}\n".encode(), "text/plain") for n in range(1, 201)
    ]
    return mixed("attachments_200", [text_part("Hello.\n"), *files])


def _duplicate(stem: str, body: str) -> bytes:
    headers = replace_header(standard(stem), "Message-ID", message_id("dup_message_id"))
    return entity(headers, text(body))


@case("dedupe", Expect.TICKET, same_message_id_as="dup_message_id_b.eml")
def dup_message_id_a() -> bytes:
    """Shares its Message-ID with dup_message_id_b.eml; different content."""
    return _duplicate("dup_message_id_a", "The first mail with this id.\n")


@case("dedupe", Expect.TICKET, same_message_id_as="dup_message_id_a.eml")
def dup_message_id_b() -> bytes:
    """Shares its Message-ID with dup_message_id_a.eml; different content."""
    return _duplicate("dup_message_id_b", "The second, different mail with the same id.\n")


# --- files, manifest and loading --------------------------------------------------------


def file_name(stem: str, raw: bytes) -> str:
    return f"{stem}.eml.gz" if len(raw) > GZIP_OVER else f"{stem}.eml"


def stored_bytes(name: str, raw: bytes) -> bytes:
    """The file content for `raw`: gzip without a timestamp, so it is reproducible."""
    return gzip.compress(raw, compresslevel=9, mtime=0) if name.endswith(".gz") else raw


def generate(directory: Path) -> list[str]:
    """Write every corpus file and the manifest into `directory`; return the file names."""
    directory.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    for spec in CASES:
        raw = spec.build()
        name = file_name(spec.stem, raw)
        (directory / name).write_bytes(stored_bytes(name, raw))
        entries.append(
            {
                "file": name,
                "class": spec.attack_class,
                "description": spec.description,
                "expect": spec.expect.value,
                "checks": spec.checks,
                "size": len(raw),
                "sha256": hashlib.sha256(raw).hexdigest(),
            }
        )
    manifest = json.dumps({"files": entries}, indent=2, ensure_ascii=True) + "\n"
    (directory / MANIFEST).write_text(manifest, encoding="ascii")
    return [entry["file"] for entry in entries]


def read_manifest(directory: Path = HOSTILE_DIR) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((directory / MANIFEST).read_text("ascii"))["files"]
    return entries


def _read_raw(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def _mail(directory: Path, entry: dict[str, Any]) -> HostileMail:
    return HostileMail(
        file=entry["file"],
        attack_class=entry["class"],
        description=entry["description"],
        expect=Expect(entry["expect"]),
        checks=entry["checks"],
        raw=_read_raw(directory / entry["file"]),
    )


def load_corpus(directory: Path = HOSTILE_DIR) -> list[HostileMail]:
    """Every corpus mail, in manifest order, decompressed (about 130 MB in all)."""
    return [_mail(directory, entry) for entry in read_manifest(directory)]


def load_mail(name: str, directory: Path = HOSTILE_DIR) -> HostileMail:
    """One corpus mail by file name or stem ("size_50mb" or "size_50mb.eml.gz")."""
    for entry in read_manifest(directory):
        if name in (entry["file"], entry["file"].removesuffix(".gz").removesuffix(".eml")):
            return _mail(directory, entry)
    raise KeyError(f"no corpus file {name!r}: see {directory / MANIFEST}")


def main() -> None:
    """Regenerate tests/fixtures/hostile/ and remove mails no case builds any more."""
    written = set(generate(HOSTILE_DIR))
    for path in sorted(HOSTILE_DIR.glob("*.eml*")):
        if path.name not in written:
            path.unlink()
            print(f"removed {path.name}")
    total = sum((HOSTILE_DIR / name).stat().st_size for name in written)
    print(
        f"{len(written)} files in {HOSTILE_DIR} ({total / 1024:.0f} KiB on disk)", file=sys.stderr
    )


if __name__ == "__main__":
    main()
