"""Table-driven: which Importance / X-Priority headers mark a mail important (issue 12).

Anything unknown, empty, huge or hostile is simply not important; the parse never fails."""

from __future__ import annotations

import pytest

from mail.parse import parse_headers_only, parse_mail
from tests.support.make_mail import make_mail

CASES: list[tuple[dict[str, str], bool]] = [
    ({}, False),
    ({"Importance": "high"}, True),
    ({"Importance": "HIGH "}, True),
    ({"Importance": "normal"}, False),
    ({"Importance": "low"}, False),
    ({"X-Priority": "1"}, True),
    ({"X-Priority": "1 (Highest)"}, True),
    ({"X-Priority": "2 (High)"}, True),
    ({"X-Priority": "3 (Normal)"}, False),
    ({"X-Priority": "5"}, False),
    ({"X-Priority": "12"}, False),
    ({"X-Priority": "urgent"}, False),
    ({"X-Priority": ""}, False),
    ({"Importance": "=?utf-8?q?high?="}, False),  # an encoded word is no keyword
    ({"Importance": "high" + " x" * 5000}, False),
    ({"X-Priority": "\u202e1"}, False),
    ({"Importance": "low", "X-Priority": "1"}, True),
]


@pytest.mark.parametrize(("headers", "important"), CASES)
def test_marked_important(headers: dict[str, str], important: bool) -> None:
    raw = make_mail(verbatim=headers)
    assert parse_mail(raw).marked_important is important


def test_headers_only_parse_reads_it_too() -> None:
    raw = make_mail(verbatim={"X-Priority": "1"})
    assert parse_headers_only(raw, "too large").marked_important


def test_non_ascii_bytes_do_not_crash() -> None:
    raw = make_mail(verbatim={"Importance": "hi"}).replace(
        b"Importance: hi", b"Importance: \xff\xfe"
    )
    assert parse_mail(raw).marked_important is False
