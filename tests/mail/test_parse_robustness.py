"""parse_mail keeps its never-raises promise section by section, and on hostile structure."""

from __future__ import annotations

from email.message import Message

import pytest

from mail import parse as parse_module
from mail.parse import content_digest, parse_mail
from tests.support.make_mail import make_mail


def nested_multipart(depth: int) -> bytes:
    head = b"From: a@b.example\r\nSubject: deep\r\n"
    parts = b""
    for level in range(depth):
        parts += (
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
        )
    parts += b"Content-Type: text/plain\r\n\r\ninnermost\r\n"
    for level in reversed(range(depth)):
        parts += f"--b{level}--\r\n".encode()
    return head + parts


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"\x00" * 100,
        b"Subject: only a header",
        b"Subject: =?utf-8?q?" + b"A" * 100_000 + b"?=\r\n\r\nbody",
        b"X-Long: " + b"x " * 50_000 + b"\r\n\r\nbody",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n",
        b"Content-Type: text/plain; charset=unicode-escape\r\n\r\n\\u0041\\x00",
        b'Content-Type: text/plain; charset="utf-8\x00"\r\n\r\nGr\xc3\xbc\xc3\x9fe \xff',
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!",
        b"Content-Type: application/pdf; name*",
        nested_multipart(100),
    ],
    ids=[
        "empty",
        "only-separator",
        "nuls",
        "only-header",
        "huge-encoded-word",
        "huge-header",
        "empty-boundary",
        "unicode-escape-charset",
        "nul-in-charset",
        "base64-message",
        "truncated-parameter",
        "nested-100",
    ],
)
def test_hostile_input_gives_a_result(raw: bytes) -> None:
    parsed = parse_mail(raw)
    assert parsed.digest == content_digest(raw)
    assert "\x00" not in parsed.text
    assert not any("message unreadable" in defect for defect in parsed.defects)


def test_unicode_escape_charset_is_not_interpreted() -> None:
    raw = b"Content-Type: text/plain; charset=unicode-escape\r\n\r\n\\u0041"
    assert parse_mail(raw).text == "\\u0041"


def test_nul_in_charset_parameter_still_decodes() -> None:
    raw = b'Content-Type: text/plain; charset="utf-8\x00"\r\n\r\nGr\xc3\xbc\xc3\x9fe'
    assert parse_mail(raw).text == "Grüße"


def test_deep_nesting_is_cut_off_with_a_defect() -> None:
    parsed = parse_mail(nested_multipart(100))
    assert "MIME nesting too deep, inner parts ignored" in parsed.defects
    assert parse_mail(nested_multipart(10)).text == "innermost"


def test_unsplittable_mail_is_read_as_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_parser(raw: bytes, max_parts: int) -> tuple[Message, int]:
        raise IndexError("parser bug")

    monkeypatch.setattr(parse_module, "read_message", failing_parser)
    parsed = parse_mail(b"Subject: x\r\n\r\nthe body")
    assert "MIME structure unreadable (IndexError), read as plain text" in parsed.defects
    assert "the body" in parsed.text


def test_truncated_parameter_that_breaks_policy_default_is_read() -> None:
    """Python 3.11's policy.default raises IndexError on this Content-Type."""
    raw = (
        b"From: a@b.example\r\nSubject: cut\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
        b"--x\r\nContent-Type: application/pdf;\r\n name*"
    )
    parsed = parse_mail(raw)
    assert parsed.subject == "cut"
    assert parsed.text == "first part"
    assert [a.content_type for a in parsed.attachments] == ["application/pdf"]


def test_a_failing_section_does_not_lose_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(parse_module, "extract_attachments", broken)
    parsed = parse_mail(make_mail(attachments=[("a.pdf", "application/pdf", b"%PDF")]))
    assert "attachments unreadable (RuntimeError)" in parsed.defects
    assert parsed.attachments == ()
    assert "prints blank pages" in parsed.text
    assert parsed.subject == "Printer on floor 3 is broken"


def test_total_failure_still_returns_a_mail_with_its_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> object:
        raise MemoryError

    monkeypatch.setattr(parse_module, "_parse", broken)
    raw = make_mail()
    parsed = parse_mail(raw)
    assert parsed.digest == content_digest(raw)
    assert parsed.subject == ""
    assert parsed.defects == ("message unreadable (MemoryError); only the raw mail is kept",)


def test_bytearray_and_memoryview_are_accepted() -> None:
    raw = make_mail()
    expected = parse_mail(raw)
    assert parse_mail(bytearray(raw)) == expected  # type: ignore[arg-type]
    assert parse_mail(memoryview(raw)) == expected  # type: ignore[arg-type]


def test_parse_is_deterministic_and_pure() -> None:
    raw = make_mail(html="<p>x</p>", attachments=[("a.txt", "text/plain", b"a")])
    assert parse_mail(raw) == parse_mail(raw)
