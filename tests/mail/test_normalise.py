"""The normalisation rules at the parse boundary, one table per rule (SPEC "Hostile mail").

`normalise_mail` is applied to every result of `parse_mail`; here it is also
given hand-built `ParsedMail`s, so each rule is seen on its own.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.field_limits import FIELD_LIMITS, limit_violations, values_at
from mail.normalise import clean_line, normalise_mail, replace_surrogates, strict_email
from mail.parse import parse_mail
from mail.parsed import Address, ParsedAttachment, ParsedMail
from tests.support.make_mail import make_mail

BASE = parse_mail(make_mail())

ADDRESSES = [
    # Real addresses keep working.
    ("alice@example.com", "alice@example.com"),
    ("Alice@Example.COM", "Alice@example.com"),  # local part as sent, domain lower-cased
    ("o'brien+tag@sub.example.co.uk", "o'brien+tag@sub.example.co.uk"),
    ("first.last-x_y=z@example.com", "first.last-x_y=z@example.com"),
    ('"john.doe"@example.com', '"john.doe"@example.com'),
    ('"a(b)c:d"@example.com', '"a(b)c:d"@example.com'),
    ("user@bücher.de", "user@bücher.de"),  # IDN domain, kept in Unicode
    ("user@BÜCHER.de", "user@bücher.de"),
    ("δοκιμή@παράδειγμα.δοκιμή", "δοκιμή@παράδειγμα.δοκιμή"),  # RFC 6531 local part
    ("jürgen@example.de", "jürgen@example.de"),
    ("a..b@docomo.ne.jp", "a..b@docomo.ne.jp"),  # carriers issued such addresses
    ("user@example.com.", "user@example.com"),
    ("postmaster@localhost", "postmaster@localhost"),
    ("x" * 64 + "@example.com", "x" * 64 + "@example.com"),
    ("a@" + ("b" * 63 + ".") * 3 + "c" * 57, "a@" + ("b" * 63 + ".") * 3 + "c" * 57),
    # Not addresses.
    ('"v1@a.example,v2@b.example"@x.example', None),  # the reflector
    ('"v1,v2"@x.example', None),
    ('"v1;v2"@x.example', None),
    ('"john doe"@example.com', None),
    ('"a\\"b"@example.com', None),
    ('"<a>"@example.com', None),
    ("a b@example.com", None),
    ("a\tb@example.com", None),
    ("a\x00b@example.com", None),
    ("a\u202eb@example.com", None),
    ("a\u200b@example.com", None),
    ("a,b@example.com", None),
    ("a@b@example.com", None),
    ("no-at-sign", None),
    ("@example.com", None),
    ("alice@", None),
    ("...@example.com", None),
    ("x" * 65 + "@example.com", None),  # local part over 64
    ("ü" * 33 + "@example.com", None),  # 66 octets of UTF-8
    ("a@" + "b" * 64 + ".com", None),  # label over 63
    ("a@" + ("b" * 62 + ".") * 4 + "com", None),  # over 254 in all
    ("a@-example.com", None),
    ("a@example-.com", None),
    ("a@exa_mple.com", None),
    ("a@example..com", None),
    ("a@[192.0.2.1]", None),  # address literals are refused
    ("a@" + "ü" * 60 + ".de", None),  # its xn-- form is longer than 63
    ("a@exam\u200bple.com", None),
]


@pytest.mark.parametrize(("raw", "expected"), ADDRESSES)
def test_strict_email(raw: str, expected: str | None) -> None:
    assert strict_email(raw) == expected


LINES = [
    ("plain", "plain"),
    ("a\r\nb\tc", "a b c"),
    ("  many   spaces  ", "many spaces"),
    ("paypal\u202ecom.exe", "paypalcom.exe"),  # right-to-left override
    ("a\u200eb\u200fc\u061cd", "abcd"),  # marks
    ("a\u2066b\u2067c\u2068d\u2069", "abcd"),  # isolates
    ("zero\u200bwidth\u200c\u200d\u2060\ufeff", "zerowidth"),
    ("line\u2028sep\u2029x", "line sep x"),
    ("nul\x00bell\x07", "nul bell"),
    ("lone \ud834 surrogate", "lone \ufffd surrogate"),
    ("escaped \udcff byte", "escaped \ufffd byte"),
    ("emoji 😀 stays", "emoji 😀 stays"),
    ("שלום עולם", "שלום עולם"),  # right-to-left text itself is fine
]


@pytest.mark.parametrize(("raw", "expected"), LINES)
def test_clean_line(raw: str, expected: str) -> None:
    assert clean_line(raw, 1000) == expected


@pytest.mark.parametrize(
    ("length", "limit"), [(10, 10), (11, 10), (5000, 1000), (8000, 1000), (1_000_000, 1000)]
)
def test_clean_line_cuts_with_an_ellipsis(length: int, limit: int) -> None:
    cut = clean_line("x" * length, limit)
    assert len(cut) == min(length, limit)
    assert cut.endswith("…") is (length > limit)


def test_clean_line_reads_only_a_window_of_a_huge_value() -> None:
    """Past 8 x limit characters nothing is read; what hid the start is still marked as cut."""
    assert clean_line("\u202e" * 100 + "abc", 10) == "…"
    assert clean_line(" " * 50 + "abc", 10) == "abc"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ok", "ok"), ("\ud800", "\ufffd"), ("a\udcffb\udfff", "a\ufffdb\ufffd"), ("😀", "😀")],
)
def test_replace_surrogates(raw: str, expected: str) -> None:
    assert replace_surrogates(raw) == expected


def attachment(**overrides: object) -> ParsedAttachment:
    values: dict[str, object] = {
        "filename": "a.pdf",
        "content_type": "application/pdf",
        "content": b"%PDF",
    }
    values.update(overrides)
    return ParsedAttachment(**values)  # type: ignore[arg-type]


def ids(count: int) -> tuple[str, ...]:
    return tuple(f"<id{i}@example.com>" for i in range(count))


LONG_ID = "<" + "x" * 1000 + "@example.com>"

# (name, changes to BASE, field, expected value, expected defect fragment or None)
RULES: list[tuple[str, dict[str, object], str, object, str | None]] = [
    (
        "id-998-kept",
        {"message_id": "<" + "x" * 984 + "@example.com>"},
        "message_id",
        "<" + "x" * 984 + "@example.com>",
        None,
    ),
    (
        "id-over-998-dropped",
        {"message_id": LONG_ID},
        "message_id",
        None,
        "Message-ID: an id of 1014 characters dropped",
    ),
    (
        "in-reply-to-long-dropped",
        {"in_reply_to": (LONG_ID, "<a@x>")},
        "in_reply_to",
        ("<a@x>",),
        "In-Reply-To: an id",
    ),
    ("in-reply-to-10", {"in_reply_to": ids(50)}, "in_reply_to", ids(10), None),
    ("references-100-kept", {"references": ids(100)}, "references", ids(100), None),
    (
        "references-first-and-last-99",
        {"references": ids(50_000)},
        "references",
        (ids(1)[0], *ids(50_000)[-99:]),
        "References: 50000 ids, the first and the last 99 kept",
    ),
    (
        "references-long-dropped",
        {"references": (LONG_ID, "<a@x>")},
        "references",
        ("<a@x>",),
        "References: an id of 1014",
    ),
    ("bounce-ids-100", {"bounce_message_ids": ids(150)}, "bounce_message_ids", ids(100), None),
    (
        "bounce-id-long-dropped",
        {"bounce_message_ids": (LONG_ID,)},
        "bounce_message_ids",
        (),
        "bounce report: an id",
    ),
    (
        "sender-invalid",
        {"sender": Address("Eve", '"a@b,c@d"@x.example')},
        "sender",
        None,
        "From address dropped",
    ),
    (
        "sender-name-bidi",
        {"sender": Address("Ev\u202ee", "eve@example.com")},
        "sender",
        Address("Eve", "eve@example.com"),
        None,
    ),
    (
        "sender-name-200",
        {"sender": Address("n" * 500, "eve@example.com")},
        "sender",
        Address("n" * 199 + "…", "eve@example.com"),
        None,
    ),
    (
        "reply-to-invalid",
        {"reply_to": Address("", "x" * 300 + "@example.com")},
        "reply_to",
        None,
        "Reply-To address dropped",
    ),
    (
        "to-100",
        {"to": tuple(Address("", f"u{i}@example.com") for i in range(150))},
        "to",
        tuple(Address("", f"u{i}@example.com") for i in range(100)),
        "To: 150 addresses, the first 100 kept",
    ),
    (
        "cc-invalid-dropped",
        {"cc": (Address("", "a b@x"), Address("B", "b@example.com"))},
        "cc",
        (Address("B", "b@example.com"),),
        "Cc address dropped",
    ),
    (
        "delivered-to-lower-100",
        {"delivered_to": tuple(f"U{i}@Example.com" for i in range(150))},
        "delivered_to",
        tuple(f"u{i}@example.com" for i in range(100)),
        "delivery headers: 150 addresses",
    ),
    ("subject-1000", {"subject": "s" * 5000}, "subject", "s" * 999 + "…", None),
    (
        "subject-controls-bidi",
        {"subject": "Re:\u202e \x07hello\u200b"},
        "subject",
        "Re: hello",
        None,
    ),
    (
        "subject-prefix-flood",
        {"subject": "Re: Fwd: AW: WG: SV: " * 10_000 + "The printer"},
        "subject",
        "Re: Fwd: AW: WG: SV: Re: Fwd: AW: WG: SV: The printer",
        None,
    ),
    (
        "subject-ten-prefixes-kept",
        {"subject": "Re: " * 10 + "x"},
        "subject",
        "Re: " * 10 + "x",
        None,
    ),
    ("subject-surrogate", {"subject": "Hi \ud834"}, "subject", "Hi \ufffd", None),
    (
        "text-surrogate-and-nul",
        {"text": "a\ud834b\x00c\n\u202ed"},
        "text",
        "a\ufffdbc\n\u202ed",
        None,
    ),
    ("html-surrogate", {"html": "<p>\udcff</p>"}, "html", "<p>\ufffd</p>", None),
    (
        "automatic-reason-line",
        {"automatic_reason": "x-autoreply\r\nBcc: x"},
        "automatic_reason",
        "x-autoreply Bcc: x",
        None,
    ),
    (
        "incomplete-line",
        {"incomplete": "too\nlarge " + "z" * 500},
        "incomplete",
        "too large " + "z" * 289 + "…",
        None,
    ),
    (
        "omitted-100",
        {"omitted_attachments": tuple(f"f{i}" for i in range(150))},
        "omitted_attachments",
        (*(f"f{i}" for i in range(99)), "and 51 more"),
        None,
    ),
    (
        "omitted-name-cut",
        {"omitted_attachments": ("o" * 400,)},
        "omitted_attachments",
        ("o" * 255,),
        None,
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "expected", "defect"),
    [rule[1:] for rule in RULES],
    ids=[rule[0] for rule in RULES],
)
def test_normalise_rule(
    changes: dict[str, object], field: str, expected: object, defect: str | None
) -> None:
    mail = replace(BASE, **changes)  # type: ignore[arg-type]
    normal = normalise_mail(mail)
    assert getattr(normal, field) == expected
    if defect is None:
        assert normal.defects == BASE.defects
    else:
        assert any(defect in d for d in normal.defects), normal.defects
    assert limit_violations(normal) == []


ATTACHMENTS = [
    ("filename-kept", {"filename": "Übersicht 2026.pdf"}, "filename", "Übersicht 2026.pdf"),
    ("filename-controls", {"filename": "a\u202efdp.exe\x00"}, "filename", "afdp.exe"),
    ("filename-surrogate", {"filename": "\ud834.pdf"}, "filename", "\ufffd.pdf"),
    ("filename-255-bytes", {"filename": "ä" * 200 + ".pdf"}, "filename", "ä" * 125 + ".pdf"),
    ("filename-no-extension", {"filename": "x" * 300}, "filename", "x" * 255),
    ("type-lower", {"content_type": " Image/PNG "}, "content_type", "image/png"),
    (
        "type-vendor",
        {"content_type": "application/vnd.ms-excel.sheet+xml"},
        "content_type",
        "application/vnd.ms-excel.sheet+xml",
    ),
    ("type-garbage", {"content_type": "not a type"}, "content_type", "application/octet-stream"),
    (
        "type-params",
        {"content_type": "text/plain; charset=x"},
        "content_type",
        "application/octet-stream",
    ),
    ("type-long", {"content_type": "a/" + "b" * 300}, "content_type", "application/octet-stream"),
    ("type-non-ascii", {"content_type": "imäge/png"}, "content_type", "application/octet-stream"),
    ("cid-kept", {"content_id": "part1.abc@example.com"}, "content_id", "part1.abc@example.com"),
    ("cid-long-dropped", {"content_id": "c" * 256}, "content_id", None),
    ("cid-empty-dropped", {"content_id": "\u200b"}, "content_id", None),
]


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [case[1:] for case in ATTACHMENTS],
    ids=[case[0] for case in ATTACHMENTS],
)
def test_normalise_attachment(changes: dict[str, object], field: str, expected: object) -> None:
    normal = normalise_mail(replace(BASE, attachments=(attachment(**changes),)))
    [part] = normal.attachments
    assert getattr(part, field) == expected
    assert part.content == b"%PDF"
    assert limit_violations(normal) == []


@pytest.mark.parametrize(
    ("defects", "expected"),
    [
        (("a", "a", "b"), ("a", "b")),
        (("x" * 300,), ("x" * 199 + "…",)),
        (("bad\ud834\r\nline",), ("bad\ufffd line",)),
        (
            tuple(f"d{i}" for i in range(80)),
            (*(f"d{i}" for i in range(49)), "and 31 more defects not listed"),
        ),
        (("", " "), ()),
    ],
    ids=["duplicates", "long", "surrogate", "many", "empty"],
)
def test_normalise_defects(defects: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert normalise_mail(replace(BASE, defects=defects)).defects == expected


def test_limit_violations_finds_what_normalisation_removes() -> None:
    hostile = replace(
        BASE,
        subject="s\ud834" + "s" * 2000,
        references=ids(200),
        sender=Address("n", "x" * 400 + "@example.com"),
        attachments=(attachment(filename="f" * 300),),
    )
    found = limit_violations(hostile)
    assert {f.split(":")[0] for f in found} == {
        "subject",
        "references",
        "sender.email",
        "attachments[].filename",
    }
    assert limit_violations(normalise_mail(hostile)) == []


def test_values_at_walks_paths() -> None:
    mail = replace(BASE, cc=(Address("A", "a@x.example"), Address("B", "b@x.example")))
    assert values_at(mail, "cc[].email") == ["a@x.example", "b@x.example"]
    assert values_at(mail, "reply_to.email") == []
    assert values_at(mail, "subject") == [BASE.subject]
    assert all(values_at(BASE, rule.path) is not None for rule in FIELD_LIMITS)


def test_a_normal_mail_is_left_as_it_is() -> None:
    assert normalise_mail(BASE) == BASE
    assert limit_violations(BASE) == []


text_with_hazards = st.text(
    st.characters(codec=None, categories=None)
    | st.sampled_from(["\ud834", "\u202e", "\x00", "\u200b", ",", "@", '"']),
    max_size=300,
)


@settings(max_examples=200, deadline=None)
@given(
    subject=text_with_hazards,
    name=text_with_hazards,
    email=text_with_hazards,
    text=text_with_hazards,
    filename=text_with_hazards,
    content_type=text_with_hazards,
    defect=text_with_hazards,
)
def test_normalisation_is_total_idempotent_and_within_limits(
    subject: str, name: str, email: str, text: str, filename: str, content_type: str, defect: str
) -> None:
    mail: ParsedMail = replace(
        BASE,
        subject=subject,
        sender=Address(name, email),
        to=(Address(name, email),),
        text=text,
        attachments=(attachment(filename=filename, content_type=content_type),),
        defects=(defect,),
        automatic_reason=defect,
    )
    normal = normalise_mail(mail)
    assert limit_violations(normal) == []
    assert normalise_mail(normal) == normal


def test_a_from_that_is_not_an_address_gives_way_to_sender() -> None:
    raw = make_mail(
        verbatim={"From": "x" * 400 + "@example.com", "Sender": "Real <real@example.com>"}
    )
    parsed = parse_mail(raw)
    assert parsed.sender == Address("Real", "real@example.com")
    assert "header From: an invalid address was ignored" in parsed.defects
