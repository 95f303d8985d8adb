"""Table-driven tests for header decoding: encoded words, addresses, ids, dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mail.headers import (
    clean_text,
    decode_header,
    normalize_message_id,
    parse_address_list,
    parse_date,
    parse_message_ids,
    parse_single_address,
)
from mail.parsed import Address

MESSAGE_IDS = [
    ("<abc@example.com>", "<abc@example.com>"),
    ("  <abc@example.com>  ", "<abc@example.com>"),
    ("abc@example.com", "<abc@example.com>"),
    ("<ABC.Def@Example.COM>", "<ABC.Def@example.com>"),
    ("<a b\r\n c@example.com>", "<abc@example.com>"),
    ("<CAF=x+y/z@mail.gmail.com>", "<CAF=x+y/z@mail.gmail.com>"),
    ("<000001dc$2f3e$@host>", "<000001dc$2f3e$@host>"),
    ("<no-at-sign>", None),
    ("<>", None),
    ("<@example.com>", None),
    ("<abc@>", None),
    ("", None),
    ("<ab\x00c@example.com>", None),
    ("<caf\u00e9@example.com>", None),
    ("<" + "x" * 1200 + "@example.com>", "<" + "x" * 1200 + "@example.com>"),  # cut by normalise
]


@pytest.mark.parametrize(("raw", "expected"), MESSAGE_IDS)
def test_normalize_message_id(raw: str, expected: str | None) -> None:
    assert normalize_message_id(raw) == expected


ID_LISTS = [
    (["<a@x> <b@x>"], ("<a@x>", "<b@x>")),
    (["<a@x>\r\n\t<b@x> <a@x>"], ("<a@x>", "<b@x>")),
    (['<a@x> (message of "Mon, 1 Jan")'], ("<a@x>",)),
    (["(comment <c@x>) <a@x>"], ("<a@x>",)),
    (["(nested (comment) <c@x>) <a@x>"], ("<a@x>",)),
    (["a@x, b@x"], ("<a@x>", "<b@x>")),
    (["garbage <no-at> <a@x> more garbage"], ("<a@x>",)),
    (["<a@x>", "<b@x>"], ("<a@x>", "<b@x>")),
    (["plain words only"], ()),
    ([""], ()),
    ([], ()),
]


@pytest.mark.parametrize(("values", "expected"), ID_LISTS)
def test_parse_message_ids(values: list[str], expected: tuple[str, ...]) -> None:
    assert parse_message_ids(values) == expected


HEADERS = [
    ("Plain subject", "Plain subject"),
    ("=?utf-8?q?caf=C3=A9?=", "café"),
    ("=?UTF-8?B?Y2Fmw6k=?=", "café"),
    ("=?utf-8?b?Y2Fmw6k?=", "café"),  # missing padding
    ("=?iso-8859-1?q?caf=E9?= au lait", "café au lait"),
    ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),  # whitespace between encoded words is dropped
    ("=?utf-8?q?a?=\r\n =?utf-8?q?_b?=", "a b"),
    ("=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b"),
    ("Re:=?utf-8?q?x?=", "Re:x"),
    ("=?utf-8*de?q?Gr=C3=BC=C3=9Fe?=", "Grüße"),  # RFC 2231 language suffix
    ("=?utf-8?B?w6?= =?utf-8?B?pA==?=", "ä"),  # a character split across two words
    ("=?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=", "テスト"),
    ("=?koi8-r?B?8NLJ18XU?=", "Привет"),
    ("folded\r\n  subject\r\n\tline", "folded subject line"),
    ("=?utf-8?q?foo=0D=0ABcc:_evil@x?=", "foo Bcc: evil@x"),
    ("=?utf-8?q?a=00b?=", "a b"),
    ("tab\there", "tab here"),
    ("=?bogus?q?x?", "=?bogus?q?x?"),  # not an encoded word: left alone
    ("Gr\udcc3\udcbc\udcc3\udc9fe", "Grüße"),  # raw UTF-8 bytes as the parser stores them
    ("Gr\udcfc\udcdfe aus K\udcf6ln", "Grüße aus Köln"),  # raw Latin-1 bytes
    (b"Gr\xc3\xbc\xc3\x9fe", "Grüße"),
    ("", ""),
]


@pytest.mark.parametrize(("raw", "expected"), HEADERS)
def test_decode_header(raw: str | bytes, expected: str) -> None:
    assert decode_header(raw)[0] == expected


@pytest.mark.parametrize(
    ("raw", "defect"),
    [
        ("=?x-unknown?q?Gr=FC=DFe?=", "charset x-unknown not recognised, decoded as cp1252"),
        ("=?utf-8?q?Gr=FC=DFe?=", "content is not utf-8, decoded as cp1252"),
        ("=?us-ascii?q?Gr=C3=BC=C3=9Fe?=", "declared us-ascii but content is utf-8"),
        ("Gr\udcfc\udcdfe", "raw 8-bit header text decoded as cp1252"),
    ],
)
def test_decode_header_reports_charset_trouble(raw: str, defect: str) -> None:
    text, defects = decode_header(raw)
    assert text == "Grüße"
    assert defect in defects


def test_decode_header_without_collapse_keeps_inner_spaces_but_drops_controls() -> None:
    assert decode_header("my  file\r\n.txt", collapse=False)[0] == "my  file.txt"
    assert decode_header("=?utf-8?q?a=0D=0A=00b.txt?=", collapse=False)[0] == "ab.txt"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb", "a b"),
        ("  a \t\x0b b  ", "a b"),
        ("a\u2028b\x85c", "a b c"),
        ("\x00", ""),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


ADDRESSES = [
    ("alice@example.com", [Address("", "alice@example.com")]),
    ("Alice <Alice@Example.COM>", [Address("Alice", "Alice@example.com")]),
    (
        '"Doe, Jane" <jane@x.org>, bob@x.org',
        [Address("Doe, Jane", "jane@x.org"), Address("", "bob@x.org")],
    ),
    ("=?utf-8?q?M=C3=BCller=2C_Hans?= <hans@x.de>", [Address("Müller, Hans", "hans@x.de")]),
    ('"=?utf-8?B?SsO8cmdlbg==?=" <j@x.de>', [Address("Jürgen", "j@x.de")]),
    ("J\udcc3\udcbcrgen <j@x.de>", [Address("Jürgen", "j@x.de")]),
    ("=?utf-8?q?Eve=0D=0ABcc:_x@y?= <eve@x.org>", [Address("Eve Bcc: x@y", "eve@x.org")]),
    (
        "MAILER-DAEMON@mx.example.net (Mail Delivery System)",
        [Address("Mail Delivery System", "MAILER-DAEMON@mx.example.net")],
    ),
    ("undisclosed-recipients:;", []),
    ("<>", []),
    ("not an address", []),
    ("", []),
    # Only strict addresses (mail.normalise.strict_email) come out.
    (
        "O'Brien <o'brien+tag@Sub.Example.co.uk>",
        [Address("O'Brien", "o'brien+tag@sub.example.co.uk")],
    ),
    ('"john.doe"@example.com', [Address("", '"john.doe"@example.com')]),
    ("Jürgen <jürgen@bücher.de>", [Address("Jürgen", "jürgen@bücher.de")]),
    ("'alice@example.com'", [Address("", "alice@example.com")]),
    ("alice@\r\n example.com", [Address("", "alice@example.com")]),
    ('"v1@a.example,v2@b.example"@x.example', []),
    ('Eve <"v1@a.example;v2@b.example"@x.example>, bob@x.org', [Address("", "bob@x.org")]),
    ('"john doe"@example.com', []),
    ("x" * 400 + "@example.com", []),
    ("r@" + "d" * 2000 + ".example", []),
]


@pytest.mark.parametrize(("raw", "expected"), ADDRESSES)
def test_parse_address_list(raw: str, expected: list[Address]) -> None:
    assert parse_address_list([raw])[0] == expected


def test_an_address_that_is_not_strict_is_a_defect() -> None:
    addresses, defects = parse_address_list(["x" * 400 + "@example.com, b@x.org"], "To")
    assert addresses == [Address("", "b@x.org")]
    assert defects == ["header To: an invalid address was ignored"]


SINGLE = [
    (["Form <forms@customer.example>"], Address("Form", "forms@customer.example"), []),
    ([], None, []),
    (["v1@a.example, v2@b.example"], None, ["header Reply-To holds 2 addresses, none used"]),
    (["v1@a.example", "v2@b.example"], None, ["header Reply-To holds 2 addresses, none used"]),
    (
        ['"v1@a.example,v2@b.example"@x.example'],
        None,
        ["header Reply-To: an invalid address was ignored"],
    ),
    (["not an address"], None, ["header Reply-To: an invalid address was ignored"]),
    (["undisclosed-recipients:;"], None, []),
]


@pytest.mark.parametrize(("values", "expected", "defects"), SINGLE)
def test_parse_single_address(
    values: list[str], expected: Address | None, defects: list[str]
) -> None:
    assert parse_single_address(values, "Reply-To") == (expected, defects)


def test_parse_address_list_concatenates_repeated_headers() -> None:
    addresses, _ = parse_address_list(["a@x.org", "b@x.org, c@x.org"])
    assert [a.email for a in addresses] == ["a@x.org", "b@x.org", "c@x.org"]


DATES = [
    ("Mon, 12 Jan 2026 08:14:55 +0100", datetime(2026, 1, 12, 7, 14, 55, tzinfo=UTC)),
    ("Mon, 12 Jan 2026 08:14:55 +0100 (CET)", datetime(2026, 1, 12, 7, 14, 55, tzinfo=UTC)),
    ("12 Jan 2026 08:14:55 -0000", datetime(2026, 1, 12, 8, 14, 55, tzinfo=UTC)),
    ("Mon, 12 Jan 2026 08:14:55 GMT", datetime(2026, 1, 12, 8, 14, 55, tzinfo=UTC)),
    ("Mon, 12 Jan 26 08:14:55 EST", datetime(2026, 1, 12, 13, 14, 55, tzinfo=UTC)),
    ("Mon,\r\n 12 Jan 2026 08:14:55 +0000", datetime(2026, 1, 12, 8, 14, 55, tzinfo=UTC)),
    ("yesterday", None),
    ("Mon, 32 Jan 2026 08:14:55 +0000", None),
    ("Mon, 12 Jan 2026 25:61:00 +0000", None),
    ("Mon, 12 Jan 99999 08:14:55 +0000", None),
    ("", None),
]


@pytest.mark.parametrize(("raw", "expected"), DATES)
def test_parse_date(raw: str, expected: datetime | None) -> None:
    parsed, defects = parse_date(raw)
    assert parsed == expected
    if expected is None:
        assert defects
    else:
        assert parsed is not None
        assert parsed.tzinfo is UTC
        assert defects == []


def test_parse_date_missing() -> None:
    assert parse_date(None) == (None, ["header Date missing"])
