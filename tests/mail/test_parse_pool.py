"""The parse pool: real worker processes, budgets, and what a failing worker leaves behind."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from collections.abc import AsyncIterator

import pytest

from mail.limits import ParseLimits
from mail.parse_pool import ParsePool
from tests.support.make_mail import make_mail

FAKE = (sys.executable, "-m", "tests.support.fake_parse_worker")
LIMITS = ParseLimits(parse_seconds=5)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
async def pool() -> AsyncIterator[ParsePool]:
    async with ParsePool(LIMITS) as started:
        yield started


@pytest.fixture
async def fake_pool() -> AsyncIterator[ParsePool]:
    async with ParsePool(
        ParseLimits(parse_seconds=2, parse_memory_mb=256), command=FAKE
    ) as started:
        yield started


def worker_pids(pool: ParsePool) -> set[int]:
    return {worker.process.pid for worker in pool._all}


async def test_a_mail_is_parsed_and_trimmed_in_a_worker(pool: ParsePool) -> None:
    raw = make_mail(
        subject="Printer",
        body="It is broken.\n\nOn Mon, 5 Jan 2026 at 10:00, X <x@y.z> wrote:\n> old\n",
    )
    result = await pool.parse(raw)
    assert result.mail.subject == "Printer"
    assert result.mail.sender is not None and result.mail.sender.email == "alice@example.com"
    assert result.display_text == "It is broken."
    assert result.failure is None and result.mail.incomplete is None
    assert result.peak_rss_kb > 0
    assert os.getpid() not in worker_pids(pool)


async def test_past_the_budget_the_worker_is_replaced_and_the_headers_still_read() -> None:
    # No real parse of a 4 MB mail answers within a millisecond: the budget runs out for sure.
    raw = make_mail(subject="Big one", body="x" * 4_000_000)
    async with ParsePool(ParseLimits(parse_seconds=0.001)) as pool:
        [before] = worker_pids(pool)
        result = await pool.parse(raw)
        assert result.failure == "timeout"
        assert result.mail.subject == "Big one"
        assert result.mail.incomplete is not None
        assert "mail.limits.parse_seconds" in result.mail.incomplete
        assert not alive(before)
        again = await pool.parse(make_mail(subject="Next"))  # the pool carries on
        assert again.mail.subject == "Next"


@pytest.mark.parametrize(
    ("marker", "failure"),
    [
        (b"HANG", "timeout"),
        (b"EXIT", "crash: exit status 3"),
        (b"GARBAGE", "crash: malformed answer"),
        (b"HUGE", "crash: malformed answer"),
        (b"HOG", "crash: exit status 1"),
    ],
)
async def test_a_failing_worker_costs_only_itself(
    fake_pool: ParsePool, marker: bytes, failure: str
) -> None:
    raw = make_mail(subject="Hostile", body=f"payload {marker.decode()}\n")
    [before] = worker_pids(fake_pool)
    result = await fake_pool.parse(raw)
    assert result.failure == failure
    assert result.mail.subject == "Hostile"  # read again, from the headers alone
    assert result.mail.incomplete
    assert result.mail.sender is not None and result.mail.sender.email == "alice@example.com"
    assert not alive(before)
    after = await fake_pool.parse(make_mail(subject="Afterwards"))
    assert (after.mail.subject, after.failure) == ("Afterwards", None)


async def test_when_even_the_headers_cannot_be_read_the_mail_is_kept_as_unreadable(
    fake_pool: ParsePool,
) -> None:
    raw = make_mail(subject="Nothing works", body="HANG SLOW-HEADERS\n")
    result = await fake_pool.parse(raw)
    assert result.failure == "timeout"
    assert result.mail.subject == "(unreadable message)"
    assert result.mail.incomplete and "mail.limits.parse_seconds" in result.mail.incomplete
    assert "Nothing works" in result.mail.text  # the start of the raw mail, as text
    assert len(result.mail.digest) == 64


async def test_only_headers_are_read_when_asked(pool: ParsePool) -> None:
    raw = make_mail(subject="Too big", body="y" * 1000)
    result = await pool.parse(raw, headers_only="it is 30 MB, over the limit")
    assert result.mail.subject == "Too big"
    assert result.mail.incomplete == "it is 30 MB, over the limit"
    assert "y" * 100 not in result.mail.text


async def test_the_memory_limit_holds_in_the_real_worker() -> None:
    # 200 MB of mail in a worker allowed 128 MB cannot even be received there, twice; the
    # mail is kept as unreadable and the pool carries on.
    raw = make_mail(subject="Memory", body="z" * 10)
    raw += b"z" * (200 * 1024 * 1024)
    limits = ParseLimits(parse_seconds=30, parse_memory_mb=128, max_message_bytes=300 * 1024 * 1024)
    async with ParsePool(limits) as pool:
        result = await pool.parse(raw)
        assert result.failure is not None and result.failure.startswith("crash")
        assert result.mail.subject == "(unreadable message)"
        assert result.mail.digest == hashlib.sha256(raw).hexdigest()
        assert (await pool.parse(make_mail(subject="Fine"))).mail.subject == "Fine"


async def test_mails_wait_for_a_free_worker_and_all_are_answered() -> None:
    async with ParsePool(LIMITS, workers=2) as pool:
        results = await asyncio.gather(
            *(pool.parse(make_mail(subject=f"Mail {n}")) for n in range(6))
        )
    assert [r.mail.subject for r in results] == [f"Mail {n}" for n in range(6)]


async def test_closing_the_pool_ends_its_workers() -> None:
    pool = ParsePool(LIMITS, workers=2)
    await pool.start()
    pids = worker_pids(pool)
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    await pool.close()
    assert not any(alive(pid) for pid in pids)
    with pytest.raises(RuntimeError, match="closed"):
        await pool.parse(make_mail())
