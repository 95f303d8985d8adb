"""The flood digest: one message instead of a wall of cards when many tickets arrive at once.

When more than `threshold` new tickets wait for their cards in one channel, one message
says so ("N new tickets — `/ticket queue`") and is kept up to date while the cards
follow at the pace Slack takes; when the last card is in, it says that. The digest goes
ahead of the paced cards (an agent should learn of the flood now, not in five minutes)
and is updated at most every `refresh_seconds`. Its state lives in this process: after a
restart a flood that is still draining gets a new digest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.delivery.pace import ChannelPace
from bot.render.digest import digest_message
from models.errors import RetryLater

logger = logging.getLogger(__name__)

RETRY_SECONDS = 2.0  # after a refused digest call without Retry-After

Call = Callable[..., Awaitable[dict[str, Any]]]


@dataclass
class _Digest:
    ts: str
    total: int  # tickets of this flood: those waiting when it began, and each arrival since
    last: int  # waiting at the last look
    shown: int  # waiting as the message says
    updated_at: float


@dataclass
class FloodDigest:
    threshold: int
    pace: ChannelPace
    command: str = "/ticket"
    refresh_seconds: float = 15.0
    clock: Callable[[], float] = time.monotonic
    _digests: dict[str, _Digest] = field(default_factory=dict)
    _not_before: dict[str, float] = field(default_factory=dict)  # after a refusal
    #: Cards of one channel are delivered concurrently: one of them looks at a time.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def active(self, channel: str) -> bool:
        return channel in self._digests

    async def waiting(self, call: Call, channel: str, count: int) -> None:
        """`count` new tickets wait for their cards in `channel`: post, refresh or close."""
        async with self._lock:
            digest = self._digests.get(channel)
            now = self.clock()
            if now < self._not_before.get(channel, now):
                return
            try:
                await self._show(call, channel, count, digest, now)
            except RetryLater as exc:
                self._not_before[channel] = now + (exc.after or RETRY_SECONDS)
                raise

    async def _show(
        self, call: Call, channel: str, count: int, digest: _Digest | None, now: float
    ) -> None:
        if digest is None:
            if count > self.threshold:
                await self._post(call, channel, count, now)
            return
        digest.total += max(0, count - digest.last)  # more arrived than were posted
        digest.last = count
        if count == 0:
            await self._update(call, channel, digest, 0)
            del self._digests[channel]
        elif count != digest.shown and now - digest.updated_at >= self.refresh_seconds:
            await self._update(call, channel, digest, count)

    async def _post(self, call: Call, channel: str, count: int, now: float) -> None:
        text, blocks = digest_message(count, count, self.command)
        self.pace.jump(channel)
        data = await call("chat.postMessage", channel=channel, text=text, blocks=blocks)
        self._digests[channel] = _Digest(str(data["ts"]), count, count, count, now)
        logger.info("%d new tickets wait for their cards in %s: digest posted", count, channel)

    async def _update(self, call: Call, channel: str, digest: _Digest, count: int) -> None:
        text, blocks = digest_message(count, digest.total, self.command)
        self.pace.jump(channel)
        await call("chat.update", channel=channel, ts=digest.ts, text=text, blocks=blocks)
        digest.shown, digest.updated_at = count, self.clock()
