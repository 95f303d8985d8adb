"""Socket Mode (SLACK.md §7): the WebSocket that apps.connections.open points at.

On connect the hub sends `hello`; tests push envelopes (`events_api`, `interactive`,
`slash_commands`) and read back the app's acks, matched by `envelope_id`. `disconnect` makes
the SDK client reconnect through apps.connections.open, as Slack's refresh does.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.emulator.config import JSON
from bot.sandbox.emulator.state import SlackState

MAX_CONNECTIONS = 10


@dataclass(frozen=True)
class SocketAck:
    """An app's acknowledgement of one envelope (its optional response payload included)."""

    envelope_id: str
    payload: JSON | None
    time: float


class SocketModeHub:
    """Open connections, sent envelopes and received acks; acks are kept in the state lock."""

    def __init__(self, state: SlackState) -> None:
        self.state = state
        self.connections: list[web.WebSocketResponse] = []
        self.acks: dict[str, SocketAck] = {}
        self.sent: list[JSON] = []
        self.connects = 0

    def reset(self) -> None:
        """Forget envelopes and acks (open connections stay). Caller holds the state lock."""
        self.acks.clear()
        self.sent.clear()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The WebSocket endpoint; runs for as long as the app stays connected."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if len(self.connections) >= MAX_CONNECTIONS:
            await ws.send_json({"type": "disconnect", "reason": "too_many_websockets"})
            await ws.close()
            return ws
        with self.state.changed:
            self.connections.append(ws)
            self.connects += 1
            self.state.changed.notify_all()
        await ws.send_json(self._hello())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            with self.state.changed:
                if ws in self.connections:
                    self.connections.remove(ws)
                self.state.changed.notify_all()
        return ws

    def _hello(self) -> JSON:
        return {
            "type": "hello",
            "num_connections": len(self.connections),
            "connection_info": {"app_id": self.state.config.app_id},
            "debug_info": {
                "host": "applink-emulator",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
        }

    def _on_text(self, data: str) -> None:
        try:
            message: Any = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict) or "envelope_id" not in message:
            return
        payload = message.get("payload")
        with self.state.changed:
            env_id = str(message["envelope_id"])
            self.acks[env_id] = SocketAck(env_id, payload, self.state.clock())
            self.state.changed.notify_all()

    async def send(
        self,
        envelope_type: str,
        payload: JSON,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Push one envelope to the first connection; returns its envelope_id."""
        if not self.connections:
            raise RuntimeError("No Socket Mode connection; start the app's handler first.")
        envelope = {
            "envelope_id": str(uuid.uuid4()),
            "payload": payload,
            "type": envelope_type,
            "accepts_response_payload": envelope_type != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        with self.state.changed:
            self.sent.append(envelope)
        await self.connections[0].send_json(envelope)
        return str(envelope["envelope_id"])

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Tell every connection to go away (`warning`, `refresh_requested`, `link_disabled`)."""
        for ws in list(self.connections):
            await ws.send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": "emulator"}}
            )

    async def close_all(self) -> None:
        """Close every connection (emulator shutdown)."""
        for ws in list(self.connections):
            await ws.close()
