"""App Home: published when an agent opens the tab, again soon after they change a ticket,
and for all recent viewers by a scheduled job (SPEC: "App Home refresh") so the counts
do not go stale while it is open."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.blocks import Block
from bot.render.home import build_home_view, build_unknown_home_view
from bot.slack.directory import CannotCheck
from bot.slack.services import Services
from models.views import open_tickets_of, unclaimed_by_queue

logger = logging.getLogger(__name__)

VIEWER_TTL_SECONDS = 8 * 3600  # whose Home the refresh job keeps current
MAX_REFRESHED = 200  # per run: views.publish is Tier 4 (100+/min)
COALESCE_SECONDS = 1.0  # a burst of one agent's clicks costs one publish


class HomeTab:
    def __init__(self, client: AsyncWebClient, services: Services, command: str) -> None:
        self._client = client
        self._services = services
        self._command = command
        self._viewers: dict[str, float] = {}  # user → when they last opened the tab
        self._due: set[str] = set()  # viewers with a publish already on its way
        services.watch_work(self.changed)

    def opened(self, user: str) -> None:
        self._viewers[user] = time.monotonic()
        self._services.after_ack(self.publish(user))

    def changed(self, user: str) -> None:
        """`user` claimed, released, answered or closed something: if their Home may be on
        screen, show it as it now is (once per burst of clicks)."""
        if user in self._viewers and user not in self._due:
            self._due.add(user)
            self._services.after_ack(self._publish_soon(user))

    async def _publish_soon(self, user: str) -> None:
        await asyncio.sleep(COALESCE_SECONDS)
        self._due.discard(user)
        await self.publish(user)

    async def publish(self, user: str) -> None:
        """The tab as it is for `user` now: only their queues (a queue they left is gone
        from it); when Slack cannot tell which those are, a tab that says so."""
        await self._client.views_publish(user_id=user, view=await self.view_for(user))

    async def view_for(self, user: str) -> Block:
        services = self._services
        try:
            queues = await services.visible_queues(user)
        except CannotCheck:
            return build_unknown_home_view()
        channels = [queue.channel for queue in queues]
        return build_home_view(
            await open_tickets_of(user, channels=channels),
            queues,
            await unclaimed_by_queue([queue.name for queue in queues]),
            hook=services.policy.ticket_hook,
            command=self._command,
            now=services.clock(),
            sla=services.policy.sla,
        )

    async def refresh(self) -> None:
        """Republish for everyone who opened the tab lately (oldest viewers drop out)."""
        cutoff = time.monotonic() - VIEWER_TTL_SECONDS
        for user in [u for u, seen in self._viewers.items() if seen < cutoff]:
            del self._viewers[user]
        recent = sorted(self._viewers, key=self._viewers.__getitem__, reverse=True)
        for user in recent[:MAX_REFRESHED]:
            try:
                await self.publish(user)
            except Exception:
                logger.warning("could not refresh the Home tab of %s", user, exc_info=True)


def register(app: AsyncApp, home: HomeTab) -> None:
    @app.event("app_home_opened")
    async def handle_home_opened(ack: AsyncAck, event: dict[str, Any]) -> None:
        await ack()
        if event.get("tab", "home") == "home" and event.get("user"):
            home.opened(str(event["user"]))
