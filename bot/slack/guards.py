"""Helpers shared by the Slack listeners: who may act, and answering only the clicker."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.directory import CannotCheck
from bot.slack.services import Services
from models.store.ticket import Ticket

logger = logging.getLogger(__name__)

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+(?:\|([^>]*))?>")


async def ticket_or_none(ticket_id: int) -> Ticket | None:
    return await Ticket.get_or_none(id=ticket_id)


CANNOT_CHECK_WORK = "I cannot check who may work on this ticket right now; please try again."


async def may_act(services: Services, ticket: Ticket, user: str) -> str | None:
    """None when `user` may work on `ticket`, else the refusal to show them."""
    return await may_act_in(services, ticket.slack_channel, user)


async def may_act_in(services: Services, channel: str, user: str) -> str | None:
    """None when `user` is an agent of the queue that `channel` belongs to, else why not."""
    try:
        allowed = await services.may_work_in(channel, user)
    except CannotCheck:
        return CANNOT_CHECK_WORK
    return None if allowed else not_an_agent_text(services, channel)


def not_an_agent_text(services: Services, channel: str) -> str:
    """One answer for every reason (not a member, a guest, another workspace's member)."""
    who = (
        "people of this workspace"
        if services.policy.allow_guests
        else ("people of this workspace who are not guests")
    )
    return f"Only members of <#{channel}> can work on its tickets, and only {who}."


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


async def plain_mentions(services: Services, text: str) -> str:
    """Modal errors are plain text: `<@U123>` would show raw, so name the person instead
    (and a channel by its name when known, else as "the ticket's channel")."""
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}" if m.group(1) else "the ticket's channel", text)
    parts: list[str] = []
    last = 0
    for match in _MENTION.finditer(text):
        parts.append(text[last : match.start()])
        parts.append("@" + await services.people.name(match.group(1)))
        last = match.end()
    parts.append(text[last:])
    return "".join(parts)
