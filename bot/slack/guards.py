"""Helpers shared by the Slack listeners: who may act, and answering only the clicker."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.directory import CannotCheck
from bot.slack.services import Services
from models.store.ticket import Ticket

logger = logging.getLogger(__name__)


async def ticket_or_none(ticket_id: int) -> Ticket | None:
    return await Ticket.get_or_none(id=ticket_id)


CANNOT_CHECK_WORK = "I cannot check who may work on this ticket right now; please try again."


async def may_act(
    services: Services, ticket: Ticket, user: str, *, plain: bool = False
) -> str | None:
    """None when `user` may work on `ticket`, else the refusal to show them (as plain text
    for a modal's errors)."""
    return await may_act_in(services, ticket.slack_channel, user, plain=plain)


async def may_act_in(
    services: Services, channel: str, user: str, *, plain: bool = False
) -> str | None:
    """None when `user` is an agent of the queue that `channel` belongs to, else why not."""
    try:
        allowed = await services.may_work_in(channel, user)
    except CannotCheck:
        return CANNOT_CHECK_WORK
    return None if allowed else not_an_agent_text(services, channel, plain=plain)


def not_an_agent_text(services: Services, channel: str, *, plain: bool = False) -> str:
    """One answer for every reason (not a member, a guest, another workspace's member)."""
    who = (
        "people of this workspace"
        if services.policy.allow_guests
        else ("people of this workspace who are not guests")
    )
    where = "the ticket's channel" if plain else f"<#{channel}>"
    return f"Only members of {where} can work on its tickets, and only {who}."


async def tell(
    respond: AsyncRespond | None,
    client: AsyncWebClient,
    body: dict[str, Any],
    text: str,
    channel: str = "",
) -> None:
    """An ephemeral answer to the person who clicked. The response_url works even for
    people outside the channel (chat.postEphemeral would fail for them)."""
    try:
        if respond is not None and body.get("response_url"):
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        user = body["user"]["id"]
        if channel:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            await client.chat_postMessage(channel=user, text=text)
    except Exception:
        logger.exception("could not tell %s: %s", body.get("user", {}).get("id"), text)
