"""The make_mail factory itself: defaults, overrides and omissions do what they say."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mail.parse import parse_mail
from tests.support.make_mail import DEFAULT_DATE, make_mail


def test_defaults_are_an_ordinary_customer_mail() -> None:
    raw = make_mail()
    assert b"\r\n" in raw
    parsed = parse_mail(raw)
    assert parsed.sender is not None
    assert parsed.sender.email == "alice@example.com"
    assert [a.email for a in parsed.to] == ["support@ticketbot.example"]
    assert parsed.subject == "Printer on floor 3 is broken"
    assert parsed.message_id == "<20260115093000.1234@example.com>"
    assert parsed.date == DEFAULT_DATE
    assert "prints blank pages" in parsed.text
    assert parsed.defects == ()


def test_overrides() -> None:
    parsed = parse_mail(
        make_mail(
            from_="Bob <bob@example.org>",
            to=["a@ticketbot.example", "b@ticketbot.example"],
            cc="Carol <carol@example.org>",
            subject="Grüße",
            body="Hallo\n",
            message_id="<m@x>",
            in_reply_to="<p@x>",
            references=["<r1@x>", "<p@x>"],
            date=datetime(2026, 2, 1, 12, 0, tzinfo=UTC),
            headers={"Auto-Submitted": "auto-replied", "Received": ["from a", "from b"]},
        )
    )
    assert parsed.sender is not None and parsed.sender.email == "bob@example.org"
    assert [a.email for a in parsed.to] == ["a@ticketbot.example", "b@ticketbot.example"]
    assert [a.name for a in parsed.cc] == ["Carol"]
    assert parsed.subject == "Grüße"
    assert parsed.text == "Hallo"
    assert parsed.message_id == "<m@x>"
    assert parsed.in_reply_to == ("<p@x>",)
    assert parsed.references == ("<r1@x>", "<p@x>")
    assert parsed.date == datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    assert parsed.automatic_reason == "auto-submitted: auto-replied"


def test_from_keyword_alias_and_omitted_headers() -> None:
    alias: dict[str, Any] = {"from": "x@example.org"}
    parsed = parse_mail(make_mail(**alias, message_id=None, date=None, subject=None))
    assert parsed.sender is not None and parsed.sender.email == "x@example.org"
    assert parsed.message_id is None
    assert parsed.date is None
    assert parsed.subject == ""


def test_unknown_override_is_an_error() -> None:
    with pytest.raises(TypeError, match="unknown overrides"):
        make_mail(sender="x@example.org")
