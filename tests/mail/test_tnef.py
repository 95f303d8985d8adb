"""winmail.dat (TNEF) from Outlook: the files inside become the mail's attachments; what
cannot be unpacked stays winmail.dat, with a defect, and never fails the parse."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.parse import parse_mail
from mail.tnef import unpack_tnef
from tests.support.make_mail import make_mail
from tests.support.tnef import (
    ATT_ATTACH_DATA,
    ATT_ATTACH_REND_DATA,
    ATT_ATTACH_TITLE,
    ATT_ATTACHMENT,
    LVL_ATTACHMENT,
    MV,
    PR_ATTACH_DATA_OBJ,
    PR_ATTACH_LONG_FILENAME,
    PR_ATTACH_SIZE,
    PT_LONG,
    PT_UNICODE,
    build_tnef,
    mapi,
    mapi_binary,
    mapi_property,
    tnef_object,
    tnef_stream,
)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"
NOTES = "Notizen für Montag\n".encode("cp1252")


def outlook_mail(winmail: bytes) -> bytes:
    return make_mail(
        subject="Meeting notes",
        body="Notes are in the attachment.\n",
        attachments=[("winmail.dat", "application/ms-tnef", winmail)],
    )


def test_the_files_inside_replace_winmail_dat() -> None:
    winmail = build_tnef([("report.pdf", PDF), ("Übersicht.txt", NOTES)])
    parsed = parse_mail(outlook_mail(winmail))
    assert [(a.filename, a.content_type, a.content) for a in parsed.attachments] == [
        ("report.pdf", "application/pdf", PDF),
        ("Übersicht.txt", "text/plain", NOTES),
    ]
    assert parsed.text.startswith("Notes are in the attachment.")
    assert not any("winmail" in d for d in parsed.defects)


def test_an_empty_or_broken_winmail_dat_is_kept_as_it_came() -> None:
    empty = build_tnef([])
    parsed = parse_mail(outlook_mail(empty))
    assert [(a.filename, a.content) for a in parsed.attachments] == [("winmail.dat", empty)]

    broken = build_tnef([("report.pdf", PDF)])[:40]
    parsed = parse_mail(outlook_mail(b"not tnef at all"))
    assert [a.filename for a in parsed.attachments] == ["winmail.dat"]
    assert any("winmail.dat could not be unpacked" in d for d in parsed.defects)
    files, _ = unpack_tnef(broken)
    assert all(f.content and f.content in PDF for f in files)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=200))
def test_any_bytes_after_the_signature_never_raise(tail: bytes, cut: int) -> None:
    good = build_tnef([("a.txt", b"hello"), ("b.bin", bytes(range(50)))])
    for candidate in (good[:cut] + tail, good[:6] + tail):
        files, defect = unpack_tnef(candidate)
        assert not (files and defect)  # either the files or the reason there are none
        parsed = parse_mail(outlook_mail(candidate))
        assert parsed.attachments  # winmail.dat or what was inside: never nothing


def test_the_long_file_name_from_the_mapi_block_wins_over_the_8_3_title() -> None:
    unicode_name = "Quartalsübersicht 2026.xlsx".encode("utf-16-le") + b"\x00\x00"
    props = mapi(
        [
            mapi_property(PT_LONG, PR_ATTACH_SIZE, struct.pack("<I", 5)),
            mapi_property(
                PT_UNICODE,
                PR_ATTACH_LONG_FILENAME,
                struct.pack("<II", 1, len(unicode_name)) + unicode_name + b"\x00" * 2,
            ),
        ]
    )
    files, defect = unpack_tnef(build_tnef([("QUARTA~1.XLS", b"hello")], attachment_mapi=props))
    assert defect is None
    assert [(f.filename, f.content) for f in files] == [("Quartalsübersicht 2026.xlsx", b"hello")]


@pytest.mark.parametrize("count", [0xFFFFFFFF, 1_000_000, 3])
def test_counts_that_claim_more_than_the_bytes_hold_cost_nothing(count: int) -> None:
    # One multi-valued PT_LONG claiming `count` values, backed by two: tnefparse looped
    # over all of them; the long name is lost, the file is not.
    lying = mapi([mapi_property(MV | PT_LONG, PR_ATTACH_SIZE, struct.pack("<III", count, 1, 2))])
    files, defect = unpack_tnef(build_tnef([("a.txt", b"hello")], attachment_mapi=lying))
    assert (defect, [(f.filename, f.content) for f in files]) == (None, [("a.txt", b"hello")])
    claims_properties = mapi([], count=count)
    files, _ = unpack_tnef(build_tnef([("b.txt", b"hi")], attachment_mapi=claims_properties))
    assert [f.filename for f in files] == ["b.txt"]


def test_an_object_longer_than_the_stream_keeps_the_files_before_it() -> None:
    good = build_tnef([("a.txt", b"hello")])
    lying = tnef_object(LVL_ATTACHMENT, ATT_ATTACH_DATA, b"short", length=2**31)
    files, defect = unpack_tnef(good + lying)
    assert (defect, [f.filename for f in files]) == (None, ["a.txt"])
    files, defect = unpack_tnef(tnef_stream([lying]))
    assert files == ()
    assert defect == "winmail.dat could not be unpacked (object longer than the stream)"


def test_the_data_object_stands_in_for_missing_attachment_data() -> None:
    props = mapi([mapi_binary(PR_ATTACH_DATA_OBJ, PDF)])
    stream = tnef_stream(
        [
            tnef_object(LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, b"\x01\x00" + b"\xff" * 12),
            tnef_object(LVL_ATTACHMENT, ATT_ATTACH_TITLE, b"scan.pdf\x00"),
            tnef_object(LVL_ATTACHMENT, ATT_ATTACHMENT, props),
        ]
    )
    files, defect = unpack_tnef(stream)
    assert defect is None
    assert [(f.filename, f.content_type, f.content) for f in files] == [
        ("scan.pdf", "application/pdf", PDF)
    ]
