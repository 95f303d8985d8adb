"""The bot's periodic jobs run on the event loop and are let finish at shutdown."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from bot.app.schedule import Jobs


async def wait_for(condition: asyncio.Event, timeout: float = 10.0) -> None:
    await asyncio.wait_for(condition.wait(), timeout)


async def test_a_plain_function_runs_on_the_loop_thread_not_in_a_thread_pool() -> None:
    # APScheduler would run it in a thread, where setting an asyncio.Event is unsafe.
    ran = asyncio.Event()
    threads: list[int] = []

    def wake() -> None:
        threads.append(threading.get_ident())
        ran.set()

    jobs = Jobs()
    jobs.every(0.05, wake, "wake")
    jobs.start()
    try:
        await wait_for(ran)
    finally:
        await jobs.stop(grace_seconds=5)
    assert set(threads) == {threading.get_ident()}


async def test_stop_lets_a_running_job_finish_and_logs_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[bool] = []

    async def slow() -> None:
        started.set()
        await release.wait()
        finished.append(True)

    jobs = Jobs()
    jobs.every(0.05, slow, "slow")
    jobs.start()
    await wait_for(started)
    with caplog.at_level(logging.ERROR):
        stopping = asyncio.create_task(jobs.stop(grace_seconds=10))
        await asyncio.sleep(0)
        assert not stopping.done()  # it waits for the job in progress
        release.set()
        await asyncio.wait_for(stopping, 10)
    assert finished == [True]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_job_at_start_runs_at_once_not_after_its_interval() -> None:
    ran = asyncio.Event()
    jobs = Jobs()
    jobs.every(3600, ran.set, "hourly", at_start=True)  # an hour: only the start can run it
    jobs.start()
    try:
        await wait_for(ran)
    finally:
        await jobs.stop(grace_seconds=5)
