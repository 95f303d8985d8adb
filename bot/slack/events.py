"""Events: agents' messages in a card's thread become notes; membership changes refresh
the cache that decides who may act (and the Home tab of whoever joined or left)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.directory import CannotCheck
from bot.slack.services import Services
from models import work
from models.views import ticket_of_card

logger = logging.getLogger(__name__)

NOTE_SUBTYPES = {None, "thread_broadcast", "file_share"}
UNSAVED_NOTE = (
    "Your message was not saved as a note on the ticket: I cannot check who may work on it "
    "right now. Post it again in a moment."
)


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
    async def handle_message(ack: AsyncAck, event: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if is_agent_thread_message(event):
            services.after_ack(save_note(event, client))

    async def save_note(event: dict[str, Any], client: AsyncWebClient) -> None:
        ticket = await ticket_of_card(event.get("channel", ""), event["thread_ts"])
        if ticket is None:
            return
        user = event["user"]
        try:
            if not await services.may_work_in(ticket.slack_channel, user):
                return  # a guest's or a visitor's message is theirs, not a ticket note
        except CannotCheck:
            await tell_unsaved(client, ticket.slack_channel, user, event["thread_ts"])
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

    async def tell_unsaved(client: AsyncWebClient, channel: str, user: str, thread_ts: str) -> None:
        """Fail closed, but say so: the agent would otherwise believe the note was kept."""
        try:
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=thread_ts,
                text=UNSAVED_NOTE,
            )
        except Exception:
            logger.warning("could not tell %s that their note was not saved", user)

    # Acked at once; the note (which may look up the author's name) follows.
    app.event("message")(handle_message)

    @app.event("member_joined_channel")
    async def handle_joined(event: dict[str, Any]) -> None:
        user = event.get("user", "")
        services.members.joined(event.get("channel", ""), user)
        services.standing_changed(user)

    @app.event("member_left_channel")
    async def handle_left(event: dict[str, Any]) -> None:
        user = event.get("user", "")
        services.members.left(event.get("channel", ""), user)
        services.standing_changed(user)
