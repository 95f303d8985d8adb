"""Table-driven tests for automatic-mail and bounce detection."""

from __future__ import annotations

import pytest

from mail.automatic import automatic_reason, daemon_kind, is_bounce_subject
from mail.parse import parse_mail
from tests.support.make_mail import make_mail

RULES: list[tuple[dict[str, list[str]], list[str], bool, str | None]] = [
    ({}, ["alice@example.com"], False, None),
    ({"auto-submitted": ["auto-replied"]}, [], False, "auto-submitted: auto-replied"),
    (
        {"auto-submitted": ["Auto-Generated; owner-email=x@y"]},
        [],
        False,
        "auto-submitted: auto-generated",
    ),
    ({"auto-submitted": ["auto-notified (comment)"]}, [], False, "auto-submitted: auto-notified"),
    ({"auto-submitted": ["no"]}, [], False, None),
    ({"auto-submitted": ["No"]}, [], False, None),
    ({"auto-submitted": [""]}, [], False, "auto-submitted"),
    ({"precedence": ["bulk"]}, [], False, "precedence: bulk"),
    ({"precedence": ["Junk"]}, [], False, "precedence: junk"),
    ({"precedence": ["list"]}, [], False, "precedence: list"),
    ({"precedence": ["first-class"]}, [], False, None),
    ({"list-id": ["<news.example.com>"]}, [], False, "list-id"),
    ({"list-unsubscribe": ["<mailto:u@x>"]}, [], False, "list-unsubscribe"),
    ({"x-auto-response-suppress": ["All"]}, [], False, "x-auto-response-suppress"),
    ({"x-auto-response-suppress": ["DR, OOF, AutoReply"]}, [], False, "x-auto-response-suppress"),
    ({"x-auto-response-suppress": ["DR, RN, NRN"]}, [], False, None),
    ({"x-autoreply": ["yes"]}, [], False, "x-autoreply"),
    ({"x-autorespond": ["Vacation"]}, [], False, "x-autorespond"),
    ({"x-autoreply": ["no"]}, [], False, None),
    ({"return-path": ["<>"]}, [], False, "empty return-path"),
    ({"return-path": ["<alice@example.com>"]}, ["alice@example.com"], False, None),
    ({}, ["MAILER-DAEMON@mx.example.com"], False, "mailer-daemon"),
    ({}, ["Postmaster@example.com"], False, "postmaster"),
    ({}, ["<MAILER-DAEMON>"], False, "mailer-daemon"),
    ({}, ["postmaster-team@example.com"], False, None),
    ({}, ["alice@example.com"], True, "bounce"),
    # the first matching rule names the reason
    ({"precedence": ["bulk"], "list-id": ["<l>"]}, [], False, "precedence: bulk"),
    (
        {"auto-submitted": ["auto-replied"], "return-path": ["<>"]},
        [],
        True,
        "auto-submitted: auto-replied",
    ),
]


@pytest.mark.parametrize(("headers", "senders", "bounce", "expected"), RULES)
def test_automatic_reason(
    headers: dict[str, list[str]], senders: list[str], bounce: bool, expected: str | None
) -> None:
    assert automatic_reason(headers, senders, bounce) == expected


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        (["mailer-daemon@x.org"], "mailer-daemon"),
        (["a@x.org", "POSTMASTER@x.org"], "postmaster"),
        (["MAILER-DAEMON"], "mailer-daemon"),
        (["daemon@x.org"], None),
        ([], None),
    ],
)
def test_daemon_kind(addresses: list[str], expected: str | None) -> None:
    assert daemon_kind(addresses) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Undelivered Mail Returned to Sender", True),
        ("Undeliverable: Your request", True),
        ("Delivery Status Notification (Failure)", True),
        ("Mail delivery failed: returning message to sender", True),
        ("failure notice", True),
        ("Returned mail: see transcript for details", True),
        ("Unzustellbar: Ihre Anfrage", True),
        ("Non remis : votre demande", True),
        ("Re: delivery of the new laptop", False),
        ("Printer broken", False),
    ],
)
def test_is_bounce_subject(subject: str, expected: bool) -> None:
    assert is_bounce_subject(subject) is expected


def test_daemon_with_bounce_subject_is_a_bounce() -> None:
    parsed = parse_mail(
        make_mail(from_="MAILER-DAEMON@mx.example.net", subject="Mail delivery failed", body="x\n")
    )
    assert parsed.is_bounce
    assert parsed.automatic_reason == "mailer-daemon"


def test_daemon_with_ordinary_subject_is_automatic_but_not_a_bounce() -> None:
    parsed = parse_mail(make_mail(from_="postmaster@example.net", subject="Weekly quota report"))
    assert parsed.is_automatic
    assert not parsed.is_bounce


def test_ordinary_mail_is_not_automatic() -> None:
    parsed = parse_mail(make_mail())
    assert not parsed.is_automatic
    assert parsed.automatic_reason is None
    assert not parsed.is_bounce


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto-submitted: auto-replied"),
        ({"Precedence": "list", "List-Id": "<x.example.com>"}, "precedence: list"),
        ({"List-Unsubscribe": "<https://x.example/u>"}, "list-unsubscribe"),
        ({"Return-Path": "<>"}, "empty return-path"),
        ({"X-Autoreply": "yes"}, "x-autoreply"),
    ],
)
def test_parse_mail_reports_automatic_headers(headers: dict[str, str], reason: str) -> None:
    parsed = parse_mail(make_mail(headers=headers))
    assert parsed.is_automatic
    assert parsed.automatic_reason == reason


def test_delivery_status_original_message_id_field() -> None:
    """Some MTAs name the original only in the DSN fields, with no copy attached."""
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\n"
        b"Subject: Delivery report\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n"
        b"X-Original-Message-ID: <orig.1@ticketbot.example>\r\n\r\n"
        b"Final-Recipient: rfc822; a@b.c\r\nAction: failed\r\nStatus: 5.0.0\r\n"
        b"--b--\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.is_bounce
    assert parsed.bounce_message_ids == ("<orig.1@ticketbot.example>",)
