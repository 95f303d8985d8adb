"""Turn bytes from a mail into text, whatever charset the sender claimed.

Mail in the wild declares charsets that do not exist ("x-unknown"), that are
wrong ("us-ascii" over UTF-8, "utf-8" over Latin-1), or none at all. A
helpdesk must still show the customer's words, so decoding never fails: it
tries the declared charset, then UTF-8, then a detector, then Windows-1252,
and says what it did in a defect string.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass

import charset_normalizer

from mail.normalise import replace_surrogates

__all__ = ["Decoded", "decode_bytes", "lookup_charset"]

#: Labels mail software sends, mapped to the Python codec that reads them best.
#: Latin-1 and ASCII labels read as Windows-1252, as browsers do: the C1
#: controls of real Latin-1 never occur in text, the cp1252 glyphs often do.
_ALIASES: dict[str, str] = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "x-user-defined": "cp1252",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
}

#: Codecs that exist in Python but are not charsets a mail could be written in.
_NOT_CHARSETS = frozenset(
    {
        "unicode-escape",
        "raw-unicode-escape",
        "unicode-internal",
        "idna",
        "punycode",
        "undefined",
        "mbcs",
        "oem",
    }
)

#: Detector guesses that are multi-byte: trustworthy when they decode cleanly.
_MULTIBYTE = frozenset(
    {
        "cp932",
        "shift_jis",
        "shift_jis_2004",
        "shift_jisx0213",
        "euc_jp",
        "euc_jis_2004",
        "iso2022_jp",
        "gb18030",
        "gb2312",
        "gbk",
        "big5",
        "big5hkscs",
        "cp949",
        "cp950",
        "euc_kr",
        "euc_jisx0213",
        "johab",
        "utf_16",
        "utf_16_be",
        "utf_16_le",
        "utf_32",
    }
)

#: Below this many bytes the detector's guesses are noise.
_DETECT_MIN_BYTES = 48


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text decoded from bytes, the codec actually used, and what went wrong."""

    text: str
    charset: str
    defect: str | None = None


def lookup_charset(label: str | None) -> str | None:
    """Return the Python codec name for a MIME charset label, or None if unusable.

    Strips quotes, RFC 2231 language suffixes ("utf-8*en") and whitespace, maps
    common mislabels, and rejects codecs that are not text charsets.
    """
    if not label:
        return None
    name = label.strip().strip("\"'").split("*", 1)[0].strip().lower()
    if not name or len(name) > 40:
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


def _looks_wrong(text: str) -> bool:
    """True when a detector's output is probably mojibake (e.g. KOI8-R read as Shift_JIS)."""
    suspicious = 0
    non_ascii = 0
    for char in text:
        if char < "\x80":
            continue
        non_ascii += 1
        halfwidth_kana = "\uff61" <= char <= "\uff9f"
        if halfwidth_kana or char == "\ufffd" or unicodedata.category(char) in ("Co", "Cc", "Cn"):
            suspicious += 1
    return non_ascii > 0 and suspicious * 5 > non_ascii


def _detect(data: bytes) -> str | None:
    """Return a codec the detector is confident about, or None to use cp1252.

    charset-normalizer mistakes short Western text for cp1250 or Asian
    multi-byte codecs, so a guess is only taken when it is a clean multi-byte
    decode or a language the detector recognised, and cp1252 wins any tie.
    """
    if len(data) < _DETECT_MIN_BYTES:
        return None
    try:
        matches = charset_normalizer.from_bytes(data[:65536])
    except Exception:  # the detector is third-party; a crash must not lose the mail
        return None
    best = matches.best()
    if best is None:
        return None
    if "cp1252" in best.could_be_from_charset:
        return None  # the same text either way: keep the usual Western reading
    for match in matches:
        if match.encoding in ("cp1252", "iso8859_15", "latin_1") and match.chaos <= best.chaos:
            return None
    encoding = best.encoding
    if encoding in _MULTIBYTE:
        trusted = best.chaos <= 0.1
    else:
        trusted = best.coherence >= 0.3 and best.chaos <= 0.15
    if not trusted:
        return None
    text = _strict(data, encoding)
    if text is None or _looks_wrong(text):
        return None
    return encoding


def _fallback(data: bytes) -> Decoded:
    """Decode bytes that are not what their label says: UTF-8, a detector, then cp1252."""
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8")
    guess = _detect(data)
    if guess is not None:
        return Decoded(data.decode(guess), guess)
    return Decoded(data.decode("cp1252", errors="replace"), "cp1252")


def _is_single_byte(codec: str) -> bool:
    return codec not in _MULTIBYTE and not codec.startswith(("utf", "iso2022", "hz"))


def decode_bytes(data: bytes, declared: str | None = None) -> Decoded:
    """Decode `data` labelled `declared`, never failing; the text is always UTF-8 encodable.

    A defect is reported when the label is unknown or wrong. Bytes that are
    valid UTF-8 under a single-byte label are read as UTF-8: that mislabel is
    common and a false positive needs improbable Latin-1 text. Python's utf-7
    codec yields lone surrogates for "+2D0-"; they become U+FFFD.
    """
    result = _decode(data, declared)
    text = replace_surrogates(result.text)
    if text is result.text:
        return result
    defect = result.defect or f"{result.charset} text held lone surrogates, shown as U+FFFD"
    return Decoded(text, result.charset, defect)


def _decode(data: bytes, declared: str | None) -> Decoded:
    if not data:
        return Decoded("", lookup_charset(declared) or "ascii")
    label = (declared or "").strip().strip("\"'")
    codec = lookup_charset(label)
    if codec is None:
        result = _fallback(data)
        if not label:
            if result.charset == "utf-8" and data.isascii():
                return result
            return Decoded(
                result.text, result.charset, f"no charset declared, decoded as {result.charset}"
            )
        return Decoded(
            result.text,
            result.charset,
            f"charset {_printable(label)} not recognised, decoded as {result.charset}",
        )
    if data.isascii() and _is_single_byte(codec):
        return Decoded(data.decode("ascii"), codec)
    if _is_single_byte(codec) and codec != "utf-8":
        as_utf8 = _strict(data, "utf-8")
        if as_utf8 is not None:
            return Decoded(as_utf8, "utf-8", f"declared {_printable(label)} but content is utf-8")
    text = _strict(data, codec)
    if text is not None:
        return Decoded(text, codec)
    result = _fallback(data)
    return Decoded(
        result.text, result.charset, f"content is not {label}, decoded as {result.charset}"
    )


def _printable(label: str) -> str:
    """A sender-supplied charset label, safe to quote in a defect (no control characters)."""
    return "".join(ch for ch in label if ch.isprintable())[:40] or "(unprintable)"
