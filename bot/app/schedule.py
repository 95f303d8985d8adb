"""The running bot's periodic jobs: APScheduler, with every job on the event loop and
allowed to finish at shutdown.

APScheduler's asyncio executor runs plain functions in a thread pool, where waking an
`asyncio.Event` is not safe, and its shutdown cancels the jobs in progress, which it
logs as errors with a traceback. Here every job is a coroutine on the loop, and `stop`
lets the running ones finish (within a grace period) before the scheduler goes.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

Work = Callable[[], Awaitable[object] | object]


class Jobs:
    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._running: set[asyncio.Task[object]] = set()

    def every(self, seconds: float, work: Work, job_id: str, *, at_start: bool = False) -> None:
        """Run `work` (a function or a coroutine function) every `seconds` on the loop;
        `at_start`: also at once when the scheduler starts (not only after `seconds`)."""

        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                result = work()
                if inspect.isawaitable(result):
                    await result
            finally:
                if task is not None:
                    self._running.discard(task)

        first: dict[str, Any] = {"next_run_time": datetime.now(UTC)} if at_start else {}
        self._scheduler.add_job(run, "interval", seconds=seconds, id=job_id, **first)

    def start(self) -> None:
        self._scheduler.start()

    async def stop(self, grace_seconds: float) -> None:
        """No new runs; the running ones finish (those still running after the grace are
        cancelled by the scheduler's shutdown)."""
        self._scheduler.pause()
        await asyncio.sleep(0)  # a run submitted just now starts, so it is waited for too
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace_seconds)
        self._scheduler.shutdown(wait=False)
