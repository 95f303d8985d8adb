"""Events: agents' messages in a card's thread become notes; membership changes refresh
the cache that decides who may act."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.services import Services
from models import work
from models.ticket import Ticket

logger = logging.getLogger(__name__)

NOTE_SUBTYPES = {None, "thread_broadcast", "file_share"}


def is_agent_thread_message(event: dict[str, Any]) -> bool:
    """A person's new message inside a thread: not a bot, not an edit or deletion."""
    return (
        event.get("subtype") in NOTE_SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(event.get("thread_ts"))
        and event.get("thread_ts") != event.get("ts")
        and bool((event.get("text") or "").strip())
    )


def register(app: AsyncApp, services: Services) -> None:
    async def handle_message(ack: AsyncAck, event: dict[str, Any]) -> None:
        await ack()
        if is_agent_thread_message(event):
            services.after_ack(save_note(event))

    async def save_note(event: dict[str, Any]) -> None:
        ticket = await Ticket.get_or_none(
            slack_channel=event.get("channel", ""), slack_ts=event["thread_ts"]
        )
        if ticket is None:
            return
        user = event["user"]
        if not await services.members.is_member(ticket.slack_channel, user):
            return
        name = await services.people.name(user)
        try:
            await work.note(
                ticket.id,
                services.agent(user, name),
                event["text"],
                slack_ts=event["ts"],
                channel=ticket.slack_channel,
                clock=services.clock,
            )
        except work.Refused:
            return
        services.wake_outbox()

    # Acked at once; the note (which may look up the author's name) follows.
    app.event("message")(handle_message)

    @app.event("member_joined_channel")
    async def handle_joined(event: dict[str, Any]) -> None:
        services.members.joined(event.get("channel", ""), event.get("user", ""))

    @app.event("member_left_channel")
    async def handle_left(event: dict[str, Any]) -> None:
        services.members.left(event.get("channel", ""), event.get("user", ""))
