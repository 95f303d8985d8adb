"""Ticket numbers: OTRS's DateChecksum scheme, and the ticket hook in subjects.

`YYYYMMDD` + system id + a daily counter (5 digits) + one check digit, e.g.
`2026112510000017`. The counter is bumped by one SQL statement inside the
ticket's transaction, so concurrent intakes never share a number.
"""

from __future__ import annotations

import re
from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient

COUNTER_DIGITS = 5


def check_digit(digits: str) -> int:
    """Weights 1,2,1,2,… from the left; 10 − (sum mod 10), and 10 becomes 1."""
    total = sum(int(d) * (1 if i % 2 == 0 else 2) for i, d in enumerate(digits))
    check = 10 - total % 10
    return 1 if check == 10 else check


def format_number(day: date, system_id: int, counter: int) -> str:
    if counter < 1:
        raise ValueError("the daily counter starts at 1")
    body = f"{day:%Y%m%d}{system_id}{counter:0{COUNTER_DIGITS}d}"
    return f"{body}{check_digit(body)}"


def is_valid_number(number: str) -> bool:
    return len(number) > 9 and number.isdigit() and check_digit(number[:-1]) == int(number[-1])


def format_subject(hook: str, number: str, subject: str) -> str:
    """`[Ticket#N] subject`, without stacking a second hook for the same ticket."""
    tag = f"[{hook}{number}]"
    clean = subject.replace(tag, "").strip()
    return f"{tag} {clean}".rstrip()


def reply_subject(hook: str, number: str, subject: str) -> str:
    return f"Re: {format_subject(hook, number, strip_reply_prefixes(subject))}"


_PREFIX = re.compile(r"^\s*((re|aw|antw|sv|vs|fw|fwd|wg|tr|rv)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def strip_reply_prefixes(subject: str) -> str:
    return _PREFIX.sub("", subject).strip()


def hook_pattern(hook: str) -> re.Pattern[str]:
    """Matches `[Ticket#N]` tolerant of case and spacing; group 1 is the number."""
    return re.compile(
        r"\[\s*" + re.escape(hook).replace(r"\ ", r"\s*") + r"\s*:?\s*(\d{10,})\s*\]", re.IGNORECASE
    )


async def allocate_counter(connection: BaseDBAsyncClient, day: date) -> int:
    """Atomically take the next counter value for `day` (SQLite ≥ 3.35 and PostgreSQL)."""
    key = f"{day:%Y%m%d}"
    sql = (
        "INSERT INTO ticket_counter (day, value) VALUES ({p1}, 1) "
        "ON CONFLICT (day) DO UPDATE SET value = ticket_counter.value + 1 RETURNING value"
    )
    placeholder = "$1" if connection.capabilities.dialect == "postgres" else "?"
    rows = await connection.execute_query_dict(sql.format(p1=placeholder), [key])
    return int(rows[0]["value"])
