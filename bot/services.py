"""What the Slack listeners share: policy, caches, the outbox wake-up. Built by the runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.directory import ChannelMembers, People
from models.clock import Clock, system_clock
from models.policy import Policy
from models.work import Agent


@dataclass(frozen=True)
class Services:
    policy: Policy
    members: ChannelMembers
    people: People
    wake_outbox: Callable[[], None]
    clock: Clock = system_clock

    def agent(self, user_id: str, name: str = "") -> Agent:
        return Agent(user_id, name, is_lead=user_id in self.policy.leads)
