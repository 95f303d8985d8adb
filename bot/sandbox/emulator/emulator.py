"""`SlackEmulator`: the server on its own thread and event loop, plus what tests use.

Running on a private loop in a background thread lets one emulator serve session-scoped sync
fixtures, in-process bolt apps on the test's loop and bots in subprocesses alike. Every
accessor takes the state lock and returns deep copies, so tests can read from any thread.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Self

from aiohttp import web

from bot.sandbox.emulator import payloads
from bot.sandbox.emulator.api import Content, bot_message
from bot.sandbox.emulator.config import JSON, Channel, User, WorkspaceConfig
from bot.sandbox.emulator.faults import ChannelRateLimit, FaultInjector
from bot.sandbox.emulator.reading import StateReader
from bot.sandbox.emulator.response_urls import ResponseOrigin
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.socket_mode import SocketAck, SocketModeHub
from bot.sandbox.emulator.state import (
    Clock,
    Ephemeral,
    Message,
    SlackState,
    ViewRecord,
)
from bot.sandbox.emulator.validation import invalid_arguments_messages, validate_view

START_TIMEOUT = 10.0


class SlackEmulator(StateReader):
    """An offline Slack workspace: Web API, upload, response_url and Socket Mode endpoints."""

    def __init__(self, config: WorkspaceConfig | None = None, *, clock: Clock = time.time) -> None:
        self.config = config or WorkspaceConfig()
        self.state = SlackState(self.config, clock)
        self.faults = FaultInjector()
        self.rate_limit = ChannelRateLimit()
        self._server = EmulatorServer(self.state, self.faults, self.rate_limit)
        self.socket = SocketModeHub(self.state)
        self._server.extra_routes.append(web.get("/link/", self.socket.handle))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        """Serve on 127.0.0.1 with an OS-assigned port; returns once it accepts connections."""
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="slack-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT) or failure:
            self.stop()
            raise RuntimeError(f"Slack emulator did not start: {failure or 'timeout'}")
        return self

    async def _serve(self) -> None:
        self._runner = web.AppRunner(self._server.build_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._server.root_url = self.url

    def stop(self) -> None:
        """Close connections, stop the loop and join the thread (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(START_TIMEOUT)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT)
        loop.close()
        self._loop = self._thread = None

    async def _shutdown(self) -> None:
        await self.socket.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_on_loop(self, coro_factory: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run a coroutine on the emulator's loop from another thread (Socket Mode pushes)."""
        if self._loop is None:
            raise RuntimeError("Start the emulator first (SlackEmulator.start()).")
        return asyncio.run_coroutine_threadsafe(coro_factory(), self._loop).result(timeout)

    # -- addresses and knobs -----------------------------------------------------------

    @property
    def url(self) -> str:
        """Root URL, e.g. 'http://127.0.0.1:54321'."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The Web API base for AsyncWebClient(base_url=…), ending in '/api/'."""
        return f"{self.url}/api/"

    @property
    def bot_token(self) -> str:
        """The first configured bot token."""
        return self.config.bot_tokens[0]

    @property
    def clock(self) -> Clock:
        """The clock behind ts values, trigger and response_url expiry, rate limits."""
        return self.state.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        with self.state.lock:
            self.state.clock = clock

    @property
    def trigger_ttl(self) -> float:
        """Seconds a trigger_id stays usable (Slack: 3)."""
        return self.state.triggers.ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        with self.state.lock:
            self.state.triggers.ttl = seconds

    def reset(self) -> None:
        """Back to the configured workspace: no records, faults, rate limit or sockets' queue."""
        self.faults.clear()
        self.rate_limit.disable()
        with self.state.changed:
            self.state.reset()
            self.socket.reset()
            self.state.changed.notify_all()

    @contextmanager
    def _mutate(self) -> Iterator[SlackState]:
        with self.state.changed:
            yield self.state
            self.state.changed.notify_all()

    # -- workspace setup ---------------------------------------------------------------

    def add_user(self, user: User) -> User:
        """Add (or replace) a workspace member."""
        with self._mutate() as state:
            state.users[user.id] = copy.deepcopy(user)
        return user

    def add_channel(self, channel: Channel) -> Channel:
        """Add (or replace) a channel."""
        with self._mutate() as state:
            state.channels[channel.id] = copy.deepcopy(channel)
        return channel

    def add_member(self, channel: str, user: str) -> None:
        """Put a user into a channel (no event is delivered; see the driver for that)."""
        with self._mutate() as state:
            members = state.channels[channel].members
            if user not in members:
                members.append(user)

    def remove_member(self, channel: str, user: str) -> None:
        """Take a user out of a channel."""
        with self._mutate() as state:
            members = state.channels[channel].members
            if user in members:
                members.remove(user)

    def set_scopes(self, scopes: list[str]) -> None:
        """Replace the bot token's scopes (missing_scope and auth.test's header follow)."""
        with self._mutate() as state:
            state.scopes = list(scopes)

    def revoke_token(self, token: str) -> None:
        """Make a token answer token_revoked."""
        with self._mutate() as state:
            state.revoked_tokens.add(token)

    # -- what the driver needs ---------------------------------------------------------

    def issue_trigger(self, user_id: str, **context: Any) -> str:
        """A trigger_id for an interaction by `user_id` (3 s, single use)."""
        with self._mutate() as state:
            return state.triggers.issue(user_id, state.clock(), **context)

    def issue_response_url(self, origin: ResponseOrigin) -> str:
        """A response_url on this emulator for an interaction."""
        with self._mutate() as state:
            entry = state.response_urls.issue(origin, state.clock())
        return f"{self.url}/response/{entry.id}"

    def record_user_message(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """A message a human posted (so the bot can thread, react or link to it).

        Only members post in a channel, as in Slack; the message carries the author's own
        team (a Slack Connect member's organisation).
        """
        with self._mutate() as state:
            chan = state.channels.get(channel)
            if chan is None or user not in chan.members:
                raise LookupError(f"{user} is not a member of {channel} and cannot post there")
            author = state.users.get(user)
            team = author.home_team(state.config.team_id) if author else state.config.team_id
            parent = state.find_message(channel, thread_ts) if thread_ts else None
            if parent is not None and parent.is_reply:
                thread_ts = parent.thread_ts
            msg = Message(
                channel=channel,
                ts=state.next_ts(),
                text=text,
                user=user,
                team=team,
                thread_ts=thread_ts,
                source="user",
            )
            state.add_message(msg)
            return copy.deepcopy(msg)

    def bot_profile(self) -> JSON:
        """The bot_profile Slack attaches to the bot's own messages and their events."""
        with self.state.lock:
            return self.state.bot_profile()

    def im_channel_id(self, user_id: str) -> str:
        """The id of the bot's DM with a user (created on first use)."""
        with self._mutate() as state:
            return state.im_channel(user_id).id

    def message_event(self, message: Message) -> JSON:
        """The event_callback Slack would deliver for a recorded message (bot's own included)."""
        with self.state.lock:
            channel = self.state.channels[message.channel]
            profile = self.state.bot_profile() if message.bot_id else None
            parent = self.state.find_message(message.channel, message.thread_ts or "")
            parent_user = parent.user if parent is not None and message.is_reply else None
            event = payloads.message_event(message, channel, profile, parent_user)
            return payloads.event_envelope(self.config, event)

    def socket_connections(self) -> int:
        """How many Socket Mode connections are open."""
        with self.state.lock:
            return len(self.socket.connections)

    def socket_ack(self, envelope_id: str) -> SocketAck | None:
        """The app's Socket Mode ack for an envelope, once it arrived."""
        with self.state.lock:
            return self.socket.acks.get(envelope_id)

    def apply_command_ack(self, channel: str, user: str, body: str) -> None:
        """Show a slash command's immediate answer as Slack does (ephemeral unless in_channel)."""
        if not body.strip():
            return
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = {"text": body}
        if not isinstance(parsed, dict):
            parsed = {"text": body}
        with self._mutate() as state:
            text, blocks = str(parsed.get("text") or ""), parsed.get("blocks")
            if parsed.get("response_type") == "in_channel":
                content = Content(text, blocks, None, False)
                state.add_message(bot_message(state, channel, content, source="ack"))
                return
            eph = Ephemeral(channel, user, state.next_ts(), text, blocks, source="ack")
            state.ephemerals.append(eph)

    def apply_view_ack(self, view_id: str, ack: JSON | None) -> list[str]:
        """What Slack does with a view_submission ack: close, update, push, clear or errors.

        Returns Slack's messages for an invalid `view` in the ack (nothing is applied then).
        """
        ack = ack or {}
        action = ack.get("response_action")
        if action in ("update", "push"):
            violations = validate_view(ack.get("view"), kinds=("modal",))
            if violations:
                return invalid_arguments_messages(violations)
        with self._mutate() as state:
            rec = state.views[view_id]
            root = rec.root_view_id or rec.id
            if action == "update":
                rec.history.append(rec.view)
                rec.view = copy.deepcopy(ack["view"])
                rec.hash = f"{int(state.clock())}.{state.serial():07d}"
            elif action == "push":
                pushed = ViewRecord(
                    id=state.new_id("V"),
                    type="modal",
                    user_id=rec.user_id,
                    hash=f"{int(state.clock())}.{state.serial():07d}",
                    view=copy.deepcopy(ack["view"]),
                    root_view_id=root,
                    previous_view_id=rec.id,
                )
                state.views[pushed.id] = pushed
            elif action != "errors":
                for other in state.views.values():
                    same_stack = (other.root_view_id or other.id) == root
                    if other.id == rec.id or (action == "clear" and same_stack):
                        other.closed = True
        return []
