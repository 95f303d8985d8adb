"""content_digest: the same mail by another route digests the same; another mail does not."""

from __future__ import annotations

from typing import Any

import pytest

from mail.parse import content_digest, parse_mail
from tests.support.make_mail import make_mail

TRACE_A: dict[str, str | list[str]] = {
    "Received": ["from a.example.net by mx1.example.com", "from client by a.example.net"],
    "Delivered-To": "support@ticketbot.example",
    "Return-Path": "<alice@example.com>",
    "DKIM-Signature": "v=1; a=rsa-sha256; d=example.com; b=AAAA",
    "ARC-Seal": "i=1; a=rsa-sha256; cv=none; b=BBBB",
    "Authentication-Results": "mx1.example.com; spf=pass",
    "X-Spam-Status": "No, score=-1.0",
}
TRACE_B: dict[str, str | list[str]] = {
    "Received": "from b.example.org by mx2.example.com",
    "Delivered-To": "billing@ticketbot.example",
    "X-Original-To": "billing@ticketbot.example",
    "Envelope-To": "billing@ticketbot.example",
    "Return-Path": "<bounces+alice@example.com>",
    "Received-SPF": "pass",
    "X-Spam-Score": "0.1",
    "X-Virus-Scanned": "clean",
}


def with_trace(raw: bytes, trace: dict[str, str | list[str]]) -> bytes:
    """Prepend trace headers the way MTAs do (on top, in front of the author's headers)."""
    lines = []
    for name, value in trace.items():
        for item in [value] if isinstance(value, str) else value:
            lines.append(f"{name}: {item}\r\n".encode())
    return b"".join(lines) + raw


def test_same_mail_by_different_routes_digests_the_same() -> None:
    raw = make_mail()
    first, second = with_trace(raw, TRACE_A), with_trace(raw, TRACE_B)
    assert first != second
    assert content_digest(first) == content_digest(second) == content_digest(raw)
    assert parse_mail(first).digest == parse_mail(second).digest


def test_line_endings_and_refolding_do_not_matter() -> None:
    raw = make_mail(subject="A subject long enough to be folded by someone along the way")
    lf = raw.replace(b"\r\n", b"\n")
    refolded = raw.replace(b"Subject: A subject long", b"Subject: A subject\r\n long")
    assert content_digest(lf) == content_digest(raw) == content_digest(refolded)


@pytest.mark.parametrize(
    "override",
    [
        {"body": "A different body.\n"},
        {"subject": "Another subject"},
        {"from_": "Mallory <mallory@example.com>"},
        {"to": "other@ticketbot.example"},
        {"cc": "carol@example.com"},
        {"date": "Fri, 16 Jan 2026 09:30:00 +0000"},
        {"message_id": "<other@example.com>"},
        {"attachments": [("a.txt", "text/plain", b"x")]},
    ],
)
def test_content_changes_change_the_digest(override: dict[str, Any]) -> None:
    assert content_digest(make_mail(**override)) != content_digest(make_mail())


def test_digest_is_hex_sha256_even_for_garbage() -> None:
    for raw in (b"", b"\x00\xff\xfe", b"no headers at all", b"Subject: x"):
        digest = content_digest(raw)
        assert len(digest) == 64
        assert int(digest, 16) >= 0
    assert content_digest(b"body one") != content_digest(b"body two")


def test_mbox_envelope_line_is_ignored() -> None:
    raw = make_mail()
    assert content_digest(b"From alice@example.com Mon Jan 12 08:00:00 2026\r\n" + raw) == (
        content_digest(raw)
    )
