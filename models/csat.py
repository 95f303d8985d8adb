"""Customer satisfaction after a close: the rating mail, and the customer's rating and
comment coming back through the link in it.

A close by an agent (Close, Reply & close) asks once: one `CsatRequest` row, a mail with
three links (good / okay / bad) carrying one signed token (models/csat_token.py). The
row is the single use: the rating is written with a compare-and-set on "not rated yet",
so two clicks at once record one rating, and a later close of the same ticket marks the
older rows superseded, which spends their links. The rating, then the comment, reach the
ticket's thread as notices and its history as entries, in the same transaction.
Merges, and closes not made by an agent, ask nothing.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise.transactions import in_transaction

from models import effects
from models.autoreply import new_message_id, notice_locale, quote_subject
from models.clock import Clock, system_clock
from models.csat_token import make_token, read_token
from models.events import HistoryEvent, Notice
from models.numbers import format_subject
from models.policy import CsatPolicy, Policy
from models.store.article import Article, ArticleKind
from models.store.csat import CsatRequest
from models.store.ticket import History, Ticket
from models.templates import CSAT_SHIPPED, LOCALES, Locale, fill

logger = logging.getLogger(__name__)

#: What a comment may hold (characters, after cleaning); the page's form says so too.
MAX_COMMENT_CHARS = 2000


class Rating(StrEnum):
    GOOD = "good"
    OKAY = "okay"
    BAD = "bad"


class Outcome(StrEnum):
    """How a click or a comment ended; the web page words each (and picks its status)."""

    RECORDED = "recorded"
    INVALID = "invalid"  # malformed or forged: not a link we sent
    EXPIRED = "expired"
    SPENT = "spent"  # the ticket was closed again since: a newer mail has the live links
    USED = "used"  # rated already (for a comment: commented already)
    NOT_RATED = "not_rated"  # a comment for a request never rated


@dataclass(frozen=True, slots=True)
class Answer:
    outcome: Outcome
    locale: Locale
    rating: Rating | None = None  # what is recorded now (this click's, or the earlier one)


def parse_rating(text: str) -> Rating | None:
    """The rating a link names; None for anything else (a whitelist, nothing is echoed)."""
    try:
        return Rating(text)
    except ValueError:
        return None


def clean_comment(text: str) -> str:
    """A comment as stored: control and format characters (bidi overrides too) dropped,
    line breaks kept as `\\n`, surrounding space trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = (ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    return "".join(kept).strip()


def rating_links(csat: CsatPolicy, token: str) -> dict[str, str]:
    """The three one-click links of a rating mail, by rating."""
    return {r.value: f"{csat.public_url}/csat/{token}?rating={r.value}" for r in Rating}


def _locale(value: str, fallback: Locale) -> Locale:
    for locale in LOCALES:
        if value == locale:
            return locale
    return fallback


async def ask_for_rating(
    ticket: Ticket, policy: Policy, *, agent: str, recipient: str, now: datetime, clock: Clock
) -> CsatRequest | None:
    """In the close's transaction: spend the links of earlier closes of this ticket and,
    with `csat:` enabled, store the request and queue its mail. `agent` is whom the rating
    counts for: the ticket's owner at the close (the closing agent when it had none).
    Nothing for a ticket
    without a customer address, one of our own, or one that began as automatic mail
    (a robot has no opinion, and its answer would only reopen the ticket)."""
    await CsatRequest.filter(ticket_id=ticket.id, superseded=False).update(superseded=True)
    csat = policy.csat
    if csat is None or not recipient or recipient.lower() in policy.our_addresses:
        return None
    first = await Article.filter(ticket_id=ticket.id).order_by("id").first()
    if first is not None and first.kind == ArticleKind.EMAIL_IN and first.is_automatic:
        return None
    queue = policy.queue(ticket.queue)
    locale = notice_locale(policy, queue)
    expires = (now + timedelta(days=csat.expiry_days)).replace(microsecond=0)
    request = await CsatRequest.create(
        ticket_id=ticket.id,
        queue=ticket.queue[:100],
        agent=agent[:32],
        locale=locale,
        created_at=now,
        expires_at=expires,
    )
    token = make_token(csat.key, request.id, ticket.id, expires)
    texts = CSAT_SHIPPED[locale]
    values = {
        "number": ticket.number,
        "subject": quote_subject(ticket.subject) or "-",
        "ticket_tag": f"[{policy.ticket_hook}{ticket.number}]",
        "team": policy.display_name,
        "days": str(csat.expiry_days),
        **rating_links(csat, token),
    }
    latest = (
        await Article.filter(ticket_id=ticket.id, kind=ArticleKind.EMAIL_IN)
        .exclude(message_id=None)
        .order_by("-id")
        .first()
    )
    mail = await Article.create(
        ticket_id=ticket.id,
        kind=ArticleKind.EMAIL_OUT,
        author="system",
        author_name=policy.display_name[:200],
        sender=policy.address,
        recipients=[recipient],
        to_address=recipient.lower(),
        subject=format_subject(policy.ticket_hook, ticket.number, texts.subject),
        body=fill(texts.body, values),
        message_id=new_message_id(policy, ticket.number),
        in_reply_to=latest.message_id if latest else None,
        references=[latest.message_id] if latest and latest.message_id else [],
        is_automatic=True,
        created_at=now,
    )
    await History.create(
        ticket_id=ticket.id,
        event=HistoryEvent.CSAT_REQUESTED,
        actor="system",
        detail={"request": request.id, "article_id": mail.id, "expires": expires.isoformat()},
        created_at=now,
    )
    await effects.send_mail(ticket.id, mail.id, clock)
    return request


async def _request_of(
    csat: CsatPolicy, token: str, now: datetime
) -> tuple[Outcome | None, CsatRequest | None]:
    """The request a token names, or why there is none to use."""
    facts = read_token(csat.key, token)
    if facts is None:
        return Outcome.INVALID, None
    request = await CsatRequest.get_or_none(id=facts.request_id, ticket_id=facts.ticket_id)
    if facts.expired(now):  # ours and over: said as such, whatever became of its row
        return Outcome.EXPIRED, request
    if request is None or int(request.expires_at.timestamp()) != int(facts.expires_at.timestamp()):
        return Outcome.INVALID, None  # genuine once, but not of this database
    if request.superseded:
        return Outcome.SPENT, request
    return None, request


async def record_rating(
    policy: Policy, token: str, rating: Rating, clock: Clock = system_clock
) -> Answer:
    """The customer's click: records `rating` once per request."""
    fallback = policy.locale
    if policy.csat is None:
        return Answer(Outcome.INVALID, fallback)
    async with in_transaction():
        now = clock()
        refused, request = await _request_of(policy.csat, token, now)
        if request is None:
            return Answer(refused or Outcome.INVALID, fallback)
        locale = _locale(request.locale, fallback)
        if refused is not None:
            return Answer(refused, locale, parse_rating(request.rating or ""))
        taken = await CsatRequest.filter(
            id=request.id, rating=None, superseded=False, expires_at__gt=now
        ).update(rating=rating.value, rated_at=now)
        if not taken:
            again = await CsatRequest.get(id=request.id)
            outcome = Outcome.USED if again.rating else Outcome.SPENT
            return Answer(outcome, locale, parse_rating(again.rating or ""))
        ticket = await Ticket.get(id=request.ticket_id)
        await History.create(
            ticket_id=request.ticket_id,
            event=HistoryEvent.CSAT_RATED,
            actor=ticket.customer_email or "customer",
            detail={"request": request.id, "rating": rating.value, "agent": request.agent},
            created_at=now,
        )
        await effects.post_notice(
            request.ticket_id, Notice.CSAT_RATED, {"rating": rating.value}, clock
        )
        logger.info("ticket %s rated %s", ticket.number, rating.value)
        return Answer(Outcome.RECORDED, locale, rating)


async def record_comment(
    policy: Policy, token: str, comment: str, clock: Clock = system_clock
) -> Answer:
    """The comment under a rating: once, at most `MAX_COMMENT_CHARS` (the caller refuses
    longer ones; cut here too, as the last guard), only after the rating."""
    fallback = policy.locale
    if policy.csat is None:
        return Answer(Outcome.INVALID, fallback)
    text = clean_comment(comment)[:MAX_COMMENT_CHARS]
    async with in_transaction():
        now = clock()
        refused, request = await _request_of(policy.csat, token, now)
        if request is None:
            return Answer(refused or Outcome.INVALID, fallback)
        locale = _locale(request.locale, fallback)
        rating = parse_rating(request.rating or "")
        if refused is not None:
            return Answer(refused, locale, rating)
        if rating is None:
            return Answer(Outcome.NOT_RATED, locale)
        taken = await CsatRequest.filter(
            id=request.id, comment=None, superseded=False, rating__not_isnull=True
        ).update(comment=text, commented_at=now)
        if not taken:
            return Answer(Outcome.USED, locale, rating)
        ticket = await Ticket.get(id=request.ticket_id)
        await History.create(
            ticket_id=request.ticket_id,
            event=HistoryEvent.CSAT_COMMENTED,
            actor=ticket.customer_email or "customer",
            detail={"request": request.id, "rating": rating.value, "comment": text},
            created_at=now,
        )
        await effects.post_notice(
            request.ticket_id,
            Notice.CSAT_COMMENTED,
            {"rating": rating.value, "comment": text},
            clock,
        )
        return Answer(Outcome.RECORDED, locale, rating)
