"""What the Slack listeners share: policy, caches, the outbox wake-up, and the one rule for
who is an agent of which queue. Built by the runtime."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bot.slack.directory import ChannelMembers, People, Person
from models.clock import Clock, system_clock
from models.policy import Policy, QueueRoute
from models.work import Agent


@dataclass(eq=False)
class Services:
    """Shared by every listener of one app; holds the running follow-ups and watchers."""

    policy: Policy
    members: ChannelMembers
    people: People
    wake_outbox: Callable[[], None]
    clock: Clock = system_clock
    #: signs the Reply form's opening time (bot.slack.stamps); the runtime derives it from
    #: the signing secret so it holds across restarts and replicas
    view_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _watchers: list[Callable[[str], None]] = field(default_factory=list)

    def watch_work(self, callback: Callable[[str], None]) -> None:
        """Be told which agent just changed tickets (the Home tab keeps itself current)."""
        self._watchers.append(callback)

    def work_done(self, user: str) -> None:
        """After `user` changed a ticket: deliver its effects now, and tell the watchers."""
        self.wake_outbox()
        self.standing_changed(user)

    def standing_changed(self, user: str) -> None:
        """`user` joined or left a queue channel, or changed tickets: tell the watchers."""
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

    @cached_property
    def _queue_channels(self) -> frozenset[str]:
        return frozenset(queue.channel for queue in self.policy.queues)

    async def may_work_in(self, channel: str, user: str) -> bool:
        """The one rule (SPEC "Who may see what"): `user` is an agent of the queue whose
        channel is `channel` when they are a member of it, belong to our own workspace and
        are not a guest (unless `slack.allow_guests`).

        Cheap once warm (two cache lookups, no Slack call); raises `CannotCheck` when Slack
        cannot tell and nothing is cached, and the caller refuses.
        """
        if channel not in self._queue_channels:
            return False
        if not await self.members.is_member(channel, user):
            return False
        return self.is_one_of_us(await self.people.person(user), await self.people.our_team())

    def is_one_of_us(self, person: Person, our_team: str) -> bool:
        """May this person be an agent at all, whatever channels they are in?"""
        if person.deleted or person.team_id != our_team:
            return False  # a Slack Connect member of another workspace, or nobody we know
        return self.policy.allow_guests or not person.is_guest

    async def queues_of(self, user: str) -> list[QueueRoute]:
        """The queues `user` works in: those `may_work_in` says they are an agent of."""
        return [q for q in self.policy.queues if await self.may_work_in(q.channel, user)]

    def is_lead(self, user: str) -> bool:
        return user in self.policy.leads

    async def visible_queues(self, user: str) -> list[QueueRoute]:
        """The queues whose tickets `user` may see: their own, every queue for a lead."""
        return list(self.policy.queues) if self.is_lead(user) else await self.queues_of(user)

    async def visible_channels(self, user: str) -> list[str]:
        """The channels of `visible_queues(user)`: tickets are filtered by their card's
        channel (a ticket's card is in its queue's channel)."""
        return [queue.channel for queue in await self.visible_queues(user)]

    def agent(self, user_id: str, name: str = "") -> Agent:
        return Agent(user_id, name, is_lead=self.is_lead(user_id))


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    try:
        await work
    except Exception:
        logging.getLogger(__name__).exception("follow-up after an ack failed")
