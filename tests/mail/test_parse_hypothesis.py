"""Property tests: parse_mail never raises and never lets control characters out.

Random bytes, mail-shaped random headers, and every fixture mutated by byte
flips, truncations and insertions must all come back as a ParsedMail whose
header-derived strings are single-line, and every field of which is within
its bound in `mail.field_limits.FIELD_LIMITS` and UTF-8 encodable.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.field_limits import limit_violations
from mail.limits import ParseLimits
from mail.parse import content_digest, parse_headers_only, parse_mail
from mail.parsed import ParsedMail

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"
# The 200 kB fixture makes mutation slow without exercising anything new.
FIXTURE_BYTES = {
    path.stem: path.read_bytes()
    for path in sorted(FIXTURES.glob("*.eml"))
    if path.stat().st_size < 50_000
}
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

HEADER_NAMES = [
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Sender",
    "Return-Path",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Auto-Submitted",
    "Precedence",
    "Delivered-To",
]
HEADER_PIECES = [
    "=?utf-8?q?a=0D=0Ab?=",
    "=?utf-8?B?w6Q=?=",
    "=?x-bogus?q?x?=",
    "=?iso-2022-jp?B?GyRCJUQbKEI=?=",
    "<a@b>",
    "<",
    ">",
    '"',
    "(",
    ")",
    ",",
    ";",
    "@",
    "multipart/mixed; boundary=x",
    "text/plain; charset=utf-8",
    "attachment; filename*=utf-8''%0D%0A%00x",
    "base64",
    "\r\n ",
    "\x00",
    "\u00e9",
    "\udcff",  # becomes the raw byte 0xff
    "=?utf-7?q?+2D0-?=",  # a lone surrogate once decoded
    "=?utf-7?b?KzJEMC0=?=",
    '"v1@a.example,v2@b.example"@x.example',
    "\u202e",
    "\u200b",
    "x" * 400,
    "<" + "i" * 1200 + "@x>",
    "text/plain; charset=utf-7",
    "text/html; charset=utf-7",
    "attachment; filename*=utf-7''%2B2D0-",
]


def single_line_strings(parsed: ParsedMail) -> list[str]:
    """Every header-derived string of a parse result."""
    values: list[str] = [parsed.subject, *parsed.in_reply_to, *parsed.references]
    values += [*parsed.delivered_to, *parsed.bounce_message_ids, *parsed.defects]
    values += [parsed.message_id or "", parsed.automatic_reason or ""]
    for address in (parsed.sender, parsed.reply_to, *parsed.to, *parsed.cc):
        if address is not None:
            values += [address.name, address.email]
    for attachment in parsed.attachments:
        values += [attachment.filename, attachment.content_type, attachment.content_id or ""]
    return values


def assert_clean(parsed: ParsedMail, raw: bytes) -> None:
    assert isinstance(parsed, ParsedMail)
    assert parsed.digest == content_digest(raw)
    assert limit_violations(parsed) == []
    for value in single_line_strings(parsed):
        assert "\r" not in value and "\n" not in value, repr(value)
        assert "\x00" not in value, repr(value)
    assert "\x00" not in parsed.text
    assert "\x00" not in (parsed.html or "")


@SETTINGS
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert_clean(parse_mail(raw), raw)


@st.composite
def mail_shaped(draw: st.DrawFn) -> bytes:
    """Headers from the names parse_mail reads, with hostile value fragments, then a body."""
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        name = draw(st.sampled_from(HEADER_NAMES))
        pieces = draw(st.lists(st.sampled_from(HEADER_PIECES) | st.text(max_size=8), max_size=6))
        lines.append(f"{name}: {''.join(pieces)}")
    body = draw(st.binary(max_size=600))
    separator = draw(st.sampled_from(["\r\n", "\n"]))
    head = separator.join(lines).encode("utf-8", "surrogateescape")
    return head + separator.encode() * 2 + body


@SETTINGS
@given(mail_shaped())
def test_mail_shaped_noise_never_raises(raw: bytes) -> None:
    assert_clean(parse_mail(raw), raw)


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    """A fixture with a few byte flips, insertions, deletions or a truncation."""
    data = bytearray(FIXTURE_BYTES[draw(st.sampled_from(sorted(FIXTURE_BYTES)))])
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        index = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip":
            data[index] ^= 1 << draw(st.integers(0, 7))
        elif action == "insert":
            data[index:index] = draw(
                st.sampled_from([b"\r\n", b"\x00", b"--", b"=?", b"?=", b"\xff\xfe", b"\r\n\r\n"])
                | st.binary(min_size=1, max_size=8)
            )
        elif action == "delete":
            del data[index : index + draw(st.integers(1, 40))]
        else:
            del data[index:]
    return bytes(data)


@SETTINGS
@given(mutated_fixture())
def test_mutated_fixtures_never_raise(raw: bytes) -> None:
    assert_clean(parse_mail(raw), raw)


SMALL = ParseLimits(max_parts=5, max_attachments=2, max_html_bytes=200, max_message_bytes=2000)


@SETTINGS
@given(mail_shaped() | mutated_fixture())
def test_small_limits_keep_every_promise(raw: bytes) -> None:
    assert_clean(parse_mail(raw, SMALL), raw)


@SETTINGS
@given(mail_shaped() | mutated_fixture() | st.binary(max_size=4000))
def test_headers_only_keeps_every_promise(raw: bytes) -> None:
    parsed = parse_headers_only(raw, "reading it took longer than 5 s")
    assert_clean(parsed, raw)
    assert parsed.incomplete == "reading it took longer than 5 s"
