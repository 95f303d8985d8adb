"""One test per tests/fixtures/mail/<case>.eml against expected/<case>.json.

The expected files say what a person reading the mail would want ticketbot to
see. Required keys (REQUIRED): subject, sender (email or null), message_id,
references, text_contains, attachments, is_automatic, automatic_reason,
is_bounce, bounce_message_ids, defects (fragments that must each appear in a
defect; [] means the parse must report none). Optional keys, checked when
present: sender_name, in_reply_to, to, cc, cc_names, reply_to, delivered_to,
date (ISO 8601 or null), text_excludes, text_equals, text_min_length, html
(whether an HTML body exists), html_contains. Each attachment lists filename
and content_type, and optionally is_inline, content_id, size, starts_with
and contains (matched against the content read as Latin-1).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mail.parse import content_digest, parse_mail
from mail.parsed import ParsedMail

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"
CASES = sorted(path.stem for path in FIXTURES.glob("*.eml"))
REQUIRED = {
    "subject",
    "sender",
    "message_id",
    "references",
    "text_contains",
    "attachments",
    "is_automatic",
    "automatic_reason",
    "is_bounce",
    "bounce_message_ids",
    "defects",
}
HEADER_FIELDS_WITHOUT_NEWLINES = ("subject", "message_id")


def load(case: str) -> tuple[bytes, dict[str, Any]]:
    raw = (FIXTURES / f"{case}.eml").read_bytes()
    expected = json.loads((FIXTURES / "expected" / f"{case}.json").read_text(encoding="utf-8"))
    return raw, expected


def test_fixture_set_is_complete() -> None:
    expected_files = {path.stem for path in (FIXTURES / "expected").glob("*.json")}
    assert len(CASES) >= 45
    assert expected_files == set(CASES)


def _check_attachments(parsed: ParsedMail, expected: list[dict[str, Any]]) -> None:
    assert [a.filename for a in parsed.attachments] == [e["filename"] for e in expected]
    assert [a.content_type for a in parsed.attachments] == [e["content_type"] for e in expected]
    for attachment, want in zip(parsed.attachments, expected, strict=True):
        content = attachment.content.decode("latin-1")
        if "is_inline" in want:
            assert attachment.is_inline is want["is_inline"], attachment.filename
        if "content_id" in want:
            assert attachment.content_id == want["content_id"]
        if "size" in want:
            assert len(attachment.content) == want["size"], attachment.filename
        if "starts_with" in want:
            assert content.startswith(want["starts_with"]), content[:40]
        for fragment in want.get("contains", []):
            assert fragment in content


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str) -> None:
    raw, expected = load(case)
    assert expected.keys() >= REQUIRED, f"{case}.json lacks {REQUIRED - expected.keys()}"

    parsed = parse_mail(raw)

    assert parsed.subject == expected["subject"]
    assert (parsed.sender.email if parsed.sender else None) == expected["sender"]
    if "sender_name" in expected:
        assert parsed.sender is not None
        assert parsed.sender.name == expected["sender_name"]
    assert parsed.message_id == expected["message_id"]
    assert list(parsed.references) == expected["references"]
    if "in_reply_to" in expected:
        assert list(parsed.in_reply_to) == expected["in_reply_to"]
    if "to" in expected:
        assert [a.email for a in parsed.to] == expected["to"]
    if "cc" in expected:
        assert [a.email for a in parsed.cc] == expected["cc"]
    if "cc_names" in expected:
        assert [a.name for a in parsed.cc] == expected["cc_names"]
    if "reply_to" in expected:
        assert parsed.reply_to is not None
        assert parsed.reply_to.email == expected["reply_to"]
    if "delivered_to" in expected:
        assert list(parsed.delivered_to) == expected["delivered_to"]
    if "date" in expected:
        want = datetime.fromisoformat(expected["date"]) if expected["date"] else None
        assert parsed.date == want
        if parsed.date is not None:
            assert parsed.date.utcoffset() is not None

    for fragment in expected["text_contains"]:
        assert fragment in parsed.text, fragment
    for fragment in expected.get("text_excludes", []):
        assert fragment not in parsed.text, fragment
    if "text_equals" in expected:
        assert parsed.text == expected["text_equals"]
    if "text_min_length" in expected:
        assert len(parsed.text) >= expected["text_min_length"]
    if "html" in expected:
        assert (parsed.html is not None) is expected["html"]
    for fragment in expected.get("html_contains", []):
        assert parsed.html is not None
        assert fragment in parsed.html

    _check_attachments(parsed, expected["attachments"])

    assert parsed.is_automatic is expected["is_automatic"]
    assert parsed.automatic_reason == expected["automatic_reason"]
    assert parsed.is_bounce is expected["is_bounce"]
    assert list(parsed.bounce_message_ids) == expected["bounce_message_ids"]

    if expected["defects"]:
        for fragment in expected["defects"]:
            assert any(fragment in defect for defect in parsed.defects), (fragment, parsed.defects)
    else:
        assert parsed.defects == ()

    # Invariants every fixture must keep.
    assert parsed.digest == content_digest(raw)
    assert "\x00" not in parsed.text
    assert "\r" not in parsed.text
    for field in HEADER_FIELDS_WITHOUT_NEWLINES:
        value = getattr(parsed, field) or ""
        assert "\n" not in value
        assert "\r" not in value
