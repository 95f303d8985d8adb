"""`/ticket search`: tickets whose subject, customer, number or any article mentions
every one of the words (case-insensitive substrings, like OTRS's full-text search)."""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import reduce
from operator import and_

from tortoise.expressions import Q, Subquery

from models.store.article import Article
from models.store.ticket import Ticket

MAX_TERMS = 8
MAX_TERM_LENGTH = 100
_TERM = re.compile(r'"([^"]+)"|(\S+)')


def search_terms(text: str) -> list[str]:
    """The words to look for: "quoted phrases" stay whole; duplicates, empties and
    anything past MAX_TERMS go; each term is cut to MAX_TERM_LENGTH characters."""
    terms: list[str] = []
    for phrase, word in _TERM.findall(text):
        term = " ".join((phrase or word.strip('"')).split())[:MAX_TERM_LENGTH]
        if term and term.casefold() not in (t.casefold() for t in terms):
            terms.append(term)
    return terms[:MAX_TERMS]


def _mentions(term: str) -> Q:
    in_articles = Article.filter(Q(body__icontains=term) | Q(subject__icontains=term))
    return (
        Q(subject__icontains=term)
        | Q(number__contains=term)
        | Q(customer_email__icontains=term)
        | Q(customer_name__icontains=term)
        | Q(id__in=Subquery(in_articles.values("ticket_id")))
    )


async def search_tickets(
    terms: list[str], *, channels: Collection[str], limit: int = 20
) -> list[Ticket]:
    """Matching tickets in `channels` (the ones the asker may see), latest activity first."""
    if not terms or not channels:
        return []
    matches = reduce(and_, (_mentions(term) for term in terms))
    return (
        await Ticket.filter(matches, slack_channel__in=list(channels))
        .order_by("-last_activity_at", "-id")
        .limit(limit)
    )
