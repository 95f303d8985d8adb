"""Body selection, HTML conversion, format=flowed and attachment extraction."""

from __future__ import annotations

import os

import pytest

from mail import html_text
from mail.flowed import unflow
from mail.html_text import MAX_HTML2TEXT_TAGS, html_to_text
from mail.parse import parse_mail
from tests.support.make_mail import make_mail

HTML_CASES = [
    ("<p>Hello <b>World</b></p>", ["Hello World"], ["<p>", "**"]),
    (
        '<a href="https://x.example/a?b=1&amp;c=2">link</a>',
        ["[link](https://x.example/a?b=1&c=2)"],
        [],
    ),
    ("<script>alert(1)</script><p>text</p>", ["text"], ["alert"]),
    ("<SCRIPT type=x>alert(1)</SCRIPT >visible", ["visible"], ["alert"]),
    ("<p>before</p><script>never closed", ["before"], ["never closed"]),
    ("<style>p { color: red }</style><p>styled</p>", ["styled"], ["color"]),
    ("<head><title>Title</title></head><body>body</body>", ["body"], ["Title"]),
    ("<html><head><meta charset=utf-8><body>no head close", ["no head close"], []),
    ("<!--[if mso]>MSO<![endif]--><p>all clients</p>", ["all clients"], ["MSO"]),
    ('<img src="https://t.example/p.gif" width="1" height="1"><p>x</p>', ["x"], ["p.gif", "!["]),
    ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", ["a b", "c"], ["|", "---"]),
    ("<ul><li>one</li><li>two</li></ul>", ["* one", "* two"], []),
    (
        "<p>1. not a list</p><p>- dash</p><p>\\back</p>",
        ["1. not a list", "- dash", "\\back"],
        ["1\\.", "\\-"],
    ),
    ("<p>caf&eacute; &amp; cr&egrave;me&nbsp;br&ucirc;l&eacute;e</p>", ["café & crème brûlée"], []),
    ("<p>&lt;!channel&gt; &lt;@U123&gt;</p>", ["<!channel> <@U123>"], []),
    ("line<br>break<br/>again", ["line\nbreak\nagain"], []),
    ("plain text without tags", ["plain text without tags"], []),
    ("<p class=x>my id = 42, width = 3</p>", ["my id = 42, width = 3"], []),
    ("", [], []),
]


@pytest.mark.parametrize(("markup", "present", "absent"), HTML_CASES)
def test_html_to_text(markup: str, present: list[str], absent: list[str]) -> None:
    text = html_to_text(markup)
    for fragment in present:
        assert fragment in text
    for fragment in absent:
        assert fragment not in text
    assert "  \n" not in text  # no Markdown hard-break spaces


BIG_HTML = (
    "<style>p {color: red}</style><script>alert(1)</script>"
    + '<p>Row <a href="https://x.example/r?a=1&amp;b=2">the <b>link</b></a> &amp; more</p>\n'
    * (MAX_HTML2TEXT_TAGS // 2)
    + "<ul><li>last item</li></ul>"
)


def test_large_html_uses_the_fast_conversion_with_the_same_guarantees() -> None:
    assert BIG_HTML.count("<") > MAX_HTML2TEXT_TAGS
    text = html_to_text(BIG_HTML)
    assert "Row [the link](https://x.example/r?a=1&b=2) & more\n\nRow" in text
    assert "* last item" in text
    assert "alert" not in text
    assert "color" not in text
    assert "<" not in text


def test_html2text_failure_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(markup: str) -> str:
        raise AssertionError("html2text crashed")

    monkeypatch.setattr(html_text, "_convert", broken)
    assert html_to_text("<p>still <a href='https://x.example'>readable</a></p>") == (
        "still [readable](https://x.example)"
    )


FLOWED = [
    ("one \ntwo\n", False, "one two\n"),
    ("one \ntwo", True, "onetwo"),
    ("no flow\nhere", False, "no flow\nhere"),
    ("> quoted \n> more\n", False, "> quoted more\n"),
    (">> deep \n>> deeper\n> shallow", False, ">> deep deeper\n> shallow"),
    ("> quoted \nnot quoted", False, "> quoted \nnot quoted"),
    (" >stuffed", False, ">stuffed"),
    ("-- \nsig", False, "-- \nsig"),
    ("ends flowed ", False, "ends flowed "),
    ("", False, ""),
]


@pytest.mark.parametrize(("text", "delsp", "expected"), FLOWED)
def test_unflow(text: str, delsp: bool, expected: str) -> None:
    assert unflow(text, delsp=delsp) == expected


def test_plain_text_preferred_over_html() -> None:
    parsed = parse_mail(make_mail(body="plain words\n", html="<p>html words</p>"))
    assert parsed.text == "plain words"
    assert parsed.html is not None
    assert "html words" in parsed.html


def test_html_only_is_converted() -> None:
    parsed = parse_mail(make_mail(body=None, html="<p>only <i>html</i></p>"))
    assert parsed.text == "only html"
    assert parsed.html == "<p>only <i>html</i></p>\n"


def test_empty_plain_alternative_defers_to_html() -> None:
    parsed = parse_mail(make_mail(body="\n", html="<p>the real content</p>"))
    assert parsed.text == "the real content"


def test_newlines_normalised_and_controls_removed() -> None:
    raw = (
        b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"one\r\ntwo\rthree\x00\x07\x1b four\r\n"
    )
    assert parse_mail(raw).text == "one\ntwo\nthree four"


def test_attachment_names_default_by_type() -> None:
    raw = (
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        b"--b\r\nContent-Type: application/ms-tnef\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\neJ8+Ig==\r\n"
        b"--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n\r\nraw\r\n"
        b"--b--\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.text == "body"
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("winmail.dat", "application/ms-tnef"),
        ("invite.ics", "text/calendar"),
        ("message.eml", "message/rfc822"),
        ("", "application/octet-stream"),
    ]
    assert parsed.attachments[0].content == b"\x78\x9f\x3e\x22"
    assert parsed.attachments[2].content.startswith(b"Subject: inner")


def test_attachments_from_the_factory_round_trip() -> None:
    payload = os.urandom(3000)
    inner = make_mail(subject="inner subject", message_id="<inner@example.com>")
    parsed = parse_mail(
        make_mail(
            attachments=[
                ("data.bin", "application/octet-stream", payload),
                ("fwd.eml", "message/rfc822", inner),
            ]
        )
    )
    assert [a.filename for a in parsed.attachments] == ["data.bin", "fwd.eml"]
    assert parsed.attachments[0].content == payload
    assert parse_mail(parsed.attachments[1].content).message_id == "<inner@example.com>"
    assert parse_mail(parsed.attachments[1].content).subject == "inner subject"


def test_inline_image_with_content_id() -> None:
    raw = (
        b"From: a@b.example\r\nContent-Type: multipart/related; boundary=r\r\n\r\n"
        b'--r\r\nContent-Type: text/html\r\n\r\n<img src="cid:logo">hi\r\n'
        b"--r\r\nContent-Type: image/gif\r\nContent-ID: < logo >\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"R0lGODlhAQABAAAAACw=\r\n--r--\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.text == "hi"
    (image,) = parsed.attachments
    assert image.content_id == "logo"
    assert image.is_inline
    assert image.content.startswith(b"GIF89a")


def test_related_start_parameter_picks_the_root() -> None:
    raw = (
        b'From: a@b.example\r\nContent-Type: multipart/related; boundary=r; start="<root>"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\nContent-ID: <other>\r\n\r\nnot the root\r\n"
        b"--r\r\nContent-Type: text/html\r\nContent-ID: <root>\r\n\r\n<p>the root</p>\r\n"
        b"--r--\r\n"
    )
    assert parse_mail(raw).text == "the root"


def test_sender_falls_back_to_sender_header() -> None:
    parsed = parse_mail(make_mail(from_=None, headers={"Sender": "Robot <robot@Example.NET>"}))
    assert parsed.sender is not None
    assert parsed.sender.email == "robot@example.net"
    assert "header From missing" in parsed.defects


def test_unparseable_from_falls_back_and_says_so() -> None:
    raw = b"From: just some words\r\nSender: real@example.net\r\n\r\nbody"
    parsed = parse_mail(raw)
    assert parsed.sender is not None
    assert parsed.sender.email == "real@example.net"
    assert "header From unparseable" in parsed.defects


def test_quoted_printable_and_base64_tolerate_damage() -> None:
    raw = (
        b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nR3LDvMOfZS\r\n!!!\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.text == "Grüße"
    assert any("base64" in defect for defect in parsed.defects)


@pytest.mark.parametrize(
    "raw",
    [
        make_mail(body="Hello there, this is a line of text.\n" * 3000),
        make_mail(attachments=[("a.bin", "application/octet-stream", os.urandom(75_000))]),
        make_mail(
            body=None,
            html="<div><p>Para with <a href='https://x.example'>link</a>.</p></div>\n" * 1500,
        ),
        make_mail(
            body=None,
            html=(  # six tags a line: 100 kB just below the html2text tag limit
                "<div style='font-family:Arial;margin:0'><p class='MsoNormal'>A paragraph of"
                " text with <a href='https://x.example/a'>a link</a> and more words, enough"
                " to make a realistic line of prose in a customer's mail.</p></div>\n"
            )
            * (MAX_HTML2TEXT_TAGS // 6 - 10),
        ),
    ],
    ids=["plain", "attachment", "html-only-many-tags", "html-only-html2text"],
)
def test_100kb_mails_are_read_whole(raw: bytes) -> None:
    # How long they take is measured by `python -m tests.bench.bench_parse`.
    assert 100_000 <= len(raw) < 130_000
    parsed = parse_mail(raw)
    assert parsed.incomplete is None
    assert parsed.text.strip()
    assert not [defect for defect in parsed.defects if "limit" in defect or "budget" in defect]
