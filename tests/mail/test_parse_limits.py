"""parse_mail honours mail.limits (SPEC "Hostile mail"): parts, attachments, HTML, size.

Each limit bounds the work, not only the result: the parts past `max_parts` are
never handed to the stdlib parser, the attachments past `max_attachments` are
never decoded, the HTML past `max_html_bytes` is never converted, and a mail
past `max_message_bytes` has only its header block read.
"""

from __future__ import annotations

import pytest

from mail.field_limits import limit_violations
from mail.limits import MIB, ParseLimits
from mail.mime import FEED_CHARS, MAX_PARAM_CHARS, BoundedMessage, read_message
from mail.parse import HEADER_BLOCK_BYTES, parse_headers_only, parse_mail
from tests.support.make_mail import make_mail
from tests.support.tnef import build_tnef

PART = b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n"


def many_parts(count: int, *, close: bool = True) -> bytes:
    head = (
        b"From: a@b.example\r\nSubject: many\r\nMessage-ID: <many@b.example>\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    )
    return head + b"".join(PART % i for i in range(count)) + (b"--b--\r\n" if close else b"")


def skipped_defects(defects: tuple[str, ...]) -> list[str]:
    return [d for d in defects if "mail.limits.max_parts" in d]


@pytest.mark.parametrize(
    ("parts", "max_parts", "read", "skipped"),
    [
        (3, 10, 3, 0),  # 4 parts with the root: all read
        (9, 10, 9, 0),  # exactly 10
        (10, 10, 9, 1),  # the root and 9 children read; the 10th child past the limit
        (10_000, 500, 499, 9501),
        (10_000, 1, 0, 10_000),  # only the root
    ],
)
def test_parts_past_max_parts_are_counted_not_read(
    parts: int, max_parts: int, read: int, skipped: int
) -> None:
    parsed = parse_mail(many_parts(parts), ParseLimits(max_parts=max_parts))
    assert parsed.text.count("part ") == read
    expected = (
        [f"{skipped} MIME parts past the first {max_parts} not read (mail.limits.max_parts)"]
        if skipped
        else []
    )
    assert skipped_defects(parsed.defects) == expected
    assert not any("closing boundary missing" in d for d in parsed.defects)
    assert parsed.subject == "many"
    assert parsed.incomplete == (
        f"{skipped} of its MIME parts were not read (mail.limits.max_parts)" if skipped else None
    )


def test_the_stdlib_parser_stops_soon_after_max_parts() -> None:
    """The work is bounded: a 10 000-part mail builds no more parts than a few feeds hold."""
    message, unread = read_message(many_parts(10_000), 500)
    built = sum(1 for _ in message.walk())
    most_per_feed = FEED_CHARS // len(PART % 0) + 2
    assert 500 < built <= 500 + most_per_feed
    assert built + unread == 10_001


def test_a_mail_within_max_parts_is_read_whole_by_read_message() -> None:
    message, unread = read_message(many_parts(20), 500)
    assert (sum(1 for _ in message.walk()), unread) == (21, 0)


def test_a_missing_closing_boundary_is_still_reported_when_all_was_read() -> None:
    parsed = parse_mail(many_parts(3, close=False))
    assert any("closing boundary missing" in d for d in parsed.defects)


def test_parts_recovered_with_a_guessed_boundary_are_bounded_too() -> None:
    raw = (
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=never\r\n\r\n"
        + b"".join(PART % i for i in range(2000))
        + b"--b--\r\n"
    )
    parsed = parse_mail(raw, ParseLimits(max_parts=50))
    assert "MIME parts recovered with a boundary guessed from the body" in parsed.defects
    assert parsed.text.count("part ") == 49
    [defect] = skipped_defects(parsed.defects)
    assert defect.startswith("1951 MIME parts past the first 50")


def files(count: int, name: str = "file{}.pdf") -> list[tuple[str, str, bytes]]:
    return [(name.format(i), "application/pdf", b"%PDF-" + str(i).encode()) for i in range(count)]


@pytest.mark.parametrize(
    ("count", "limit", "kept", "omitted"),
    [(3, 50, 3, 0), (50, 50, 50, 0), (51, 50, 50, 1), (60, 5, 5, 55), (300, 5, 5, 100)],
)
def test_attachments_past_max_attachments_are_named_not_kept(
    count: int, limit: int, kept: int, omitted: int
) -> None:
    parsed = parse_mail(make_mail(attachments=files(count)), ParseLimits(max_attachments=limit))
    assert [a.filename for a in parsed.attachments] == [f"file{i}.pdf" for i in range(kept)]
    assert [a.content for a in parsed.attachments][-1] == b"%PDF-" + str(kept - 1).encode()
    assert len(parsed.omitted_attachments) == omitted
    if omitted:
        assert parsed.omitted_attachments[0] == f"file{limit}.pdf"
        assert parsed.incomplete == (
            f"{count - limit} attachments were not kept (mail.limits.max_attachments)"
        )
        assert (
            f"{count - limit} attachments past the first {limit} not kept "
            "(mail.limits.max_attachments)"
        ) in parsed.defects
    else:
        assert not any("max_attachments" in d for d in parsed.defects)
        assert parsed.incomplete is None


def test_omitted_names_are_cut_to_255_characters() -> None:
    long_name = "x" * 400 + ".pdf"
    raw = make_mail(attachments=[*files(1), (long_name, "application/pdf", b"%PDF")])
    parsed = parse_mail(raw, ParseLimits(max_attachments=1))
    [name] = parsed.omitted_attachments
    assert len(name) == 255 and name.startswith("xxx")


def test_an_unnamed_omitted_part_is_described_by_its_type() -> None:
    image = b"--b\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\n\r\npng\r\n"
    raw = many_parts(1).replace(b"--b--", image * 2 + b"--b--")
    parsed = parse_mail(raw, ParseLimits(max_attachments=1))
    assert [a.content_type for a in parsed.attachments] == ["image/png"]
    assert parsed.omitted_attachments == ("unnamed image/png",)


def test_the_files_inside_a_winmail_dat_count_one_by_one() -> None:
    winmail = build_tnef([(f"f{i}.txt", b"text %d" % i) for i in range(4)])
    raw = make_mail(attachments=[("winmail.dat", "application/ms-tnef", winmail)])
    parsed = parse_mail(raw, ParseLimits(max_attachments=3))
    assert [a.filename for a in parsed.attachments] == ["f0.txt", "f1.txt", "f2.txt"]
    assert parsed.omitted_attachments == ("f3.txt",)


MARKER_END = "over the 1 kB limit (mail.limits.max_html_bytes).]"


def test_html_past_max_html_bytes_is_cut_before_conversion_with_a_marker() -> None:
    html = "<p>start</p>" + "<p>filler text</p>" * 500 + "<p>THE END</p>"
    parsed = parse_mail(make_mail(body=None, html=html), ParseLimits(max_html_bytes=1024))
    assert parsed.text.startswith("start")
    assert "THE END" not in parsed.text
    last_line = parsed.text.splitlines()[-1]
    assert last_line.startswith("[The rest of this message (")
    assert last_line.endswith(MARKER_END)
    assert parsed.html is not None and len(parsed.html.encode()) == 1024
    assert any("HTML body cut after 1 kB" in d for d in parsed.defects)
    assert (
        parsed.incomplete == "its HTML was converted only up to 1 kB (mail.limits.max_html_bytes)"
    )


def test_html_cut_keeps_whole_characters() -> None:
    html = "<p>" + "ä" * 2000 + "</p>"
    parsed = parse_mail(make_mail(body=None, html=html), ParseLimits(max_html_bytes=1024))
    assert parsed.html is not None
    assert len(parsed.html.encode()) == 1023  # "<p>" and 510 two-byte characters
    assert "\ufffd" not in parsed.text


def test_html_cut_beside_a_plain_text_body_leaves_the_text_alone() -> None:
    html = "<p>" + "y" * 5000 + "</p>"
    parsed = parse_mail(
        make_mail(body="The plain text.\n", html=html), ParseLimits(max_html_bytes=1024)
    )
    assert parsed.text == "The plain text."
    assert parsed.html is not None and len(parsed.html) == 1024
    assert any("HTML body cut" in d for d in parsed.defects)
    assert parsed.incomplete is None  # the text is whole


def test_html_within_max_html_bytes_is_untouched() -> None:
    parsed = parse_mail(make_mail(body=None, html="<p>short</p>"), ParseLimits(max_html_bytes=1024))
    assert parsed.text == "short"
    assert not any("max_html_bytes" in d for d in parsed.defects)


@pytest.mark.parametrize(
    ("size", "limit", "reason"),
    [
        (
            3000,
            1024,
            "it is 3 kB, over the 1 kB limit (mail.limits.max_message_bytes)",
        ),
        (
            int(31.2 * MIB),
            25 * MIB,
            "it is 31.2 MB, over the 25 MB limit (mail.limits.max_message_bytes)",
        ),
        (
            25 * MIB + 10,
            25 * MIB,
            "it is 25.1 MB, over the 25 MB limit (mail.limits.max_message_bytes)",
        ),
    ],
)
def test_a_mail_past_max_message_bytes_is_read_from_its_headers(
    size: int, limit: int, reason: str
) -> None:
    raw = make_mail(
        subject="Holiday photos",
        to="Helpdesk <support@ticketbot.example>",
        cc="Bob <bob@example.com>",
        body="p",
    )
    raw += b"p" * (size - len(raw))
    parsed = parse_mail(raw, ParseLimits(max_message_bytes=limit))
    assert parsed.incomplete == reason
    assert (parsed.subject, parsed.message_id) == (
        "Holiday photos",
        "<20260115093000.1234@example.com>",
    )
    assert parsed.sender is not None and parsed.sender.email == "alice@example.com"
    assert [a.email for a in parsed.to] == ["support@ticketbot.example"]
    assert [a.email for a in parsed.cc] == ["bob@example.com"]
    assert (parsed.text, parsed.html, parsed.attachments) == ("", None, ())
    assert f"only the headers were read: {reason}" in parsed.defects


def test_a_mail_within_every_limit_is_complete() -> None:
    parsed = parse_mail(make_mail(attachments=files(2)))
    assert parsed.incomplete is None
    assert parsed.omitted_attachments == ()


HEADERS_ONLY = [
    ("plain", make_mail(subject="Hello"), "Hello", "alice@example.com"),
    (
        "lf-only",
        make_mail(subject="Unix").replace(b"\r\n", b"\n"),
        "Unix",
        "alice@example.com",
    ),
    (
        "no-blank-line",
        b"From: a@x.example\r\nSubject: only headers",
        "only headers",
        "a@x.example",
    ),
    (
        "subject-past-64k",
        b"From: a@x.example\r\n"
        + b"X-Filler: "
        + b"f" * HEADER_BLOCK_BYTES
        + b"\r\n"
        + b"Subject: too late\r\n\r\nbody",
        "",
        "a@x.example",
    ),
    ("garbage", b"\x00\xff\xfe\r\n\r\n\x80", "", None),
    ("empty", b"", "", None),
]


@pytest.mark.parametrize(
    ("raw", "subject", "sender"),
    [case[1:] for case in HEADERS_ONLY],
    ids=[case[0] for case in HEADERS_ONLY],
)
def test_parse_headers_only(raw: bytes, subject: str, sender: str | None) -> None:
    parsed = parse_headers_only(raw, "reading it took longer than 5 s")
    assert parsed.subject == subject
    assert (parsed.sender.email if parsed.sender else None) == sender
    assert parsed.incomplete == "reading it took longer than 5 s"
    assert (parsed.text, parsed.attachments) == ("", ())
    assert limit_violations(parsed) == []


def test_parse_headers_only_reads_no_body() -> None:
    raw = make_mail(subject="Report", body="secret body text\n")
    parsed = parse_headers_only(raw, "the parser failed on it (crash: exit status 1)")
    assert "secret" not in parsed.text
    assert parsed.digest == parse_mail(raw).digest


def test_parse_headers_only_still_recognises_a_bounce_and_automatic_mail() -> None:
    raw = make_mail(
        from_="MAILER-DAEMON@mx.example.net",
        subject="Undelivered Mail Returned to Sender",
        headers={"Auto-Submitted": "auto-replied"},
    )
    parsed = parse_headers_only(raw, "too large")
    assert parsed.is_bounce and parsed.is_automatic
    assert parsed.automatic_reason == "auto-submitted: auto-replied"


def test_every_limit_hit_is_in_incomplete() -> None:
    raw = make_mail(body=None, html="<p>" + "h" * 5000 + "</p>", attachments=files(3))
    parsed = parse_mail(raw, ParseLimits(max_attachments=1, max_html_bytes=1024))
    assert parsed.incomplete == (
        "its HTML was converted only up to 1 kB (mail.limits.max_html_bytes); "
        "2 attachments were not kept (mail.limits.max_attachments)"
    )


def test_parts_nested_too_deep_make_the_mail_incomplete() -> None:
    head = b"From: a@b.example\r\nSubject: deep\r\n"
    parts = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
        for level in range(60)
    )
    closing = b"".join(f"--b{level}--\r\n".encode() for level in reversed(range(60)))
    raw = head + parts + b"Content-Type: text/plain\r\n\r\ninnermost\r\n" + closing
    parsed = parse_mail(raw)
    assert parsed.incomplete == "20 of its MIME parts, nested more than 40 deep, were not read"


PARAMETER_FLOODS = [
    ('text/plain; charset="utf-8' + ";" * 200_000 + '"', "text/plain"),
    ("text/plain; charset=utf-8" + "; p=v" * 100_000, "text/plain"),
]


@pytest.mark.parametrize(("content_type", "expected"), PARAMETER_FLOODS, ids=["quote", "many"])
def test_parameters_are_read_from_the_first_8192_characters(
    content_type: str, expected: str
) -> None:
    """The stdlib's parameter parser is quadratic; it never sees more than MAX_PARAM_CHARS."""
    raw = make_mail(body="Hello.\n", verbatim={"Content-Type": content_type})
    parsed = parse_mail(raw)
    assert parsed.text == "Hello."
    assert parsed.subject == "Printer on floor 3 is broken"


def test_a_bounded_message_reads_only_the_start_of_a_parameter_header() -> None:
    message = BoundedMessage()
    message["Content-Type"] = "multipart/mixed; " + "p=v; " * 3000 + 'boundary="late"'
    message["X-Long"] = "x" * 20_000
    assert len(message.get("content-type")) == MAX_PARAM_CHARS
    assert message.get_boundary() is None  # past the window: guessed from the body instead
    assert len(message["X-Long"]) == 20_000  # other headers are whole
    assert len(next(iter(message.raw_items()))[1]) > MAX_PARAM_CHARS  # and so is the raw one
