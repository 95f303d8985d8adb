"""What the Slack listeners share: policy, caches, the outbox wake-up. Built by the runtime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.directory import ChannelMembers, People
from models.clock import Clock, system_clock
from models.policy import Policy, QueueRoute
from models.work import Agent


@dataclass(frozen=True)
class Services:
    policy: Policy
    members: ChannelMembers
    people: People
    wake_outbox: Callable[[], None]
    clock: Clock = system_clock
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _watchers: list[Callable[[str], None]] = field(default_factory=list)

    def watch_work(self, callback: Callable[[str], None]) -> None:
        """Be told which agent just changed tickets (the Home tab keeps itself current)."""
        self._watchers.append(callback)

    def work_done(self, user: str) -> None:
        """After `user` changed a ticket: deliver its effects now, and tell the watchers."""
        self.wake_outbox()
        for callback in self._watchers:
            callback(user)

    def after_ack(self, work: Coroutine[Any, Any, None]) -> None:
        """Run Slack calls that must not delay the ack (the app answers Slack as soon as a
        listener returns), keeping a reference so the task is not collected mid-flight."""
        task = asyncio.create_task(_logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self, grace_seconds: float) -> None:
        """Wait for follow-ups still running (at shutdown), cancelling stragglers."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def queues_of(self, user: str) -> list[QueueRoute]:
        """The queues whose channel `user` is in: whose tickets they may see and work."""
        return [q for q in self.policy.queues if await self.members.is_member(q.channel, user)]

    def agent(self, user_id: str, name: str = "") -> Agent:
        return Agent(user_id, name, is_lead=user_id in self.policy.leads)


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    try:
        await work
    except Exception:
        logging.getLogger(__name__).exception("follow-up after an ack failed")
