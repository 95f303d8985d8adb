"""Table-driven tests for charset lookup and the decoding fallbacks."""

from __future__ import annotations

import pytest

from mail.charsets import decode_bytes, lookup_charset

GERMAN = "Sehr geehrte Damen und Herren, bitte prüfen Sie die Rechnung. Grüße aus Köln, Jürgen Weiß"
RUSSIAN = "Здравствуйте! У меня не работает принтер, он печатает только пустые страницы."
JAPANESE = "お世話になっております。3階のプリンターが動きません。至急ご対応をお願いいたします。"
POLISH = (
    "Zażółć gęślą jaźń. Proszę o pomoc, drukarka na drugim piętrze nie działa od wczoraj. Dziękuję"
)

LOOKUPS = [
    ("utf-8", "utf-8"),
    ("UTF8", "utf-8"),
    ('"utf-8"', "utf-8"),
    ("utf-8*en", "utf-8"),
    ("us-ascii", "ascii"),
    ("iso-8859-1", "cp1252"),
    ("latin1", "cp1252"),
    ("windows-1252", "cp1252"),
    ("ISO-8859-15", "iso8859-15"),
    ("koi8-r", "koi8-r"),
    ("Shift_JIS", "cp932"),
    ("ks_c_5601-1987", "cp949"),
    ("gb2312", "gb18030"),
    ("iso-8859-8-i", "iso8859-8"),
    ("x-unknown", None),
    ("unknown-8bit", None),
    ("", None),
    (None, None),
    ("base64", None),  # a Python codec, not a charset
    ("rot13", None),
    ("unicode-escape", None),
    ("idna", None),
    ("x" * 100, None),
]


@pytest.mark.parametrize(("label", "expected"), LOOKUPS)
def test_lookup_charset(label: str | None, expected: str | None) -> None:
    assert lookup_charset(label) == expected


DECODES = [
    # (bytes, declared, expected text, codec used, defect fragment or None)
    ("Grüße".encode(), "utf-8", "Grüße", "utf-8", None),
    (b"plain", "us-ascii", "plain", "ascii", None),
    (GERMAN.encode("latin-1"), "iso-8859-1", GERMAN, "cp1252", None),
    ("€5 – “ok”".encode("cp1252"), "windows-1252", "€5 – “ok”", "cp1252", None),
    (RUSSIAN.encode("koi8-r"), "koi8-r", RUSSIAN, "koi8-r", None),
    (JAPANESE.encode("shift_jis"), "shift_jis", JAPANESE, "cp932", None),
    ("テスト".encode("iso-2022-jp"), "iso-2022-jp", "テスト", "iso2022_jp", None),
    # mislabelled
    ("Grüße".encode(), "us-ascii", "Grüße", "utf-8", "declared us-ascii but content is utf-8"),
    ("Grüße".encode(), "iso-8859-1", "Grüße", "utf-8", "declared iso-8859-1 but content is utf-8"),
    (
        GERMAN.encode("latin-1"),
        "utf-8",
        GERMAN,
        "cp1252",
        "content is not utf-8, decoded as cp1252",
    ),
    (b"Gr\xfc\xdfe", "us-ascii", "Grüße", "cp1252", "content is not us-ascii"),
    # unknown or missing labels
    (GERMAN.encode("latin-1"), "x-unknown", GERMAN, "cp1252", "charset x-unknown not recognised"),
    (
        "Grüße".encode(),
        "x-unknown",
        "Grüße",
        "utf-8",
        "charset x-unknown not recognised, decoded as utf-8",
    ),
    (GERMAN.encode("latin-1"), None, GERMAN, "cp1252", "no charset declared, decoded as cp1252"),
    (b"just ascii", None, "just ascii", "utf-8", None),
    (RUSSIAN.encode("cp1251"), "x-unknown", RUSSIAN, "cp1251", "decoded as cp1251"),
    (JAPANESE.encode("shift_jis"), "bogus", JAPANESE, "cp932", "decoded as cp932"),
    (POLISH.encode("cp1250"), None, POLISH, "cp1250", "decoded as cp1250"),
    # nothing fits: cp1252 with replacement, never an exception
    (b"\x81\x8d\x8f\x90\x9d", "utf-8", "\ufffd" * 5, "cp1252", "content is not utf-8"),
    (b"", "utf-8", "", "utf-8", None),
    # utf-7 can spell a lone surrogate, which no database or SMTP server accepts
    (b"Hi +2D0- there", "utf-7", "Hi \ufffd there", "utf-7", "held lone surrogates"),
    (b"+2D3cAA-", "utf-7", "\U0001f400", "utf-7", None),  # a pair is a real character
    (b"+3/8-", "unicode-1-1-utf-7", "\ufffd", "utf-7", "held lone surrogates"),
]


@pytest.mark.parametrize(("data", "declared", "text", "codec", "defect"), DECODES)
def test_decode_bytes(
    data: bytes, declared: str | None, text: str, codec: str, defect: str | None
) -> None:
    result = decode_bytes(data, declared)
    assert result.text == text
    assert result.charset == codec
    if defect is None:
        assert result.defect is None
    else:
        assert result.defect is not None
        assert defect in result.defect


def test_short_text_is_not_guessed() -> None:
    """On a few dozen bytes charset-normalizer guesses wildly (Shift_JIS for this KOI8-R)."""
    result = decode_bytes("Привет, мир! Как дела у вас сегодня?".encode("koi8-r"), "x-unknown")
    assert result.charset == "cp1252"
