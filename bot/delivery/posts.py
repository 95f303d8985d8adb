"""Outbox handlers for Slack: post and re-render ticket cards, post into their threads.

Slack has no idempotency key, and an attempt whose answer is lost (a 5xx, a
timeout, a crash before we recorded the result) may have posted anyway. So every
post carries its outbox id in the message's metadata, and a retry that cannot
rule out an earlier success first looks for that post in the channel (or the
thread) and adopts it instead of posting a second card or reply.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.digest import FloodDigest
from bot.delivery.errors import may_have_landed, not_sent, to_outbox_error
from bot.delivery.pace import ChannelPace
from bot.render.blocks import (
    build_article_message,
    build_pointer_card,
    build_quarantine_card,
    build_ticket_card,
    card_fallback,
)
from bot.render.notices import notice_text
from models.delivery_records import article_posted, card_posted
from models.effects import (
    SLACK_CARD_MOVE,
    SLACK_CARD_POST,
    SLACK_CARD_UPDATE,
    SLACK_QUARANTINE_POST,
    SLACK_REACTION,
    SLACK_THREAD_NOTICE,
    SLACK_THREAD_POST,
)
from models.errors import PermanentFailure, RetryLater
from models.events import Notice
from models.outbox.items import OutboxItem
from models.outbox.worker import Handler
from models.sla import SlaPolicy
from models.store.article import Article
from models.store.ticket import Ticket
from models.views import ticket_summary, waiting_cards

logger = logging.getLogger(__name__)

POST_MARK = "ticketbot_post"  # metadata event_type of every message the outbox posts
LOOKBACK_SECONDS = 60  # clock skew allowance when searching for an earlier attempt's post
LOOKUP_PAGES = 10  # at most this many pages of 200 messages are searched


def post_marker(item: OutboxItem) -> dict[str, Any]:
    return {"event_type": POST_MARK, "event_payload": {"outbox_id": item.id}}


def is_marked(message: dict[str, Any], item: OutboxItem) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return bool(metadata.get("event_type") == POST_MARK and payload.get("outbox_id") == item.id)


class SlackDelivery:
    def __init__(
        self,
        client: AsyncWebClient,
        hook: str,
        *,
        pace: ChannelPace | None = None,
        digest: FloodDigest | None = None,
        queues: Sequence[str] = (),
        sla: SlaPolicy | None = None,
    ) -> None:
        self._client = client
        self._sla = sla  # the card shows the running service-level clocks
        self._hook = hook
        self._queues = tuple(queues)  # every queue's name: the card offers the others
        self._pace = pace
        self._digest = digest

    async def _slot(self, channel: str, item: OutboxItem, *, card: bool = False) -> None:
        """Wait for this item's turn in the channel (paced posts come back later, uncounted);
        a card that has to wait may first tell the channel about the flood."""
        if self._pace is None:
            return
        delay = self._pace.wait(channel, item.id)
        if delay <= 0:
            return
        if card:
            await self._flood(channel)
        self._pace.take(channel, item.id)  # raises: come back when the slot has come

    async def _flood(self, channel: str) -> None:
        """Post, refresh or close the channel's flood digest (best effort: cards go on)."""
        if self._digest is None:
            return
        try:
            await self._digest.waiting(self._call, channel, await waiting_cards(channel))
        except RetryLater as exc:  # e.g. Slack's 429: the next card that waits tries again
            logger.info("the flood digest in %s waits: %s", channel, exc)

    def handlers(self) -> dict[str, Handler]:
        return {
            SLACK_CARD_POST: self.post_card,
            SLACK_CARD_UPDATE: self.update_card,
            SLACK_CARD_MOVE: self.move_card,
            SLACK_THREAD_POST: self.post_thread,
            SLACK_THREAD_NOTICE: self.post_notice,
            SLACK_REACTION: self.add_reaction,
            SLACK_QUARANTINE_POST: self.post_quarantine,
        }

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._client.api_call(method, json=kwargs)
        except Exception as exc:
            raise to_outbox_error(exc) from exc
        data = response.data
        return data if isinstance(data, dict) else {}

    async def _posted_earlier(
        self, item: OutboxItem, channel: str, thread_ts: str | None = None, *, look: bool = False
    ) -> str | None:
        """The ts of this item's post if an earlier attempt made it, else None (`look`: even
        when the last attempt says nothing was sent, as for a move, whose second call can
        fail after its post got through)."""
        if not look and not may_have_landed(item):
            return None
        args: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{item.created_at.timestamp() - LOOKBACK_SECONDS:.6f}",
            "limit": 200,
            "include_all_metadata": True,
        }
        method = "conversations.history"
        if thread_ts:
            method, args["ts"] = "conversations.replies", thread_ts
        for _ in range(LOOKUP_PAGES):
            try:  # GET with a query string: Slack's read methods take no JSON body
                response = await self._client.api_call(method, http_verb="GET", params=args)
            except SlackApiError as exc:
                if exc.response.get("error") == "missing_scope":
                    logger.warning("%s: cannot read the channel to rule out a double post", item)
                    return None
                raise to_outbox_error(exc) from exc
            except Exception as exc:
                raise to_outbox_error(exc) from exc
            data = response.data if isinstance(response.data, dict) else {}
            for message in data.get("messages", []):
                if is_marked(message, item):
                    logger.info("%s was posted by an earlier attempt; adopting it", item)
                    return str(message["ts"])
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
            args["cursor"] = cursor
        return None

    async def post_card(self, item: OutboxItem) -> None:
        ticket_id = int(item.payload["ticket_id"])
        slotted = ""  # the channel whose slot this item already has
        if self._pace is not None and not may_have_landed(item):
            # A flood's cards mostly come to learn that their slot is later: one light read
            # says so, before the card is rendered from the whole ticket.
            [(channel, ts)] = await Ticket.filter(id=ticket_id).values_list(
                "slack_channel", "slack_ts"
            )
            if not ts:
                await self._slot(str(channel), item, card=True)  # raises: come back later
                slotted = str(channel)
        summary = await ticket_summary(ticket_id, self._sla)
        if summary.slack_ts:  # posted by an earlier attempt that got through: just refresh it
            await self.update_card(item)
            return
        earlier = await self._posted_earlier(item, summary.slack_channel)
        if earlier is not None:  # adopt it, and show the ticket as it is now
            await card_posted(summary.id, earlier)
            await self.update_card(item)
            return
        if slotted != summary.slack_channel:
            await self._slot(summary.slack_channel, item, card=True)
        data = await self._call(
            "chat.postMessage",
            channel=summary.slack_channel,
            text=card_fallback(summary, self._hook),
            blocks=build_ticket_card(summary, self._hook, self._queues),
            metadata=post_marker(item),
            unfurl_links=False,
            unfurl_media=False,
        )
        channel = str(data.get("channel", summary.slack_channel))
        await card_posted(summary.id, str(data["ts"]), channel=channel)
        if self._digest is not None and (
            self._digest.active(channel) or (self._pace is not None and self._pace.behind(channel))
        ):
            await self._flood(channel)

    async def update_card(self, item: OutboxItem) -> None:
        summary = await ticket_summary(int(item.payload["ticket_id"]), self._sla)
        if not summary.slack_ts:
            raise not_sent("card not posted yet")
        await self._slot(summary.slack_channel, item)
        await self._call(
            "chat.update",
            channel=summary.slack_channel,
            ts=summary.slack_ts,
            text=card_fallback(summary, self._hook),
            blocks=build_ticket_card(summary, self._hook, self._queues),
        )

    async def move_card(self, item: OutboxItem) -> None:
        """A transfer: the card is posted in the new queue's channel (found instead when an
        earlier attempt posted it), the old card becomes a pointer, and only then the
        ticket's card is the new one. A crash anywhere repeats only what is idempotent:
        the post is found by its mark, the pointer is an update."""
        ticket_id = int(item.payload["ticket_id"])
        channel = str(item.payload["channel"])
        [(old_channel, old_ts)] = await Ticket.filter(id=ticket_id).values_list(
            "slack_channel", "slack_ts"
        )
        if old_channel == channel and old_ts:
            return  # moved by an earlier attempt that got through
        summary = await ticket_summary(ticket_id, self._sla)
        ts = await self._posted_earlier(item, channel, look=True)
        if ts is None:
            await self._slot(channel, item, card=True)
            data = await self._call(
                "chat.postMessage",
                channel=channel,
                text=card_fallback(summary, self._hook),
                blocks=build_ticket_card(summary, self._hook, self._queues),
                metadata=post_marker(item),
                unfurl_links=False,
                unfurl_media=False,
            )
            ts = str(data["ts"])
        if old_ts:
            text = notice_text(Notice.MOVED_TO, dict(item.payload.get("pointer") or {}))
            await self._slot(str(old_channel), item)
            try:
                await self._call(
                    "chat.update",
                    channel=str(old_channel),
                    ts=str(old_ts),
                    text=text,
                    blocks=build_pointer_card(text),
                )
            except PermanentFailure:  # the old card is gone (deleted): nothing to point from
                logger.info("%s: the old card %s could not be updated", item, old_ts)
        await card_posted(ticket_id, ts, channel=channel)

    async def post_thread(self, item: OutboxItem) -> None:
        ticket = await Ticket.get(id=int(item.payload["ticket_id"]))
        if not ticket.slack_ts:
            raise not_sent("card not posted yet")
        article = await Article.get(id=int(item.payload["article_id"])).prefetch_related(
            "attachments"
        )
        if article.slack_ts:
            return
        ts = await self._posted_earlier(item, ticket.slack_channel, ticket.slack_ts)
        if ts is None:
            await self._slot(ticket.slack_channel, item)
            text, blocks = build_article_message(article, list(article.attachments))
            data = await self._call(
                "chat.postMessage",
                channel=ticket.slack_channel,
                thread_ts=ticket.slack_ts,
                text=text,
                blocks=blocks,
                metadata=post_marker(item),
                unfurl_links=False,
                unfurl_media=False,
            )
            ts = str(data["ts"])
        await article_posted(article.id, ts)

    async def post_notice(self, item: OutboxItem) -> None:
        ticket = await Ticket.get(id=int(item.payload["ticket_id"]))
        if not ticket.slack_ts:
            raise not_sent("card not posted yet")
        if await self._posted_earlier(item, ticket.slack_channel, ticket.slack_ts):
            return
        payload = item.payload
        text = (
            notice_text(Notice(payload["notice"]), dict(payload.get("facts") or {}))
            if "notice" in payload
            else str(payload["text"])  # a row queued before notices were facts
        )
        await self._slot(ticket.slack_channel, item)
        await self._call(
            "chat.postMessage",
            channel=ticket.slack_channel,
            thread_ts=ticket.slack_ts,
            text=text,
            metadata=post_marker(item),
            unfurl_links=False,
            unfurl_media=False,
        )

    async def post_quarantine(self, item: OutboxItem) -> None:
        """The card of a mail set aside after failing every attempt (no ticket behind it)."""
        payload = item.payload
        channel = str(payload["channel"])
        if await self._posted_earlier(item, channel):
            return
        headers = [(str(name), str(value)) for name, value in payload.get("headers", [])]
        text, blocks = build_quarantine_card(
            headers,
            str(payload.get("error", "")),
            int(payload.get("attempts", 0)),
            int(payload.get("size", 0)),
            int(payload["inbound_id"]),
        )
        await self._slot(channel, item)
        await self._call(
            "chat.postMessage",
            channel=channel,
            text=text,
            blocks=blocks,
            metadata=post_marker(item),
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
