"""What a delivery to Slack tells the domain once it has landed: where the card, an article
or a file now is. The Slack side (bot/delivery/) asks these; it writes no row itself.
"""

from __future__ import annotations

from models.store.article import Article, Attachment
from models.store.ticket import Ticket


async def card_posted(ticket_id: int, ts: str, *, channel: str | None = None) -> None:
    """The ticket's card is the message `ts` (posted now, or found from an earlier attempt),
    in `channel` when Slack named one (else in the channel the ticket names)."""
    if channel is None:
        await Ticket.filter(id=ticket_id).update(slack_ts=ts)
    else:
        await Ticket.filter(id=ticket_id).update(slack_ts=ts, slack_channel=channel)


async def article_posted(article_id: int, ts: str) -> None:
    """The article is the reply `ts` in its ticket's thread."""
    await Article.filter(id=article_id).update(slack_ts=ts)


async def file_shared(attachment_id: int, file_id: str) -> None:
    """The attachment is Slack's file `file_id`, shared into its ticket's thread."""
    await Attachment.filter(id=attachment_id).update(slack_file_id=file_id)
