"""Thread-safe reads of emulator state, and waiting for the bot to do something.

Every accessor takes the state lock and returns deep copies, so a test can read from any
thread while the server thread keeps writing.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import TypeVar

from bot.sandbox.emulator.config import Channel, User
from bot.sandbox.emulator.state import (
    ApiCall,
    Ephemeral,
    Message,
    ResponseUrlPost,
    SlackState,
    UploadedFile,
    ViewRecord,
)

T = TypeVar("T")


class StateReader:
    """Read-only accessors over `self.state`, mixed into `SlackEmulator`."""

    state: SlackState

    def _read(self, fn: Callable[[SlackState], T]) -> T:
        with self.state.lock:
            return copy.deepcopy(fn(self.state))

    def messages(self, channel: str, *, include_deleted: bool = False) -> list[Message]:
        """Top-level messages of a channel, oldest first (broadcast replies included)."""
        return self._read(
            lambda s: [
                m
                for m in s.messages.get(channel, [])
                if (not m.is_reply or m.reply_broadcast) and (include_deleted or not m.deleted)
            ]
        )

    def channel_with_threads(self, channel: str) -> list[Message]:
        """Every message of a channel with every thread reply, oldest first (one read)."""
        return self._read(lambda s: [m for m in s.messages.get(channel, []) if not m.deleted])

    def replies(self, channel: str, thread_ts: str) -> list[Message]:
        """Replies in one thread, oldest first (the parent excluded)."""
        return self._read(
            lambda s: [
                m
                for m in s.messages.get(channel, [])
                if m.is_reply and m.thread_ts == thread_ts and not m.deleted
            ]
        )

    def message(self, channel: str, ts: str) -> Message | None:
        """One message by ts (deleted ones included, flagged)."""
        return self._read(lambda s: s.find_message(channel, ts))

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        """Ephemeral messages, optionally for one channel and/or user."""
        return self._read(
            lambda s: [
                e
                for e in s.ephemerals
                if (channel is None or e.channel == channel) and (user is None or e.user == user)
            ]
        )

    def views(self, user_id: str | None = None, callback_id: str | None = None) -> list[ViewRecord]:
        """Opened/pushed/published views, in creation order."""
        return self._read(
            lambda s: [
                v
                for v in s.views.values()
                if (user_id is None or v.user_id == user_id)
                and (callback_id is None or v.callback_id == callback_id)
            ]
        )

    def view(self, view_id: str) -> ViewRecord:
        """One view by id."""
        return self._read(lambda s: s.views[view_id])

    def home_view(self, user_id: str) -> ViewRecord | None:
        """The Home tab currently published for a user."""
        return self._read(lambda s: s.views.get(s.home_views.get(user_id, "")))

    def files(self) -> list[UploadedFile]:
        """Every file reserved, uploaded or completed."""
        return self._read(lambda s: list(s.files.values()))

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """The Web API call log, optionally for one method."""
        return self._read(lambda s: [c for c in s.calls if method is None or c.method == method])

    def response_posts(self) -> list[ResponseUrlPost]:
        """Every POST to a response_url."""
        return self._read(lambda s: list(s.response_posts))

    def user(self, user_id: str) -> User:
        """A workspace member."""
        return self._read(lambda s: s.users[user_id])

    def channel(self, channel_id: str) -> Channel:
        """A channel (members included)."""
        return self._read(lambda s: s.channels[channel_id])

    # -- waiting -----------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
        """Block until `predicate()` is truthy (re-checked on every state change).

        Only from threads that do not run the bot; an in-process bot needs `wait_for_async`.
        """
        with self.state.changed:
            result = self.state.changed.wait_for(predicate, timeout)
        if not result:
            raise TimeoutError(f"Slack emulator: not reached in {timeout}s: {what or predicate}")
        return result

    async def wait_for_async(
        self,
        predicate: Callable[[], T],
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for polling, not an I/O timeout
        what: str = "",
    ) -> T:
        """Poll `predicate()` without blocking the caller's event loop (for in-process bots)."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Slack emulator: not reached in {timeout}s: {what or predicate}"
                )
            await asyncio.sleep(0.005)
