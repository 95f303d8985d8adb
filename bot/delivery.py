"""Outbox handlers for Slack: post and re-render ticket cards, post into their threads."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import build_article_message, build_ticket_card, card_fallback
from bot.slack_errors import to_outbox_error
from models.article import Article
from models.effects import (
    SLACK_CARD_POST,
    SLACK_CARD_UPDATE,
    SLACK_REACTION,
    SLACK_THREAD_NOTICE,
    SLACK_THREAD_POST,
)
from models.outbox import OutboxItem, RetryLater
from models.outbox_worker import Handler
from models.ticket import Ticket
from models.views import ticket_summary

logger = logging.getLogger(__name__)


class SlackDelivery:
    def __init__(self, client: AsyncWebClient, hook: str) -> None:
        self._client = client
        self._hook = hook

    def handlers(self) -> dict[str, Handler]:
        return {
            SLACK_CARD_POST: self.post_card,
            SLACK_CARD_UPDATE: self.update_card,
            SLACK_THREAD_POST: self.post_thread,
            SLACK_THREAD_NOTICE: self.post_notice,
            SLACK_REACTION: self.add_reaction,
        }

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._client.api_call(method, json=kwargs)
        except Exception as exc:
            raise to_outbox_error(exc) from exc
        data = response.data
        return data if isinstance(data, dict) else {}

    async def post_card(self, item: OutboxItem) -> None:
        summary = await ticket_summary(int(item.payload["ticket_id"]))
        if summary.slack_ts:  # posted by an earlier attempt that got through: just refresh it
            await self.update_card(item)
            return
        data = await self._call(
            "chat.postMessage",
            channel=summary.slack_channel,
            text=card_fallback(summary, self._hook),
            blocks=build_ticket_card(summary, self._hook),
            unfurl_links=False,
            unfurl_media=False,
        )
        await Ticket.filter(id=summary.id).update(
            slack_ts=data["ts"], slack_channel=data.get("channel", summary.slack_channel)
        )

    async def update_card(self, item: OutboxItem) -> None:
        summary = await ticket_summary(int(item.payload["ticket_id"]))
        if not summary.slack_ts:
            raise RetryLater("card not posted yet")
        await self._call(
            "chat.update",
            channel=summary.slack_channel,
            ts=summary.slack_ts,
            text=card_fallback(summary, self._hook),
            blocks=build_ticket_card(summary, self._hook),
        )

    async def post_thread(self, item: OutboxItem) -> None:
        ticket = await Ticket.get(id=int(item.payload["ticket_id"]))
        if not ticket.slack_ts:
            raise RetryLater("card not posted yet")
        article = await Article.get(id=int(item.payload["article_id"])).prefetch_related(
            "attachments"
        )
        if article.slack_ts:
            return
        text, blocks = build_article_message(article)
        data = await self._call(
            "chat.postMessage",
            channel=ticket.slack_channel,
            thread_ts=ticket.slack_ts,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        await Article.filter(id=article.id).update(slack_ts=data["ts"])

    async def post_notice(self, item: OutboxItem) -> None:
        ticket = await Ticket.get(id=int(item.payload["ticket_id"]))
        if not ticket.slack_ts:
            raise RetryLater("card not posted yet")
        await self._call(
            "chat.postMessage",
            channel=ticket.slack_channel,
            thread_ts=ticket.slack_ts,
            text=str(item.payload["text"]),
            unfurl_links=False,
            unfurl_media=False,
        )

    async def add_reaction(self, item: OutboxItem) -> None:
        payload = item.payload
        try:
            await self._client.reactions_add(
                channel=payload["channel"], timestamp=payload["ts"], name=payload["name"]
            )
        except SlackApiError as exc:
            if exc.response.get("error") in ("already_reacted", "message_not_found"):
                return
            raise to_outbox_error(exc) from exc
        except Exception as exc:
            raise to_outbox_error(exc) from exc
