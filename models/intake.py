"""Turn one inbound mail into stored facts: raw source, ticket, article, outbox rows.

Everything for one mail happens in one transaction, so a mail is either fully
recorded (with its card post, thread post and acknowledgement queued) or not at
all, and a retry after a crash finds it by its de-duplication key instead of
storing it twice. The IMAP intake does it in two steps for speed: `store_raw`
keeps a whole batch of raw mails in one statement (marked pending), then
`make_tickets` makes their tickets several per transaction; the pending flag,
cleared in the ticket's transaction, makes each step safe to repeat.
Which ticket a mail belongs to is decided in `models.conversation`; this module
stores the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import effects, sla_state
from models.attachments import save_attachments, uploadable
from models.autoreply import (
    RecentAnswers,
    acknowledgement,
    autoreply_refusal,
    closed_ticket_notice,
    new_message_id,
)
from models.clock import Clock, system_clock
from models.conversation import Target, find_target
from models.events import HistoryEvent, MatchReason, Notice
from models.facts import MailFacts
from models.followup import normalise_subject
from models.lifecycle import Move, next_state
from models.numbers import allocate_counter, format_number
from models.outbox.items import written_together
from models.policy import Policy, QueueRoute
from models.priority import Priority
from models.quarantine import MailAttempt, finish_attempt
from models.sql import Query, dialect_of
from models.store.article import Article, ArticleKind, Attachment, InboundMessage
from models.store.ticket import History, Ticket, TicketState

logger = logging.getLogger(__name__)

#: Ids looked up per query: far below PostgreSQL's parameter limit whatever a mail claims.
MAX_LOOKUP_IDS = 100

Outcome = Literal[
    "new_ticket",
    "followup",
    "rejected",
    "duplicate",
    "bounce_note",
    "bounce_unmatched",
    "quarantined",
]


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: Outcome
    ticket_id: int | None = None
    ticket_number: str | None = None
    autoreply_queued: bool = False
    note: str = ""
    queue: str = ""  # a new ticket's queue


def _recipients(mail: MailFacts) -> list[str]:
    return [a.email for a in (*mail.to, *mail.cc)] + list(mail.delivered_to)


async def receive_mail(
    mail: MailFacts,
    raw: bytes,
    policy: Policy,
    *,
    display_text: str | None = None,
    source: str = "imap",
    clock: Clock = system_clock,
    attempt: str | None = None,
) -> IntakeResult:
    """Store `raw` once; a retry of the same mail returns outcome "duplicate".

    `display_text` is what agents should see in Slack (quotes and signature trimmed);
    the full text is always kept. `attempt`: the key its intake attempts are counted
    under (models.quarantine), forgotten in the same transaction that stores the mail.
    """
    key_id = (mail.message_id or "")[:998]
    if await InboundMessage.exists(message_id=key_id, digest=mail.digest):
        if attempt is not None:
            await finish_attempt(attempt)
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
            result = await _make_ticket(
                connection, inbound.id, mail, policy, display_text=display_text, clock=clock
            )
            if attempt is not None:
                await finish_attempt(attempt)
    except IntegrityError:
        # Another process stored the same mail between our check and our insert.
        if await InboundMessage.exists(message_id=key_id, digest=mail.digest):
            if attempt is not None:
                await finish_attempt(attempt)
            return IntakeResult("duplicate", note="stored concurrently")
        raise
    return result


@dataclass(frozen=True, slots=True)
class RawMail:
    """One mail to store raw: its de-duplication key (Message-ID, digest) and its bytes."""

    message_id: str
    digest: str
    raw: bytes
    defects: Sequence[str] = ()
    source: str = "imap"
    size: int | None = None  # what the source says the whole mail has (raw may be cut)


@dataclass(frozen=True, slots=True)
class StoredMail:
    """A mail stored raw whose ticket is still to be made (`make_tickets`)."""

    inbound_id: int
    mail: MailFacts
    display_text: str | None = None


async def store_raw(
    mails: Sequence[RawMail], clock: Clock = system_clock, *, attempts: Sequence[str] = ()
) -> list[int | None]:
    """Store a batch of raw mails in one statement, marked pending; the id of each new
    row, None for a mail stored before (or earlier in the same batch).

    The de-duplication key makes this idempotent: fetched again after a crash, the same
    mails are recognised by the database (ON CONFLICT DO NOTHING), never stored twice.
    `attempts`: intake attempt keys forgotten in the same transaction (they are stored).
    """
    if not mails:
        return []
    meta = InboundMessage._meta
    postgres = meta.db.capabilities.dialect == "postgres"
    at = meta.fields_map["received_at"].to_db_value(clock(), InboundMessage)
    to_json = meta.fields_map["defects"].to_db_value
    params: list[Any] = []

    def mark(value: Any) -> str:
        params.append(value)
        return f"${len(params)}" if postgres else "?"

    rows = []
    for mail in mails:
        values = (
            mail.message_id[:998],
            mail.digest,
            mail.raw,
            max(mail.size or 0, len(mail.raw)),
            mail.source[:320],
            to_json(list(mail.defects)[:50], InboundMessage),
            at,
            True,
            "",
        )
        rows.append("(" + ", ".join(mark(value) for value in values) + ")")
    statement = (
        "INSERT INTO inbound_message (message_id, digest, raw_source, size, source, defects, "
        f"received_at, pending, outcome) VALUES {', '.join(rows)} "
        "ON CONFLICT (message_id, digest) DO NOTHING RETURNING id, message_id, digest"
    )
    async with in_transaction() as connection:
        stored = await connection.execute_query_dict(statement, params)
        if attempts:
            await MailAttempt.filter(key__in=list(attempts), inbound_id__isnull=True).delete()
    new = {(str(row["message_id"]), str(row["digest"])): int(row["id"]) for row in stored}
    return [new.pop((mail.message_id[:998], mail.digest), None) for mail in mails]


async def pending_mails(limit: int, after: int = 0) -> list[tuple[int, bytes, int]]:
    """Mails stored raw whose ticket is not made yet, oldest first: (id, raw, size)."""
    rows = (
        await InboundMessage.filter(pending=True, id__gt=after)
        .order_by("id")
        .limit(limit)
        .values_list("id", "raw_source", "size")
    )
    return [(int(id_), bytes(raw), int(size)) for id_, raw, size in rows]


async def make_tickets(
    stored: Sequence[StoredMail],
    policy: Policy,
    clock: Clock = system_clock,
    *,
    attempts: Sequence[str | None] = (),
) -> list[IntakeResult | Exception]:
    """The tickets of several stored mails in one transaction (one commit, not one each).

    A mail whose ticket was made already (by another process, or before a crash) is
    "duplicate": the pending flag is cleared in the transaction that makes the ticket.
    If any mail of the group fails, the group is rolled back and each is made alone, in
    its own transaction: one that fails again fails alone (its exception is returned in
    its place) and the others commit. `attempts[i]`: the attempt key of `stored[i]`,
    forgotten when its ticket is made.
    """
    if len(stored) > 1:
        try:
            return list(await _make_group(stored, policy, clock, attempts))
        except Exception as exc:
            logger.info("%d stored mails made one by one: %s", len(stored), exc)
    results: list[IntakeResult | Exception] = []
    for index, item in enumerate(stored):
        try:
            results += await _make_group([item], policy, clock, attempts[index : index + 1])
        except Exception as exc:  # this mail only
            results.append(exc)
    return results


async def _make_group(
    stored: Sequence[StoredMail], policy: Policy, clock: Clock, attempts: Sequence[str | None]
) -> list[IntakeResult]:
    """All of `stored` in one transaction: claimed together, Message-ID clashes looked up
    together, then each mail's ticket; raises (rolling everything back) if one fails."""
    ids = [item.inbound_id for item in stored]
    results: list[IntakeResult] = []
    async with in_transaction() as connection, written_together():
        claimed = await _claim(connection, ids)
        keys = {(item.mail.message_id or "")[:998] for item in stored} - {""}
        clashes: set[str] = (
            set(
                str(message_id)
                for message_id in await InboundMessage.filter(message_id__in=list(keys))
                .group_by("message_id")
                .annotate(copies=Count("id"))
                .filter(copies__gt=1)
                .values_list("message_id", flat=True)
            )
            if keys
            else set()
        )
        for item in stored:
            if item.inbound_id not in claimed:
                results.append(IntakeResult("duplicate", note="its ticket was made already"))
                continue
            result = await _make_ticket(
                connection,
                item.inbound_id,
                item.mail,
                policy,
                display_text=item.display_text,
                clock=clock,
                clash=(item.mail.message_id or "")[:998] in clashes,
            )
            results.append(result)
        done = [key for key in attempts if key is not None]
        if done:
            await connection.execute_query(*_forget_attempts(connection, done))
    return results


async def _claim(connection: BaseDBAsyncClient, ids: Sequence[int]) -> set[int]:
    """Clear the pending flag of `ids` in one statement; those it was still set on."""
    postgres = connection.capabilities.dialect == "postgres"
    marks = ", ".join(f"${n}" if postgres else "?" for n in range(1, len(ids) + 1))
    rows = await connection.execute_query_dict(
        f"UPDATE inbound_message SET pending = {'false' if postgres else '0'} "
        f"WHERE pending AND id IN ({marks}) RETURNING id",
        list(ids),
    )
    return {int(row["id"]) for row in rows}


def _forget_attempts(connection: BaseDBAsyncClient, keys: Sequence[str]) -> tuple[str, list[Any]]:
    """DELETE of the attempt rows of `keys` (quarantined ones are kept)."""
    postgres = connection.capabilities.dialect == "postgres"
    marks = ", ".join(f"${n}" if postgres else "?" for n in range(1, len(keys) + 1))
    return (
        f"DELETE FROM mail_attempt WHERE inbound_id IS NULL AND key IN ({marks})",
        list(keys),
    )


async def _make_ticket(
    connection: BaseDBAsyncClient,
    inbound_id: int,
    mail: MailFacts,
    policy: Policy,
    *,
    display_text: str | None,
    clock: Clock,
    clash: bool | None = None,
) -> IntakeResult:
    """What a stored mail becomes: a bounce note, a new ticket or a follow-up. `clash`:
    whether another stored mail has its Message-ID (None: look it up)."""
    now = clock()
    if mail.is_bounce:
        result = await _record_bounce(mail, inbound_id, now, clock)
    else:
        intake = _Intake(mail, inbound_id, policy, display_text=display_text, clock=clock, now=now)
        result = await intake.run(connection)
    key_id = (mail.message_id or "")[:998]
    if clash is None:
        clash = bool(
            key_id
            and await InboundMessage.filter(message_id=key_id).exclude(id=inbound_id).exists()
        )
    if clash and result.ticket_id is not None:
        await History.create(
            ticket_id=result.ticket_id,
            event=HistoryEvent.MESSAGE_ID_CLASH,
            detail={"message_id": key_id, "note": "same Message-ID, different content"},
            created_at=now,
        )
    return result


class _Intake:
    """One non-bounce mail: a new ticket, a follow-up, or a rejected follow-up."""

    def __init__(
        self,
        mail: MailFacts,
        inbound_id: int,
        policy: Policy,
        *,
        display_text: str | None,
        clock: Clock,
        now: datetime,
    ) -> None:
        self.mail = mail
        self.inbound_id = inbound_id
        self.policy = policy
        self.display_text = display_text
        self.clock = clock
        self.now = now
        self.attachments: list[Attachment] = []  # the stored mail's, once stored

    async def run(self, connection: BaseDBAsyncClient) -> IntakeResult:
        target = await find_target(self.mail, self.policy, self.now)
        if target.ticket is not None and target.append:
            if target.ticket.state == TicketState.CLOSED:
                mode = self.policy.followup_on_closed
                if mode == "reject":
                    return await self.reject(target.ticket)
                if mode == "new_ticket":
                    target = Target(None, False, target.ticket, MatchReason.FOLLOWUP_TO_CLOSED)
                    return await self.open_ticket(connection, target)
            return await self.append(target)
        return await self.open_ticket(connection, target)

    async def store_article(self, ticket: Ticket, outcome: str) -> Article:
        mail, sender = self.mail, self.mail.sender
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
            display_text=self.display_text,
            incomplete=getattr(mail, "incomplete", None),
            message_id=mail.message_id[:998] if mail.message_id else None,
            in_reply_to=mail.in_reply_to[0][:998] if mail.in_reply_to else None,
            references=list(mail.references)[-50:],
            is_automatic=mail.is_automatic,
            created_at=self.now,
        )
        self.attachments = await save_attachments(article, mail.attachments, self.policy, self.now)
        await InboundMessage.filter(id=self.inbound_id).update(
            ticket_id=ticket.id, article_id=article.id, outcome=outcome
        )
        return article

    async def post_to_thread(self, ticket: Ticket, article: Article) -> None:
        """The article in the card's thread, then its files (same stream: in order)."""
        await effects.post_article(ticket.id, article.id, self.clock)
        for attachment in await article.attachments.all():
            if uploadable(attachment):
                await effects.upload_file(ticket.id, attachment.id, self.clock)

    async def post_followup(self, ticket: Ticket, article: Article) -> None:
        """A later mail in the thread, warned about when it could not be read fully.

        The first mail's warning is on the card itself; a thread notice queued before the
        card would wait forever for a card queued behind it in the same stream.
        """
        await self.post_to_thread(ticket, article)
        if article.incomplete:
            await effects.post_notice(
                ticket.id, Notice.READ_IN_PART, {"reason": article.incomplete}, self.clock
            )

    async def open_ticket(self, connection: BaseDBAsyncClient, target: Target) -> IntakeResult:
        mail, policy, now = self.mail, self.policy, self.now
        queue = policy.route(_recipients(mail))
        sender = mail.sender
        customer_email = sender.email if sender else ""
        reply_to = mail.reply_to.email.lower() if mail.reply_to else ""
        ticket = await create_ticket(
            connection,
            policy,
            queue,
            now,
            subject=mail.subject,
            customer_email=customer_email,
            customer_name=sender.name if sender else "",
            reply_address=reply_to if reply_to != customer_email.lower() else "",
            priority=Priority.HIGH if mail.marked_important else Priority.NORMAL,
            linked_ticket=target.linked,
            link_reason=target.reason,
        )
        number = ticket.number
        article = await self.store_article(ticket, "new_ticket")
        detail: dict[str, object] = {"queue": queue.name, "message_id": mail.message_id}
        if target.linked is not None:
            detail |= {"linked": target.linked.number, "reason": target.reason}
        await History.create(
            ticket=ticket,
            event=HistoryEvent.CREATED,
            actor=customer_email or "unknown sender",
            detail=detail,
            created_at=now,
        )
        await effects.post_card(ticket.id, self.clock)
        if self.attachments:
            await self.post_to_thread(ticket, article)
        queued, note = await self.acknowledge(ticket)
        return IntakeResult(
            "new_ticket", ticket.id, number, autoreply_queued=queued, note=note, queue=queue.name
        )

    async def append(self, target: Target) -> IntakeResult:
        """A follow-up: stored on the ticket, shown in its thread; a waiting ticket reopens."""
        assert target.ticket is not None
        ticket, now = target.ticket, self.now
        article = await self.store_article(ticket, "followup")
        after = next_state(Move.CUSTOMER_WROTE, ticket.state, owned=bool(ticket.owner_id))
        # Waiting or done tickets are reopened; a new or open one just gets the mail.
        state = after if ticket.state in (TicketState.PENDING, TicketState.CLOSED) else None
        await Ticket.filter(id=ticket.id).update(
            last_activity_at=now,
            updated_at=now,
            **({"state": state, "closed_at": None} if state else {}),
        )
        if state:
            await sla_state.refresh(ticket.id, self.policy.sla, now)
        await History.create(
            ticket=ticket,
            event=HistoryEvent.FOLLOWUP,
            actor=article.sender or "unknown sender",
            detail={"article_id": article.id, "matched_by": target.reason},
            created_at=now,
        )
        if state:
            await History.create(
                ticket=ticket,
                event=HistoryEvent.REOPENED,
                actor="customer",
                detail={"from": ticket.state.value, "state": state.value},
                created_at=now,
            )
        if state and ticket.state == TicketState.CLOSED:
            await effects.post_notice(ticket.id, Notice.REOPENED_BY_CUSTOMER, clock=self.clock)
        if target.reason == MatchReason.SAME_REQUEST:
            hours = f"{self.policy.same_request_window_hours:g}"
            await effects.post_notice(ticket.id, Notice.SAME_REQUEST, {"hours": hours}, self.clock)
        await self.post_followup(ticket, article)
        await self.flag_reply_to(ticket)
        await effects.update_card(ticket.id, self.clock)
        return IntakeResult("followup", ticket.id, ticket.number, note=target.reason)

    async def flag_reply_to(self, ticket: Ticket) -> None:
        """A follow-up asking for answers elsewhere is shown, never obeyed silently: agents'
        replies keep going to the ticket's customer (SPEC "Hostile mail")."""
        wanted = self.mail.reply_to.email.lower() if self.mail.reply_to else ""
        answers_go_to = (ticket.reply_address or ticket.customer_email).lower()
        if not wanted or wanted in (answers_go_to, ticket.customer_email.lower()):
            return
        await effects.post_notice(
            ticket.id,
            Notice.REPLY_TO_IGNORED,
            {"address": wanted, "customer": answers_go_to},
            self.clock,
        )

    async def reject(self, ticket: Ticket) -> IntakeResult:
        """`followup_on_closed: reject`: keep the mail, keep the ticket closed, say so."""
        article = await self.store_article(ticket, "rejected")
        await History.create(
            ticket=ticket,
            event=HistoryEvent.FOLLOWUP_REJECTED,
            actor=article.sender or "unknown sender",
            detail={"article_id": article.id},
            created_at=self.now,
        )
        await effects.post_notice(ticket.id, Notice.FOLLOWUP_REJECTED, clock=self.clock)
        await self.post_followup(ticket, article)
        queued, note = await self.acknowledge(ticket, closed=True)
        return IntakeResult(
            "rejected", ticket.id, ticket.number, autoreply_queued=queued, note=note
        )

    async def acknowledge(self, ticket: Ticket, *, closed: bool = False) -> tuple[bool, str]:
        """The automatic answer, unless loop and flood protection forbid it.

        It goes to one address: From, or Reply-To when that is one valid address (the
        parser leaves `reply_to` empty otherwise), and is counted against three caps.
        """
        mail, policy, now = self.mail, self.policy, self.now
        sender = mail.sender
        customer_email = sender.email if sender else ""
        recipient = (mail.reply_to.email if mail.reply_to else customer_email).lower()
        refusal = autoreply_refusal(
            policy=policy,
            sender=recipient,
            is_automatic=mail.is_automatic or customer_email.lower() in policy.our_addresses,
            automatic_reason=mail.automatic_reason or "sent from our own address",
            is_bounce=mail.is_bounce,
            recent=await recent_answers(recipient, now),
        )
        if refusal is not None:
            await autoreply_suppressed(ticket, refusal, now)
            return False, refusal
        subject, body = (
            closed_ticket_notice(policy, ticket.number, mail.subject, policy.queue(ticket.queue))
            if closed
            else acknowledgement(policy, ticket.number, mail.subject, policy.queue(ticket.queue))
        )
        references = (
            [*mail.references, mail.message_id] if mail.message_id else list(mail.references)
        )
        await queue_autoreply(
            ticket,
            policy,
            recipient=recipient,
            subject=subject,
            body=body,
            now=now,
            clock=self.clock,
            in_reply_to=mail.message_id,
            references=references[-20:],
        )
        return True, ""


async def create_ticket(
    connection: BaseDBAsyncClient,
    policy: Policy,
    queue: QueueRoute,
    now: datetime,
    *,
    subject: str,
    customer_email: str,
    customer_name: str,
    **extra: Any,
) -> Ticket:
    """A new ticket in `queue`, numbered from the daily counter: for mail and for tickets
    agents open alike (`extra`: what only one of them knows)."""
    day = now.date()
    priority = extra.get("priority", Priority.NORMAL)
    clocks = sla_state.TicketClocks(queue.name, priority, TicketState.NEW, now, None, None)
    return await Ticket.create(
        number=format_number(day, policy.system_id, await allocate_counter(connection, day)),
        queue=queue.name,
        subject=subject,
        subject_key=normalise_subject(subject, policy.ticket_hook)[:200],
        customer_email=customer_email,
        customer_name=customer_name[:200],
        state=TicketState.NEW,
        last_activity_at=now,
        slack_channel=queue.channel,
        created_at=now,
        updated_at=now,
        **sla_state.clock_columns(policy.sla, clocks, now),
        **extra,
    )


async def autoreply_suppressed(ticket: Ticket, refusal: str, now: datetime) -> None:
    """Loop or flood protection withheld the automatic answer: logged and in history."""
    logger.info("ticket %s: no automatic answer: %s", ticket.number, refusal)
    await History.create(
        ticket=ticket,
        event=HistoryEvent.AUTOREPLY_SUPPRESSED,
        detail={"reason": refusal},
        created_at=now,
    )


async def queue_autoreply(
    ticket: Ticket,
    policy: Policy,
    *,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
    clock: Clock,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
) -> None:
    """An automatic answer stored as the ticket's article and queued for sending (the
    caps of `recent_answers` count these articles)."""
    reply = await Article.create(
        ticket=ticket,
        kind=ArticleKind.EMAIL_OUT,
        author="system",
        author_name=policy.display_name,
        sender=policy.address,
        recipients=[recipient],
        to_address=recipient,
        subject=subject,
        body=body,
        message_id=new_message_id(policy, ticket.number),
        in_reply_to=in_reply_to,
        references=references or [],
        is_automatic=True,
        is_autoreply=True,
        created_at=now,
    )
    await effects.send_mail(ticket.id, reply.id, clock)


async def recent_answers(recipient: str, now: datetime) -> RecentAnswers:
    """How many automatic answers went out lately, for the per-recipient, global and
    per-domain caps, in one statement (every new ticket asks). The global cap bounds the
    rows the hour's count reads; it counts the hour and the domain's share together."""
    domain = recipient.rpartition("@")[2]
    sql = Query(dialect_of())  # placeholders are made in the order they appear (SQLite)
    to_recipient = (
        f"SELECT count(*) FROM article WHERE is_autoreply = {sql.value(True)} "
        f"AND to_address = {sql.value(recipient)} "
        f"AND created_at >= {sql.value(now - timedelta(days=1))}"
    )
    in_domain = (
        f"to_address LIKE {sql.value('%@' + _like_escaped(domain))} ESCAPE '!'"
        if domain
        else "1 = 0"
    )
    [row] = await sql.fetch(
        f"SELECT ({to_recipient}) AS day, count(*) AS hour, "
        f"coalesce(sum(CASE WHEN {in_domain} THEN 1 ELSE 0 END), 0) AS domain "
        f"FROM article WHERE is_autoreply = {sql.value(True)} "
        f"AND created_at >= {sql.value(now - timedelta(hours=1))}"
    )
    return RecentAnswers(
        to_recipient_last_day=int(row["day"] or 0),
        last_hour=int(row["hour"] or 0),
        to_domain_last_hour=int(row["domain"] or 0),
    )


def _like_escaped(text: str) -> str:
    """`text` matched literally by LIKE … ESCAPE '!' (no backslash: its meaning in a
    string literal depends on PostgreSQL's standard_conforming_strings)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


async def _record_bounce(
    mail: MailFacts, inbound_id: int, now: datetime, clock: Clock
) -> IntakeResult:
    """A bounce becomes a note on the ticket whose mail bounced, never a new ticket."""
    original = None
    if mail.bounce_message_ids:
        original = (  # only what we sent: quoting a customer's own Message-ID gets nowhere
            await Article.filter(
                message_id__in=list(mail.bounce_message_ids)[:MAX_LOOKUP_IDS],
                kind=ArticleKind.EMAIL_OUT,
            )
            .order_by("-id")
            .first()
            .prefetch_related("ticket")
        )
    if original is None:
        await InboundMessage.filter(id=inbound_id).update(outcome="bounce_unmatched")
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
        message_id=mail.message_id[:998] if mail.message_id else None,
        is_automatic=True,
        created_at=now,
    )
    await InboundMessage.filter(id=inbound_id).update(
        ticket_id=ticket.id, article_id=note.id, outcome="bounce_note"
    )
    await History.create(
        ticket=ticket,
        event=HistoryEvent.BOUNCE,
        detail={"original": original.message_id},
        created_at=now,
    )
    await effects.post_article(ticket.id, note.id, clock)
    return IntakeResult("bounce_note", ticket.id, ticket.number)
