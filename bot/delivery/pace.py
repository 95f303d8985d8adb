"""Pace what the bot posts into each channel to what Slack takes: about one message a
second per channel, after a short burst (SLACK.md, "Rate limits": chat.postMessage).

Every post, update and file share in a channel takes the next free slot on that
channel's timeline (the generic cell rate algorithm: one slot per `1 / per_second`, up
to `burst` at once). An outbox item whose slot is later than now is told to come back
then (`RetryLater` that does not count as an attempt) and keeps its slot, so a burst of
300 new tickets is spread over the next minutes with one reschedule each, instead of
300 posts that Slack answers with 429s. Per process: several replicas pace separately,
and Slack's own 429s (which never count as attempts either) catch what they overlap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from models.errors import RetryLater

#: Slots held longer than this after their time are forgotten (their item never came back).
STALE_SECONDS = 120.0
#: Stale slots are looked for at most this often.
SWEEP_SECONDS = 1.0
#: Coming back this early is close enough: the slot is used.
EARLY_SECONDS = 0.05


@dataclass
class ChannelPace:
    per_second: float = 1.0
    burst: int = 3
    clock: Callable[[], float] = time.monotonic
    #: Per channel: the theoretical arrival time of the next message (GCRA's TAT).
    _next: dict[str, float] = field(default_factory=dict)
    #: Slots handed out and not used yet: item key -> (channel, time).
    _held: dict[object, tuple[str, float]] = field(default_factory=dict)
    #: When stale slots were last looked for (a flood holds thousands: not on every call).
    _swept_at: float = float("-inf")

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second

    def wait(self, channel: str, key: object) -> float:
        """Seconds until `key` may post in `channel` (0: now). The slot stays `key`'s."""
        now = self.clock()
        held = self._held.get(key)
        if held is not None and held[0] == channel:
            if held[1] - now <= EARLY_SECONDS:
                del self._held[key]
                return 0.0
            return held[1] - now
        self._forget_stale(now)
        tolerance = (self.burst - 1) * self.interval
        arrival = max(self._next.get(channel, now), now)
        self._next[channel] = arrival + self.interval
        start = arrival - tolerance
        if start - now <= EARLY_SECONDS:
            return 0.0
        self._held[key] = (channel, start)
        return start - now

    def behind(self, channel: str) -> bool:
        """Are posts waiting for their slots in `channel` (a flood may be on)?"""
        return any(held == channel for held, _ in self._held.values())

    def jump(self, channel: str) -> None:
        """A message that may not wait (the flood digest) goes now; later slots move on."""
        now = self.clock()
        self._next[channel] = max(self._next.get(channel, now), now) + self.interval

    def take(self, channel: str, key: object) -> None:
        """Go ahead when `key`'s slot has come; otherwise come back then (not an attempt)."""
        delay = self.wait(channel, key)
        if delay > 0:
            raise RetryLater(
                f"paced: {channel} takes about {self.per_second:g} message/s",
                after=delay,
                maybe_delivered=False,
                counts=False,
            )

    def _forget_stale(self, now: float) -> None:
        if now - self._swept_at < SWEEP_SECONDS:
            return
        self._swept_at = now
        for key in [k for k, (_, at) in self._held.items() if at + STALE_SECONDS < now]:
            del self._held[key]
