"""Turn one inbound mail into stored facts: raw source, ticket, article, outbox rows.

Everything for one mail happens in one transaction, so a mail is either fully
recorded (with its card post and acknowledgement queued) or not at all, and a
retry after a crash finds it by its de-duplication key instead of storing it twice.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import effects
from models.article import Article, ArticleKind, Attachment, InboundMessage
from models.autoreply import acknowledgement, autoreply_refusal, new_message_id
from models.clock import Clock, system_clock
from models.facts import MailFacts
from models.numbers import allocate_counter, format_number
from models.policy import Policy
from models.ticket import History, Ticket, TicketState

logger = logging.getLogger(__name__)

Outcome = Literal["new_ticket", "duplicate", "bounce_note", "bounce_unmatched"]


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: Outcome
    ticket_id: int | None = None
    ticket_number: str | None = None
    autoreply_queued: bool = False
    note: str = ""


def _addresses(mail: MailFacts) -> list[str]:
    return [a.email for a in (*mail.to, *mail.cc)] + list(mail.delivered_to)


async def receive_mail(
    mail: MailFacts,
    raw: bytes,
    policy: Policy,
    *,
    source: str = "imap",
    clock: Clock = system_clock,
) -> IntakeResult:
    """Store `raw` once; a retry of the same mail returns outcome "duplicate"."""
    key_id = (mail.message_id or "")[:998]
    if await InboundMessage.exists(message_id=key_id, digest=mail.digest):
        return IntakeResult("duplicate", note="already received")
    try:
        async with in_transaction() as connection:
            now = clock()
            inbound = await InboundMessage.create(
                message_id=key_id,
                digest=mail.digest,
                raw_source=raw,
                size=len(raw),
                source=source,
                defects=list(mail.defects)[:50],
                received_at=now,
            )
            clash = (
                key_id
                and await InboundMessage.filter(message_id=key_id).exclude(id=inbound.id).exists()
            )
            if mail.is_bounce:
                result = await _record_bounce(mail, inbound, now)
            else:
                day = now.date()
                number = format_number(
                    day, policy.system_id, await allocate_counter(connection, day)
                )
                result = await _open_ticket(mail, inbound, number, policy, clock)
            if clash and result.ticket_id is not None:
                await History.create(
                    ticket_id=result.ticket_id,
                    event="message_id_clash",
                    detail={"message_id": key_id, "note": "same Message-ID, different content"},
                    created_at=now,
                )
    except IntegrityError:
        # Another process stored the same mail between our check and our insert.
        if await InboundMessage.exists(message_id=key_id, digest=mail.digest):
            return IntakeResult("duplicate", note="stored concurrently")
        raise
    return result


async def _open_ticket(
    mail: MailFacts, inbound: InboundMessage, number: str, policy: Policy, clock: Clock
) -> IntakeResult:
    now = clock()
    queue = policy.route(_addresses(mail))
    sender = mail.sender
    customer_email = sender.email if sender else ""
    customer_name = sender.name if sender else ""
    ticket = await Ticket.create(
        number=number,
        queue=queue.name,
        subject=mail.subject,
        customer_email=customer_email,
        customer_name=customer_name[:200],
        state=TicketState.NEW,
        last_activity_at=now,
        slack_channel=queue.channel,
        created_at=now,
        updated_at=now,
    )
    article = await _store_article(mail, ticket, now)
    await InboundMessage.filter(id=inbound.id).update(
        ticket_id=ticket.id, article_id=article.id, outcome="new_ticket"
    )
    await History.create(
        ticket=ticket,
        event="created",
        actor=customer_email or "unknown sender",
        detail={"queue": queue.name, "message_id": mail.message_id, "defects": len(mail.defects)},
        created_at=now,
    )
    await effects.post_card(ticket.id, clock)

    reply_to = mail.reply_to.email if mail.reply_to else customer_email
    since = now - timedelta(days=1)
    sent = await Article.filter(
        is_autoreply=True, to_address=reply_to.lower(), created_at__gte=since
    ).count()
    refusal = autoreply_refusal(
        policy=policy,
        sender=reply_to,
        is_automatic=mail.is_automatic or customer_email.lower() in policy.our_addresses,
        automatic_reason=mail.automatic_reason or "sent from our own address",
        is_bounce=mail.is_bounce,
        sent_last_day=sent,
    )
    if refusal is not None:
        logger.info("ticket %s: no acknowledgement: %s", number, refusal)
        await History.create(
            ticket=ticket, event="autoreply_suppressed", detail={"reason": refusal}, created_at=now
        )
        return IntakeResult("new_ticket", ticket.id, number, autoreply_queued=False, note=refusal)

    subject, body = acknowledgement(policy, number, mail.subject, customer_name)
    references = [*mail.references, mail.message_id] if mail.message_id else list(mail.references)
    reply = await Article.create(
        ticket=ticket,
        kind=ArticleKind.EMAIL_OUT,
        author="system",
        author_name=policy.display_name,
        sender=policy.address,
        recipients=[reply_to],
        to_address=reply_to.lower(),
        subject=subject,
        body=body,
        message_id=new_message_id(policy, number),
        in_reply_to=mail.message_id,
        references=references[-20:],
        is_automatic=True,
        is_autoreply=True,
        created_at=now,
    )
    await effects.send_mail(ticket.id, reply.id, clock)
    return IntakeResult("new_ticket", ticket.id, number, autoreply_queued=True)


async def _store_article(mail: MailFacts, ticket: Ticket, now: datetime) -> Article:
    sender = mail.sender
    answer_to = mail.reply_to or sender
    article = await Article.create(
        ticket=ticket,
        kind=ArticleKind.EMAIL_IN,
        author=sender.email if sender else "",
        author_name=(sender.name if sender else "")[:200],
        sender=sender.email if sender else "",
        recipients=[a.email for a in mail.to],
        to_address=answer_to.email.lower() if answer_to else "",
        cc=[a.email for a in mail.cc],
        subject=mail.subject,
        body=mail.text,
        message_id=mail.message_id[:998] if mail.message_id else None,
        in_reply_to=mail.in_reply_to[0][:998] if mail.in_reply_to else None,
        references=list(mail.references)[-50:],
        is_automatic=mail.is_automatic,
        created_at=now,
    )
    for part in mail.attachments:
        await Attachment.create(
            article=article,
            filename=(part.filename or "attachment")[:255],
            content_type=part.content_type[:255],
            size=len(part.content),
            sha256=hashlib.sha256(part.content).hexdigest(),
            content_id=part.content_id[:255] if part.content_id else None,
            is_inline=part.is_inline,
            created_at=now,
        )
    return article


async def _record_bounce(mail: MailFacts, inbound: InboundMessage, now: datetime) -> IntakeResult:
    """A bounce becomes a note on the ticket whose mail bounced, never a new ticket."""
    original = None
    if mail.bounce_message_ids:
        original = (
            await Article.filter(message_id__in=list(mail.bounce_message_ids))
            .order_by("-id")
            .first()
            .prefetch_related("ticket")
        )
    if original is None:
        await InboundMessage.filter(id=inbound.id).update(outcome="bounce_unmatched")
        logger.info("bounce %s refers to no mail of ours; stored raw only", mail.message_id)
        return IntakeResult("bounce_unmatched", note="refers to no mail we sent")
    ticket = original.ticket
    note = await Article.create(
        ticket=ticket,
        kind=ArticleKind.NOTE,
        author="system",
        author_name="Mail delivery",
        sender=mail.sender.email if mail.sender else "",
        subject=mail.subject,
        body=f"Delivery of a mail failed (bounce for {original.message_id}).\n\n{mail.text}",
        message_id=mail.message_id,
        is_automatic=True,
        created_at=now,
    )
    await InboundMessage.filter(id=inbound.id).update(
        ticket_id=ticket.id, article_id=note.id, outcome="bounce_note"
    )
    await History.create(
        ticket=ticket, event="bounce", detail={"original": original.message_id}, created_at=now
    )
    await effects.post_article(ticket.id, note.id)
    return IntakeResult("bounce_note", ticket.id, ticket.number)
