"""winmail.dat (TNEF) from Outlook: the files inside become the mail's attachments; what
cannot be unpacked stays winmail.dat, with a defect, and never fails the parse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mail.parse import parse_mail
from mail.tnef import unpack_tnef
from tests.support.make_mail import make_mail
from tests.support.tnef import build_tnef

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
