"""Ticket ids from button values and form metadata: anything else is no ticket (0)."""

import pytest

from bot.slack.ids import ticket_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("17", 17),
        (17, 17),
        (" 17 ", 17),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), 0),
        (str(2**70), 0),
        ("0", 0),
        ("-3", 0),
        ("17.5", 0),
        ("", 0),
        ("abc", 0),
        (None, 0),
    ],
)
def test_ticket_id(value: object, expected: int) -> None:
    assert ticket_id(value) == expected
