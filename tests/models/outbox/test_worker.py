"""The outbox worker: order per stream, retries, leases, on SQLite and PostgreSQL."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models.outbox import worker as worker_module
from models.outbox.items import (
    OutboxItem,
    OutboxStatus,
    Outcome,
    PermanentFailure,
    RetryLater,
    enqueue,
)
from models.outbox.worker import OutboxWorker, backoff_seconds
from tests.support.clock import HandClock

START = datetime(2026, 11, 25, 12, tzinfo=UTC)


async def test_items_of_a_stream_go_in_order_and_streams_are_independent(database: str) -> None:
    clock = HandClock(START)
    seen: list[str] = []

    async def handle(item: OutboxItem) -> None:
        if item.payload["name"] == "a1" and item.attempts == 0:
            raise RetryLater("not yet", after=30)
        seen.append(item.payload["name"])

    for stream, name in [("a", "a1"), ("a", "a2"), ("b", "b1"), ("b", "b2")]:
        await enqueue("k", {"name": name}, stream=stream, clock=clock)
    worker = OutboxWorker({"k": handle}, owner="w1", clock=clock)
    await worker.drain_once()
    assert seen == ["b1", "b2"]  # a2 waits behind a1, b does not
    clock.advance(31)
    await worker.drain_once()
    assert seen == ["b1", "b2", "a1", "a2"]
    assert await OutboxItem.filter(status=OutboxStatus.DONE).count() == 4


async def test_retry_after_is_honoured(database: str) -> None:
    clock = HandClock(START)
    calls = 0

    async def handle(item: OutboxItem) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RetryLater("ratelimited", after=7)

    await enqueue("k", {}, stream="s", clock=clock)
    worker = OutboxWorker({"k": handle}, owner="w", clock=clock)
    await worker.drain_once()
    item = await OutboxItem.get()
    assert item.next_attempt_at == clock.now + timedelta(seconds=7)
    assert item.last_error == "ratelimited"
    clock.advance(6)
    await worker.drain_once()
    assert calls == 1
    clock.advance(1)
    await worker.drain_once()
    assert calls == 2
    assert (await OutboxItem.get()).status == OutboxStatus.DONE


async def test_permanent_failures_and_exhausted_retries_are_buried(database: str) -> None:
    clock = HandClock(START)

    async def refuse(item: OutboxItem) -> None:
        raise PermanentFailure("invalid_blocks")

    async def crash(item: OutboxItem) -> None:
        raise ValueError("boom")

    await enqueue("refuse", {}, stream="1", clock=clock)
    await enqueue("crash", {}, stream="2", clock=clock)
    await enqueue("unknown", {}, stream="3", clock=clock)
    worker = OutboxWorker(
        {"refuse": refuse, "crash": crash}, owner="w", clock=clock, max_attempts=3
    )
    for _ in range(5):
        await worker.drain_once()
        clock.advance(600)
    items = {i.kind: i for i in await OutboxItem.all()}
    assert items["refuse"].status == OutboxStatus.DEAD and items["refuse"].attempts == 1
    assert items["crash"].status == OutboxStatus.DEAD and items["crash"].attempts == 3
    assert "ValueError: boom" in items["crash"].last_error
    assert "no handler" in items["unknown"].last_error


async def test_two_workers_deliver_each_item_once(database: str) -> None:
    delivered: list[int] = []

    async def handle(item: OutboxItem) -> None:
        await asyncio.sleep(0)  # yield so the workers really interleave
        delivered.append(item.id)

    for i in range(30):
        await enqueue("k", {}, stream=f"s{i % 7}")
    workers = [OutboxWorker({"k": handle}, owner=f"w{n}", concurrency=3) for n in range(3)]
    await asyncio.gather(*(w.drain_once() for w in workers))
    assert sorted(delivered) == sorted(i.id for i in await OutboxItem.all())
    assert len(delivered) == len(set(delivered)) == 30


async def test_a_lease_left_by_a_crashed_worker_expires(database: str) -> None:
    clock = HandClock(START)
    item = await enqueue("k", {}, stream="s", clock=clock)
    await OutboxItem.filter(id=item.id).update(
        lease_owner="dead", lease_until=clock.now + timedelta(seconds=120)
    )
    done: list[int] = []

    async def handle(it: OutboxItem) -> None:
        done.append(it.id)

    worker = OutboxWorker({"k": handle}, owner="alive", clock=clock)
    await worker.drain_once()
    assert done == []
    clock.advance(121)
    await worker.drain_once()
    assert done == [item.id]


async def test_run_wakes_up_for_new_work(database: str) -> None:
    done = asyncio.Event()

    async def handle(item: OutboxItem) -> None:
        done.set()

    worker = OutboxWorker({"k": handle}, owner="w", idle_seconds=60)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0.05)
        await enqueue("k", {}, stream="s")
        worker.wake()
        await asyncio.wait_for(done.wait(), 5)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 5)


def test_backoff_grows_and_is_capped() -> None:
    assert 0.8 <= backoff_seconds(1) <= 1.2
    assert 6.4 <= backoff_seconds(4) <= 9.6
    assert backoff_seconds(30) <= 360


async def test_a_stuck_stream_with_many_rows_never_delays_another_stream(database: str) -> None:
    """150 rows wait behind a head in backoff (a mail with many files and a 429): another
    ticket's card, enqueued last, is still delivered in the first pass."""
    clock = HandClock(START)
    seen: list[str] = []

    async def handle(item: OutboxItem) -> None:
        if item.payload["name"] == "stuck-head" and item.attempts == 0:
            raise RetryLater("ratelimited", after=600)
        seen.append(item.payload["name"])

    await enqueue("k", {"name": "stuck-head"}, stream="slack:1", clock=clock)
    worker = OutboxWorker({"k": handle}, owner="w", clock=clock)
    await worker.drain_once()  # the head goes into a 10-minute backoff
    for n in range(150):
        await enqueue("k", {"name": f"file-{n}"}, stream="slack:1", clock=clock)
    await enqueue("k", {"name": "other-card"}, stream="slack:2", clock=clock)
    await worker.drain_once()
    assert seen == ["other-card"]
    assert await OutboxItem.filter(stream="slack:1", status=OutboxStatus.PENDING).count() == 151
    clock.advance(601)
    await worker.drain_once()
    assert seen[1:] == ["stuck-head"] + [f"file-{n}" for n in range(150)]


async def test_a_head_leased_by_a_live_worker_is_not_taken(database: str) -> None:
    clock = HandClock(START)
    await enqueue("k", {}, stream="s", clock=clock)
    await OutboxItem.filter().update(lease_owner="other", lease_until=clock.now + timedelta(60))
    worker = OutboxWorker({"k": lambda item: asyncio.sleep(0)}, owner="w", clock=clock)
    assert await worker.due() == []
    stale = OutboxWorker(
        {"k": lambda item: asyncio.sleep(0)},
        owner="w",
        clock=clock,
        stale_owner=lambda owner: owner == "other",
    )
    assert [item.stream for item in await stale.due()] == ["s"]


async def _answer(item: OutboxItem) -> None:
    failure = item.payload["raise"]
    if failure == "answered":
        raise RetryLater("slack error: channel_not_found", maybe_delivered=False)
    if failure == "unknown":
        raise RetryLater("slack server error 502")
    if failure == "bug":
        raise KeyError("ts")
    if failure == "refused":
        raise PermanentFailure("slack refused the call: invalid_blocks")


@pytest.mark.parametrize(
    ("failure", "status", "outcome"),
    [
        ("none", OutboxStatus.DONE, Outcome.DELIVERED),
        ("answered", OutboxStatus.PENDING, Outcome.RETRY),
        ("unknown", OutboxStatus.PENDING, Outcome.MAYBE_DELIVERED),
        ("bug", OutboxStatus.PENDING, Outcome.MAYBE_DELIVERED),
        ("refused", OutboxStatus.DEAD, Outcome.DEAD),
    ],
)
async def test_each_attempt_records_its_outcome(
    database: str, failure: str, status: OutboxStatus, outcome: Outcome
) -> None:
    clock = HandClock(START)
    await enqueue("k", {"raise": failure}, stream="s", clock=clock)
    assert (await OutboxItem.get()).outcome == Outcome.PENDING

    await OutboxWorker({"k": _answer}, owner="w", clock=clock).drain_once()

    item = await OutboxItem.get()
    assert (item.status, item.outcome, item.attempts) == (status, outcome, 1)


async def test_the_last_attempt_decides_and_running_out_is_dead(database: str) -> None:
    clock = HandClock(START)
    item = await enqueue("k", {"raise": "unknown"}, stream="s", clock=clock)
    worker = OutboxWorker({"k": _answer}, owner="w", clock=clock, max_attempts=3)
    await worker.drain_once()
    assert (await OutboxItem.get()).outcome == Outcome.MAYBE_DELIVERED
    await OutboxItem.filter(id=item.id).update(payload={"raise": "answered"})
    clock.advance(600)
    await worker.drain_once()
    assert (await OutboxItem.get()).outcome == Outcome.RETRY
    clock.advance(600)
    await worker.drain_once()
    final = await OutboxItem.get()
    assert (final.status, final.outcome, final.attempts) == (OutboxStatus.DEAD, Outcome.DEAD, 3)
    assert final.last_error == "slack error: channel_not_found"


async def test_concurrent_delivery_keeps_each_streams_order(database: str) -> None:
    """Many streams at once, several workers: within a stream, strictly in enqueue order."""
    order: dict[str, list[int]] = {}
    running: set[str] = set()

    async def handle(item: OutboxItem) -> None:
        assert item.stream not in running  # never two items of one stream at once
        running.add(item.stream)
        await asyncio.sleep(0)  # let other deliveries interleave
        order.setdefault(item.stream, []).append(item.payload["n"])
        running.discard(item.stream)

    for n in range(120):
        await enqueue("k", {"n": n}, stream=f"s{n % 9}")
    workers = [OutboxWorker({"k": handle}, owner=f"w{k}", concurrency=8) for k in range(2)]
    await asyncio.gather(*(w.drain_once() for w in workers))
    assert sum(len(ns) for ns in order.values()) == 120
    for stream, ns in order.items():
        assert ns == sorted(ns), stream
        assert ns == [n for n in range(120) if f"s{n % 9}" == stream]


async def test_the_handler_sees_the_lease_an_item_had_before_this_claim(database: str) -> None:
    """A lease that expired (its worker died mid-attempt) tells the handler the attempt may
    have landed; an item nobody held comes with no lease. (Claims go in bulk.)"""
    clock = HandClock(START)
    held = await enqueue("k", {}, stream="a", clock=clock)
    fresh = await enqueue("k", {}, stream="b", clock=clock)
    await OutboxItem.filter(id=held.id).update(
        lease_owner="gone", lease_until=clock.now - timedelta(seconds=1)
    )
    leases: dict[int, str] = {}

    async def handle(item: OutboxItem) -> None:
        leases[item.id] = item.lease_owner

    await OutboxWorker({"k": handle}, owner="me", clock=clock).drain_once()
    assert leases == {held.id: "gone", fresh.id: ""}


async def test_the_share_limits_deliveries_at_once(database: str) -> None:
    running = 0
    most = 0

    async def handle(item: OutboxItem) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)
        running -= 1

    for n in range(20):
        await enqueue("k", {}, stream=f"s{n}")
    worker = OutboxWorker({"k": handle}, owner="w", concurrency=4, share=lambda: 1)
    assert await worker.drain_once() == 20
    assert most == 1


async def test_a_stream_stuck_in_backoff_does_not_hide_the_others(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when every row of the due window sits behind a head in backoff."""
    monkeypatch.setattr(worker_module, "DUE_WINDOW", 3)
    clock = HandClock(START)
    head = await enqueue("k", {"n": "head"}, stream="stuck", clock=clock)
    for n in range(5):
        await enqueue("k", {"n": f"tail{n}"}, stream="stuck", clock=clock)
    await OutboxItem.filter(id=head.id).update(next_attempt_at=clock.now + timedelta(hours=1))
    other = await enqueue("k", {"n": "other"}, stream="free", clock=clock)
    seen: list[int] = []

    async def handle(item: OutboxItem) -> None:
        seen.append(item.id)

    await OutboxWorker({"k": handle}, owner="w", clock=clock).drain_once()
    assert seen == [other.id]
