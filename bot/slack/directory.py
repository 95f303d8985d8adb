"""Cached facts about Slack people and channels: who is in a queue channel, who someone is
(workspace, guest or not, name, time zone), and which workspace is ours.

These facts decide who may see and work tickets, so both caches expire (membership is also
refreshed at once from `member_joined_channel` / `member_left_channel` events). When Slack
cannot answer, the last known answer is used; with none, `CannotCheck` is raised and the
caller refuses (fail closed).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

Monotonic = Callable[[], float]
LOOKUP_SECONDS = 1.5  # a lookup may sit before a 3-second ack
MEMBERS_TTL_SECONDS = 60.0
PEOPLE_TTL_SECONDS = 600.0  # guests are rarely promoted or demoted; names change less
# users.info answers that are facts about the user, not failures: such a user is nobody here.
NOT_A_PERSON_ERRORS = frozenset({"user_not_found", "user_not_visible"})


class CannotCheck(Exception):
    """Slack could not say who someone is or who is in a channel, and nothing is cached:
    refuse and ask to try again."""


class ChannelMembers:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = MEMBERS_TTL_SECONDS,
        clock: Monotonic = time.monotonic,
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
        """The channel's members; `CannotCheck` when Slack fails and nothing is cached."""
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
            except Exception as error:
                if cached:  # Slack is unreachable: the last known list beats refusing everyone
                    logger.warning(
                        "could not refresh members of %s; using the cached list", channel
                    )
                    return cached[1]
                logger.warning("cannot list the members of %s: %s", channel, why(error))
                raise CannotCheck(f"members of {channel}") from error
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


@dataclass(frozen=True, slots=True)
class Person:
    """What users.info says about someone, as far as ticketbot cares."""

    user_id: str
    team_id: str  # their own workspace: another one for Slack Connect members
    name: str = ""
    timezone: str = "UTC"
    is_restricted: bool = False  # a guest (multi-channel, and single-channel too)
    is_ultra_restricted: bool = False  # a single-channel guest
    deleted: bool = False
    email: str = ""  # with users:read.email; a customer in a shared channel has one

    @property
    def is_guest(self) -> bool:
        return self.is_restricted or self.is_ultra_restricted

    @staticmethod
    def from_api(user_id: str, record: dict[str, Any]) -> Person:
        profile = record.get("profile") or {}
        name = (  # the full name reads better to customers than a Slack handle
            profile.get("real_name")
            or record.get("real_name")
            or profile.get("display_name")
            or record.get("name")
            or ""
        )
        return Person(
            user_id=user_id,
            team_id=str(record.get("team_id") or ""),
            name=str(name),
            timezone=str(record.get("tz") or "UTC"),
            is_restricted=bool(record.get("is_restricted")),
            is_ultra_restricted=bool(record.get("is_ultra_restricted")),
            deleted=bool(record.get("deleted")),
            email=str(profile.get("email") or ""),
        )

    @staticmethod
    def nobody(user_id: str) -> Person:
        """Slack says there is no such user we may see: belongs to no workspace of ours."""
        return Person(user_id=user_id, team_id="")


class People:
    """users.info, cached with a TTL: names (the From of agents' mail), time zones (reports)
    and the facts that decide whether someone may be an agent at all. Also knows our own
    workspace (`team_id`, from auth.test unless the runtime already knows it)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        team_id: str | None = None,
        ttl: float = PEOPLE_TTL_SECONDS,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._people: dict[str, tuple[float, Person]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._team_id = team_id or None
        self._team_lock = asyncio.Lock()

    def cached(self, user: str) -> str | None:
        """The user's name if any lookup ever found one (names need not be fresh)."""
        known = self._people.get(user)
        if known is None:
            return None
        return known[1].name or None

    async def person(self, user: str) -> Person:
        """Who `user` is, at most `ttl` old; the last known answer when Slack fails;
        `CannotCheck` when Slack fails and nothing is known."""
        cached = self._people.get(user)
        if cached and self._clock() - cached[0] < self._ttl:
            return cached[1]
        lock = self._locks.setdefault(user, asyncio.Lock())
        async with lock:
            cached = self._people.get(user)
            if cached and self._clock() - cached[0] < self._ttl:
                return cached[1]
            try:
                found = await self._lookup(user)
            except Exception as error:
                if cached:
                    logger.warning("users.info failed for %s; using what was known", user)
                    return cached[1]
                logger.warning("users.info failed for %s: %s", user, why(error))
                raise CannotCheck(f"who {user} is") from error
            self._people[user] = (self._clock(), found)
            return found

    async def _lookup(self, user: str) -> Person:
        try:
            async with asyncio.timeout(LOOKUP_SECONDS):
                response = await self._client.users_info(user=user)
        except SlackApiError as error:
            if _error_code(error) in NOT_A_PERSON_ERRORS:
                return Person.nobody(user)
            raise
        return Person.from_api(user, dict(response["user"]))

    async def name(self, user: str, *, fallback: str = "") -> str:
        known = self.cached(user)
        if known is None:
            try:
                known = (await self.person(user)).name or None
            except CannotCheck:
                known = None
        return known or fallback or user

    async def timezone(self, user: str) -> str:
        """The IANA zone of the user's Slack profile; "UTC" when Slack cannot say."""
        try:
            return (await self.person(user)).timezone
        except CannotCheck:
            return "UTC"

    async def our_team(self) -> str:
        """Our workspace's id: given at start-up, or asked of auth.test once."""
        if self._team_id is not None:
            return self._team_id
        async with self._team_lock:
            if self._team_id is None:
                try:
                    async with asyncio.timeout(LOOKUP_SECONDS):
                        response = await self._client.auth_test()
                except Exception as error:
                    logger.warning("auth.test failed: %s", why(error))
                    raise CannotCheck("which workspace is ours") from error
                team = str(response.get("team_id") or "")
                if not team:
                    raise CannotCheck("auth.test named no team")
                self._team_id = team
            return self._team_id


def why(error: BaseException) -> str:
    """One line for the log: Slack's error code and HTTP status, or the exception's kind."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code if error.response is not None else "?"
        return f"{_error_code(error) or 'no error code'} (HTTP {status})"
    return type(error).__name__


def _error_code(error: SlackApiError) -> str:
    data = error.response.data if error.response is not None else None
    return str(data.get("error", "")) if isinstance(data, dict) else ""
