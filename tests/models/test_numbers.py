import asyncio
from datetime import date

import pytest
from tortoise.transactions import in_transaction

from models.numbers import (
    allocate_counter,
    check_digit,
    format_number,
    format_subject,
    hook_pattern,
    is_valid_number,
    reply_subject,
    strip_reply_prefixes,
)


def test_otrs_own_example_has_a_valid_check_digit() -> None:
    assert is_valid_number("2002062310100011")
    assert check_digit("200206231010001") == 1


@pytest.mark.parametrize(
    ("day", "system_id", "counter", "expected"),
    [
        (date(2026, 11, 25), 10, 1, "2026112510000017"),  # the SPEC's example
        (date(2002, 6, 23), 10, 10001, "2002062310100011"),  # OTRS's example
        (date(2026, 1, 1), 7, 99999, None),
    ],
)
def test_format_number(day: date, system_id: int, counter: int, expected: str | None) -> None:
    number = format_number(day, system_id, counter)
    assert is_valid_number(number)
    assert number.startswith(f"{day:%Y%m%d}{system_id}")
    if expected:
        assert number == expected


def test_check_digit_ten_becomes_one() -> None:
    # Find a body whose weighted sum is a multiple of 10: check digit 10 → 1.
    body = "0000000000"
    assert check_digit(body) == 1


def test_a_changed_digit_is_detected() -> None:
    number = format_number(date(2026, 11, 25), 10, 42)
    broken = number[:-2] + str((int(number[-2]) + 1) % 10) + number[-1]
    assert not is_valid_number(broken)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: [Ticket#2026112510000017] Printer", "2026112510000017"),
        ("AW: WG: [ticket#2026112510000017] Drucker", "2026112510000017"),
        ("Fwd: [ Ticket# 2026112510000017 ]", "2026112510000017"),
        ("[Ticket#:2026112510000017]", "2026112510000017"),
        ("[Ticket#123] too short", None),
        ("Ticket#2026112510000017 without brackets", None),
    ],
)
def test_hook_pattern(subject: str, expected: str | None) -> None:
    match = hook_pattern("Ticket#").search(subject)
    assert (match.group(1) if match else None) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Re: AW: Hello", "Hello"),
        ("WG: Fwd: RE[2]: x", "x"),
        ("Hello", "Hello"),
        ("Rex: not a prefix", "Rex: not a prefix"),
    ],
)
def test_strip_reply_prefixes(subject: str, expected: str) -> None:
    assert strip_reply_prefixes(subject) == expected


def test_subjects_never_stack_the_hook() -> None:
    once = format_subject("Ticket#", "2026112510000017", "Printer")
    assert once == "[Ticket#2026112510000017] Printer"
    assert format_subject("Ticket#", "2026112510000017", once) == once
    assert (
        reply_subject("Ticket#", "2026112510000017", f"AW: {once}")
        == "Re: [Ticket#2026112510000017] Printer"
    )


async def test_counter_is_unique_under_concurrency(database: str) -> None:
    day = date(2026, 11, 25)

    async def take() -> int:
        async with in_transaction() as connection:
            return await allocate_counter(connection, day)

    values = await asyncio.gather(*(take() for _ in range(40)))
    assert sorted(values) == list(range(1, 41))
    async with in_transaction() as connection:
        assert await allocate_counter(connection, date(2026, 11, 26)) == 1
