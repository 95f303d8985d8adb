"""What our automatic mails say about themselves (RFC 3834): an acknowledgement is
`auto-replied`, a rating request `auto-generated`, an agent's reply neither; and our
own parser reads both kinds as automatic (two ticketbots never answer each other)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from mail.compose import Outgoing, build_message
from mail.parse import parse_mail

REPLY = Outgoing(
    from_name="Support",
    from_address="support@ticketbot.example",
    to=("eva@customer.example",),
    cc=(),
    subject="[Ticket#2026120710000017] How did we do?",
    body="Good: https://t.example/csat/x?rating=good\n",
    message_id="<ticket.2026120710000017.1@ticketbot.example>",
    in_reply_to=None,
    references=(),
    date=datetime(2026, 12, 7, 9, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("changes", "header"),
    [
        ({}, None),
        ({"auto_replied": True}, "auto-replied"),
        ({"auto_generated": True}, "auto-generated"),
        ({"auto_replied": True, "auto_generated": True}, "auto-replied"),
    ],
)
def test_auto_submitted(changes: dict[str, bool], header: str | None) -> None:
    message = build_message(replace(REPLY, **changes))
    assert message["Auto-Submitted"] == header
    assert (message["X-Auto-Response-Suppress"] == "All") is (header is not None)
    assert parse_mail(message.as_bytes()).is_automatic is (header is not None)
