"""Deliver what Slack would deliver to the bot — signed, timed, and forgeable on purpose.

`SlackDriver` builds the exact bodies of SLACK.md §1.3 from the emulator's records (so clicks
carry a live trigger_id and a response_url on the emulator), signs them with Slack's v0 scheme
using real time (bolt checks ±300 s against its own clock), POSTs them to the bot and reports
status, body and ack latency. With `transport="socket"` the same deliveries go through the
emulator's Socket Mode endpoint instead and the ack comes back over the WebSocket.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import Coroutine, Mapping
from dataclasses import replace
from typing import Any, Self

import aiohttp

from bot.sandbox.emulator import Ephemeral, Message, ResponseOrigin, SlackEmulator
from bot.sandbox.emulator import payloads as pl
from bot.sandbox.emulator.config import JSON
from bot.sandbox.emulator.delivery import (
    BAD_SIGNATURE,
    STALE,
    UNSIGNED,
    Delivery,
    Tamper,
    sign,
    signed_headers,
)

__all__ = [
    "BAD_SIGNATURE",
    "STALE",
    "UNSIGNED",
    "Delivery",
    "SlackDriver",
    "SyncSlackDriver",
    "Tamper",
    "sign",
    "signed_headers",
]


class SlackDriver:
    """Signed deliveries to a bot at `bot_url` (e.g. 'http://127.0.0.1:3000/slack/events')."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        emulator: SlackEmulator,
        *,
        transport: str = "http",
        timeout: float = 10.0,
    ) -> None:
        self.bot_url = bot_url
        self.signing_secret = signing_secret
        self.emulator = emulator
        self.transport = transport
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- transport ---------------------------------------------------------------------

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        kind: str = "raw",
        payload: Mapping[str, Any] | None = None,
        tamper: Tamper | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Delivery:
        """POST a body, signed (or forged), and time the answer."""
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        all_headers = {"Content-Type": content_type, **dict(headers or {})}
        all_headers.update(signed_headers(self.signing_secret, body, tamper))
        started = time.monotonic()
        async with self._session.post(self.bot_url, data=body.encode(), headers=all_headers) as r:
            text = await r.text()
            latency = time.monotonic() - started
            return Delivery(kind, payload or {}, r.status, text, latency, dict(r.headers))

    async def _deliver(
        self,
        kind: str,
        envelope: str,
        payload: JSON,
        body: str,
        content_type: str,
        *,
        tamper: Tamper | None = None,
        retry: tuple[int, str] = (0, ""),
    ) -> Delivery:
        """Over HTTP (signed, retries as x-slack-retry-* headers) or as a Socket Mode envelope."""
        if self.transport == "socket":
            return await self._via_socket(kind, envelope, payload, retry)
        headers = {}
        if retry[0]:
            headers = {"X-Slack-Retry-Num": str(retry[0]), "X-Slack-Retry-Reason": retry[1]}
        return await self.post(
            body, content_type, kind=kind, payload=payload, tamper=tamper, headers=headers
        )

    async def _via_socket(
        self, kind: str, envelope: str, payload: JSON, retry: tuple[int, str]
    ) -> Delivery:
        emu = self.emulator
        started = time.monotonic()
        env_id = emu.run_on_loop(
            lambda: emu.socket.send(
                envelope, payload, retry_attempt=retry[0], retry_reason=retry[1]
            )
        )
        try:
            ack = await emu.wait_for_async(
                lambda: emu.socket_ack(env_id), self.timeout, f"ack of {kind}"
            )
        except TimeoutError:
            return Delivery(kind, payload, 0, "", time.monotonic() - started)
        assert ack is not None
        body = json.dumps(ack.payload) if ack.payload else ""
        return Delivery(kind, payload, 200, body, time.monotonic() - started)

    async def _interaction(self, kind: str, payload: JSON, tamper: Tamper | None) -> Delivery:
        body = "payload=" + urllib.parse.quote(json.dumps(payload))
        return await self._deliver(
            kind,
            "interactive",
            payload,
            body,
            "application/x-www-form-urlencoded",
            tamper=tamper,
        )

    # -- Events API --------------------------------------------------------------------

    async def send_event(
        self,
        event: JSON,
        *,
        tamper: Tamper | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> Delivery:
        """Wrap `event` in an event_callback envelope and deliver it (optionally as a retry)."""
        envelope = pl.event_envelope(self.emulator.config, event)
        return await self._deliver(
            f"event:{event.get('type')}",
            "events_api",
            envelope,
            json.dumps(envelope),
            "application/json",
            tamper=tamper,
            retry=(retry_num or 0, retry_reason),
        )

    async def url_verification(
        self, challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    ) -> Delivery:
        """The Request URL handshake (bolt wants it signed too)."""
        body = pl.url_verification(challenge)
        return await self.post(
            json.dumps(body), "application/json", kind="url_verification", payload=body
        )

    async def deliver_message(self, message: Message, *, tamper: Tamper | None = None) -> Delivery:
        """The `message` event for a recorded message — also the bot's own (bolt must drop it)."""
        event = self.emulator.message_event(message)["event"]
        return await self.send_event(event, tamper=tamper)

    async def user_message(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> Delivery:
        """A human posts (recorded in the emulator) and Slack delivers the message event."""
        msg = self.emulator.record_user_message(channel, user, text, thread_ts=thread_ts)
        return await self.deliver_message(msg)

    async def member_joined_channel(self, channel: str, user: str) -> Delivery:
        """A user joins a channel: membership changes, then the event goes out."""
        self.emulator.add_member(channel, user)
        event = {
            "type": "member_joined_channel",
            "user": user,
            "channel": channel,
            "channel_type": "C",
            "team": self.emulator.config.team_id,
            "event_ts": f"{time.time():.6f}",
        }
        return await self.send_event(event)

    async def app_home_opened(self, user: str, tab: str = "home") -> Delivery:
        """A user opens the app's Home (or Messages) tab."""
        home = self.emulator.home_view(user)
        event: JSON = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.emulator.im_channel_id(user),
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        if home is not None:
            cfg = self.emulator.config
            event["view"] = home.to_api(cfg.team_id, cfg.app_id, cfg.bot_id)
        return await self.send_event(event)

    # -- interactivity -----------------------------------------------------------------

    async def click(
        self,
        message: Message | Ephemeral,
        action_id: str,
        *,
        user: str,
        value: str | None = None,
        selected: Any = None,
        tamper: Tamper | None = None,
    ) -> Delivery:
        """A user uses an element of a message (or ephemeral): block_actions with fresh ids."""
        emu, cfg = self.emulator, self.emulator.config
        is_eph = isinstance(message, Ephemeral)
        ts = message.message_ts if isinstance(message, Ephemeral) else message.ts
        found = pl.find_element(message.blocks or [], action_id)
        if found is None:
            raise LookupError(f"No element with action_id {action_id!r} in message {ts}")
        block_id, element = found
        kind = "ephemeral" if is_eph else "message"
        origin = ResponseOrigin(kind, user, message.channel, ts)
        response_url = emu.issue_response_url(origin)
        trigger_id = emu.issue_trigger(user, channel=message.channel, message_ts=ts)
        payload = pl.block_actions(
            cfg,
            emu.user(user),
            [pl.action_for(block_id, element, value=value, selected=selected)],
            trigger_id=trigger_id,
            container={
                "type": "message",
                "message_ts": ts,
                "channel_id": message.channel,
                "is_ephemeral": is_eph,
            },
            channel=emu.channel(message.channel),
            message=_message_json(emu, message),
            response_url=response_url,
        )
        result = await self._interaction("block_actions", payload, tamper)
        return replace(result, trigger_id=trigger_id, response_url=response_url)

    async def click_in_view(
        self,
        view_id: str,
        action_id: str,
        *,
        value: str | None = None,
        selected: Any = None,
        values: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Delivery:
        """A user uses an element inside a modal or Home tab (no response_url, per Slack);
        `values` is what the view's inputs hold then (`view.state.values`, as in submit_view)."""
        emu, cfg = self.emulator, self.emulator.config
        rec = emu.view(view_id)
        found = pl.find_element(rec.blocks, action_id)
        if found is None:
            raise LookupError(f"No element with action_id {action_id!r} in view {view_id}")
        block_id, element = found
        trigger_id = emu.issue_trigger(rec.user_id, view_id=view_id)
        view = rec.to_api(cfg.team_id, cfg.app_id, cfg.bot_id)
        view["state"] = {"values": pl.state_values(rec.blocks, values or {})}
        payload = pl.block_actions(
            cfg,
            emu.user(rec.user_id),
            [pl.action_for(block_id, element, value=value, selected=selected)],
            trigger_id=trigger_id,
            container={"type": "view", "view_id": view_id},
            view=view,
        )
        result = await self._interaction("block_actions", payload, None)
        return replace(result, trigger_id=trigger_id, response_url=None)

    async def submit_view(
        self,
        view_id: str,
        values: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        tamper: Tamper | None = None,
    ) -> Delivery:
        """Submit a modal with `{block_id: {action_id: value}}`; the ack is applied like Slack.

        A 200 ack closes, updates, pushes or clears views in the emulator; `errors` leaves the
        view open and is visible in `delivery.json()`.
        """
        emu, cfg = self.emulator, self.emulator.config
        rec = emu.view(view_id)
        view = rec.to_api(cfg.team_id, cfg.app_id, cfg.bot_id)
        view["state"] = {"values": pl.state_values(rec.blocks, values or {})}
        trigger_id = emu.issue_trigger(rec.user_id, view_id=view_id)
        payload = pl.view_submission(cfg, emu.user(rec.user_id), view, trigger_id=trigger_id)
        result = await self._interaction("view_submission", payload, tamper)
        errors: list[str] = []
        if result.status == 200:
            ack = result.json()
            errors = emu.apply_view_ack(view_id, ack if isinstance(ack, dict) else None)
        return replace(result, trigger_id=trigger_id, view_errors=errors)

    async def close_view(self, view_id: str) -> Delivery | None:
        """The user dismisses a modal; view_closed is sent only if notify_on_close was set."""
        emu, cfg = self.emulator, self.emulator.config
        rec = emu.view(view_id)
        emu.apply_view_ack(view_id, None)
        if not rec.view.get("notify_on_close"):
            return None
        view = rec.to_api(cfg.team_id, cfg.app_id, cfg.bot_id)
        return await self._interaction(
            "view_closed", pl.view_closed(cfg, emu.user(rec.user_id), view), None
        )

    async def global_shortcut(self, callback_id: str, *, user: str) -> Delivery:
        """A user picks a global shortcut (from the composer's shortcut menu)."""
        emu = self.emulator
        trigger_id = emu.issue_trigger(user, callback_id=callback_id)
        payload = pl.global_shortcut(
            emu.config, emu.user(user), callback_id=callback_id, trigger_id=trigger_id
        )
        result = await self._interaction("shortcut", payload, None)
        return replace(result, trigger_id=trigger_id, response_url=None)

    async def message_shortcut(self, message: Message, callback_id: str, *, user: str) -> Delivery:
        """A user picks a message shortcut on `message` (a `message_action`)."""
        emu = self.emulator
        origin = ResponseOrigin("message", user, message.channel, message.ts)
        response_url = emu.issue_response_url(origin)
        trigger_id = emu.issue_trigger(user, channel=message.channel, message_ts=message.ts)
        payload = pl.message_shortcut(
            emu.config,
            emu.user(user),
            emu.channel(message.channel),
            _message_json(emu, message),
            callback_id=callback_id,
            trigger_id=trigger_id,
            response_url=response_url,
        )
        result = await self._interaction("message_action", payload, None)
        return replace(result, trigger_id=trigger_id, response_url=response_url)

    async def slash_command(
        self,
        text: str,
        *,
        user: str,
        channel: str,
        command: str = "/ticket",
        tamper: Tamper | None = None,
    ) -> Delivery:
        """A user runs a slash command; a 200 ack with a body is shown as Slack shows it."""
        emu = self.emulator
        response_url = emu.issue_response_url(ResponseOrigin("command", user, channel))
        trigger_id = emu.issue_trigger(user, channel=channel, command=command)
        form = pl.slash_command(
            emu.config,
            emu.user(user),
            emu.channel(channel),
            command=command,
            text=text,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        body = urllib.parse.urlencode(form)
        result = await self._deliver(
            "slash_command",
            "slash_commands",
            dict(form),
            body,
            "application/x-www-form-urlencoded",
            tamper=tamper,
        )
        if result.status == 200:
            emu.apply_command_ack(channel, user, result.body)
        return replace(result, trigger_id=trigger_id, response_url=response_url)


def _message_json(emu: SlackEmulator, message: Message | Ephemeral) -> JSON:
    if isinstance(message, Ephemeral):
        return {"type": "message", "text": message.text, "blocks": message.blocks or []}
    return message.to_api(emu.bot_profile() if message.bot_id else None)


class SyncSlackDriver:
    """A blocking facade over `SlackDriver` for sync tests whose bot runs in a subprocess."""

    def __init__(self, bot_url: str, signing_secret: str, emulator: SlackEmulator) -> None:
        self._loop = asyncio.new_event_loop()
        self.driver = SlackDriver(bot_url, signing_secret, emulator)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, coro: Coroutine[Any, Any, Delivery]) -> Delivery:
        """Run one driver coroutine to completion, e.g. `sync.run(sync.driver.click(...))`."""
        return self._loop.run_until_complete(coro)

    def close(self) -> None:
        """Close the session and the private loop."""
        self._loop.run_until_complete(self.driver.close())
        self._loop.close()
