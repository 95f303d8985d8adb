"""Cached facts about Slack people and channels: who is in a queue channel, what agents are called.

Membership decides who may act, so it is cached only briefly and refreshed at
once from `member_joined_channel` / `member_left_channel` events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

Monotonic = Callable[[], float]
LOOKUP_SECONDS = 1.5


class ChannelMembers:
    def __init__(
        self, client: AsyncWebClient, *, ttl: float = 60.0, clock: Monotonic = time.monotonic
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._members: dict[str, tuple[float, set[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _fetch(self, channel: str) -> set[str]:
        members: set[str] = set()
        cursor = ""
        while True:
            response = await self._client.conversations_members(
                channel=channel, limit=1000, cursor=cursor or None
            )
            members.update(response.get("members", []))
            cursor = (response.get("response_metadata") or {}).get("next_cursor", "")
            if not cursor:
                return members

    async def members(self, channel: str) -> set[str]:
        cached = self._members.get(channel)
        if cached and self._clock() - cached[0] < self._ttl:
            return cached[1]
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            cached = self._members.get(channel)
            if cached and self._clock() - cached[0] < self._ttl:
                return cached[1]
            try:
                members = await self._fetch(channel)
            except Exception:
                if cached:  # Slack is unreachable: the last known list beats refusing everyone
                    logger.warning(
                        "could not refresh members of %s; using the cached list", channel
                    )
                    return cached[1]
                raise
            self._members[channel] = (self._clock(), members)
            return members

    async def is_member(self, channel: str, user: str) -> bool:
        return user in await self.members(channel)

    def joined(self, channel: str, user: str) -> None:
        if channel in self._members:
            self._members[channel][1].add(user)

    def left(self, channel: str, user: str) -> None:
        if channel in self._members:
            self._members[channel][1].discard(user)


class People:
    """Agents' names (for the From of their mail) and time zones (for reports), cached for
    the process lifetime."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._names: dict[str, str] = {}
        self._zones: dict[str, str] = {}

    def cached(self, user: str) -> str | None:
        return self._names.get(user)

    async def _lookup(self, user: str) -> bool:
        try:
            async with asyncio.timeout(LOOKUP_SECONDS):  # it may sit before a 3-second ack
                response = await self._client.users_info(user=user)
        except Exception:
            logger.warning("users.info failed for %s", user)
            return False
        record = response["user"]
        profile = record.get("profile", {})
        name = (  # the full name reads better to customers than a Slack handle
            profile.get("real_name")
            or record.get("real_name")
            or profile.get("display_name")
            or record.get("name")
        )
        if name:
            self._names[user] = str(name)
        self._zones[user] = str(record.get("tz") or "UTC")
        return True

    async def name(self, user: str, *, fallback: str = "") -> str:
        known = self._names.get(user)
        if known is None and await self._lookup(user):
            known = self._names.get(user)
        return known or fallback or user

    async def timezone(self, user: str) -> str:
        """The IANA zone of the user's Slack profile; "UTC" when Slack cannot say."""
        if user not in self._zones and not await self._lookup(user):
            return "UTC"
        return self._zones.get(user, "UTC")
