"""The Reply form's opening stamp (pure): it vouches only for the ticket, person and
moment it was made for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.slack.stamps import EPOCH, make_stamp, opened_at, view_key

KEY = view_key("signing-secret")
WHEN = datetime(2026, 12, 6, 21, 30, 15, 123000, tzinfo=UTC)


def test_a_stamp_gives_back_its_moment() -> None:
    assert opened_at(KEY, 7, "U1", make_stamp(KEY, 7, "U1", WHEN)) == WHEN


@pytest.mark.parametrize(
    "stamp",
    [
        "",
        "garbage",
        "1765056615123.",
        "1765056615123.00000000000000000000000000000000",
        "99999999999999999999.abc",
        "-5.abc",
    ],
)
def test_made_up_stamps_count_as_the_epoch(stamp: str) -> None:
    assert opened_at(KEY, 7, "U1", stamp) == EPOCH


def test_a_stamp_is_not_good_for_another_ticket_person_key_or_moment() -> None:
    stamp = make_stamp(KEY, 7, "U1", WHEN)
    millis, _, mac = stamp.partition(".")
    assert opened_at(KEY, 8, "U1", stamp) == EPOCH
    assert opened_at(KEY, 7, "U2", stamp) == EPOCH
    assert opened_at(view_key("other"), 7, "U1", stamp) == EPOCH
    assert opened_at(KEY, 7, "U1", f"{int(millis) + 60_000}.{mac}") == EPOCH


def test_the_key_is_derived_never_the_secret_itself() -> None:
    assert KEY != b"signing-secret" and len(KEY) == 32
    assert view_key("signing-secret") == KEY  # the same in every replica, after restarts
