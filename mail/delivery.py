"""Outbox handler that sends stored outbound articles by SMTP.

`on_sent` is told of every mail the SMTP server accepted: the runtime counts them for
/metrics (`ticketbot_mails_sent_total`) without mail/ knowing about metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from mail.compose import Outgoing, build_message
from mail.errors import SmtpPermanentError, SmtpTemporaryError
from mail.sent_journal import SentJournal
from mail.smtp import SmtpSender
from models.clock import Clock, system_clock
from models.effects import MAIL_SEND
from models.outbox.items import OutboxItem, PermanentFailure, RetryLater
from models.outbox.worker import Handler
from models.store.article import Article

logger = logging.getLogger(__name__)


def _nobody() -> None:
    pass


class MailDelivery:
    def __init__(
        self,
        sender: SmtpSender,
        *,
        from_name: str,
        clock: Clock = system_clock,
        on_sent: Callable[[], None] = _nobody,
        journal: SentJournal | None = None,
    ) -> None:
        self._sender = sender
        self._from_name = from_name
        self._clock = clock
        self._on_sent = on_sent
        self._journal = journal

    def handlers(self) -> dict[str, Handler]:
        return {MAIL_SEND: self.send_article}

    async def send_article(self, item: OutboxItem) -> None:
        article = await Article.get(id=int(item.payload["article_id"])).select_related("ticket")
        if article.sent_at is not None:
            return  # an earlier attempt got through before we could record it
        if not article.recipients:
            raise PermanentFailure(f"article {article.id} has no recipient")
        outgoing = Outgoing(
            from_name=article.author_name or self._from_name,
            from_address=article.sender,
            to=tuple(article.recipients),
            cc=tuple(article.cc),
            subject=article.subject,
            body=article.body,
            message_id=article.message_id or "",
            in_reply_to=article.in_reply_to,
            references=tuple(article.references),
            date=article.created_at,
            auto_replied=article.is_autoreply,
            auto_generated=article.is_automatic and not article.is_autoreply,
            ticket_number=article.ticket.number,
        )
        journal, message_id = self._journal, outgoing.message_id
        try:
            await self._sender.send(
                build_message(outgoing),
                sender=article.sender,
                recipients=[*article.recipients, *article.cc],
                handed_over=partial(journal.sending, article.id, message_id) if journal else None,
            )
        except (SmtpPermanentError, SmtpTemporaryError) as exc:
            if journal is not None:
                journal.withdrawn(article.id, message_id)
            if isinstance(exc, SmtpPermanentError):
                raise PermanentFailure(str(exc)) from exc
            raise RetryLater(str(exc)) from exc
        self._on_sent()
        await Article.filter(id=article.id).update(sent_at=self._clock())
        if journal is not None:
            journal.recorded(article.id, message_id)
