"""Side effects recorded together: one statement, in order, only when the block succeeds."""

from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from models.outbox.items import OutboxItem, enqueue, written_together
from tests.support.clock import HandClock

START = datetime(2026, 12, 7, 9, tzinfo=UTC)


async def test_items_recorded_together_are_written_in_their_order(database: str) -> None:
    clock = HandClock(START)
    await enqueue("k", {"n": 0}, stream="a", clock=clock)
    async with in_transaction(), written_together():
        for n, stream in enumerate(["b", "a", "b", "a"], start=1):
            await enqueue("k", {"n": n}, stream=stream, clock=clock)
        assert await OutboxItem.all().count() == 1  # held until the block ends
    rows = await OutboxItem.all().order_by("id")
    assert [(row.stream, row.payload["n"]) for row in rows] == [
        ("a", 0),
        ("b", 1),
        ("a", 2),
        ("b", 3),
        ("a", 4),
    ]


async def test_nothing_is_written_when_the_block_fails(database: str) -> None:
    clock = HandClock(START)
    with pytest.raises(RuntimeError):
        async with in_transaction(), written_together():
            await enqueue("k", {"n": 1}, stream="a", clock=clock)
            raise RuntimeError("the ticket could not be made")
    await enqueue("k", {"n": 2}, stream="a", clock=clock)  # outside: written at once
    assert [row.payload["n"] for row in await OutboxItem.all()] == [2]
