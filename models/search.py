"""`/ticket search`: full-text search over whole tickets, with filters, ranked, in pages.

A ticket matches when every word and "quoted phrase" occurs in it: in its subject, its
customer's name or address, or any of its mails and notes (a phrase within one of them).
The database keeps the index (migration 0005: PostgreSQL `ticket_search`, a tsvector with
a GIN index queried with `websearch_to_tsquery('simple', …)`; SQLite `ticket_fts`, FTS5), and
models/search_text.py says how words are compared. Two kinds of term are looked up exactly
instead: a ticket number (with a valid check digit; `[Ticket#N]` too) is that ticket, and an
address is the tickets of that customer.

Filters (SPEC): `state:new|open|pending|closed`, `queue:<name>`, `from:<address or domain>`,
`owner:@user|me|none`, `after:YYYY-MM-DD` (created that day or later), `before:YYYY-MM-DD`
(created before that day), `priority:low|normal|high|urgent`, days in the asker's time
zone. Results: best match first (subject and customer
count more than mail text), newest first among equals and when there are no words;
`PAGE_SIZE` a page.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, tzinfo
from typing import Any

from models.errors import InvalidValue
from models.numbers import hook_pattern, is_valid_number
from models.priority import Priority
from models.search_text import (
    fold,
    german_spelling,
    has_umlaut,
    spell_out,
    spellings,
    word_key,
    words,
)
from models.sql import Query, dialect_of, utc
from models.store.ticket import TicketState

MAX_TERMS = 8
MAX_TERM_LENGTH = 100
PAGE_SIZE = 10
MAX_PAGES = 50
CANDIDATES = 1000  # PostgreSQL ranks the newest this many matches (see search_tickets)
WINDOWS = (50_000, 500_000)  # ticket ids PostgreSQL looks at first for them (see _pg_ranked)
SNIPPET_WORDS = 24
SNIPPET_SOURCE_CHARS = 20_000
NOBODY = ""  # owner:none

_TOKEN = re.compile(r'(?:(\w+):)?(?:"([^"]*)"?|(\S+))')
_ADDRESS = re.compile(r"^[^@\s<>\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^@?([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})$")
_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")
FILTERS = ("state", "queue", "from", "owner", "after", "before", "priority")


class SearchError(InvalidValue):
    """A filter the search cannot use; the message says what it takes."""


@dataclass(frozen=True)
class SearchQuery:
    """What the asker typed, understood (before anything is resolved against Slack)."""

    terms: tuple[str, ...] = ()  # words and phrases, as typed
    state: TicketState | None = None
    queue: str | None = None  # a name as typed: the caller resolves it
    sender: str | None = None  # an address, or a domain
    owner: str | None = None  # as typed: me, none, <@U…>, @name; the caller resolves it
    after: date | None = None
    before: date | None = None
    priority: Priority | None = None
    ignored: tuple[str, ...] = ()  # filters understood but not applied (none at present)

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.has_filters

    @property
    def has_filters(self) -> bool:
        return any(
            value is not None
            for value in (
                self.state,
                self.queue,
                self.sender,
                self.owner,
                self.after,
                self.before,
                self.priority,
            )
        )


def search_terms(text: str) -> list[str]:
    """The words to look for: "quoted phrases" stay whole; duplicates, empties and
    anything past MAX_TERMS go; each term is cut to MAX_TERM_LENGTH characters."""
    return list(parse_search(text, strict=False).terms)


def parse_search(text: str, *, strict: bool = True) -> SearchQuery:
    """Words, phrases and `name:value` filters; a filter with a bad value raises
    SearchError when `strict` (else it is dropped)."""
    terms: list[str] = []
    found: dict[str, Any] = {}
    ignored: list[str] = []
    for found_key, quoted, found_bare in _TOKEN.findall(text):
        key, bare = found_key, found_bare
        if not key and bare.endswith(":") and bare[:-1].lower() in FILTERS:
            key, bare = bare[:-1], ""  # `queue:` with nothing after it
        name = key.lower()
        value = quoted if quoted or bare == "" else bare
        if name in FILTERS:
            try:
                _filter(name, value.strip(), found, ignored)
            except SearchError:
                if strict:
                    raise
            continue
        term = f"{key}:{value}" if key else value
        term = " ".join(term.strip('"').split())[:MAX_TERM_LENGTH]
        if term and term.casefold() not in (t.casefold() for t in terms):
            terms.append(term)
    return SearchQuery(terms=tuple(terms[:MAX_TERMS]), ignored=tuple(ignored), **found)


def _filter(name: str, value: str, found: dict[str, Any], ignored: list[str]) -> None:
    if not value:
        raise SearchError(f"{name}: needs a value")
    if name == "state":
        try:
            found["state"] = TicketState(value.lower())
        except ValueError:
            raise SearchError("state: is new, open, pending or closed") from None
    elif name == "queue":
        found["queue"] = value
    elif name == "from":
        found["sender"] = _sender(value)
    elif name == "owner":
        found["owner"] = value
    elif name == "priority":
        try:
            found["priority"] = Priority(value.lower())
        except ValueError:
            raise SearchError("priority: is low, normal, high or urgent") from None
    elif name in ("after", "before"):
        try:
            found[name] = date.fromisoformat(value)
        except ValueError:
            raise SearchError(f"{name}: takes a day as YYYY-MM-DD") from None
    else:
        ignored.append(f"{name}:{value}")


def _sender(value: str) -> str:
    value = value.strip("<>").split("|")[-1].removeprefix("mailto:").lower()  # Slack: <mailto:a|a>
    if _ADDRESS.match(value):
        return value
    domain = _DOMAIN.match(value)
    if domain is None:
        raise SearchError("from: takes an address (ann@example.com) or a domain (example.com)")
    return domain.group(1)


# -- resolved query, results ----------------------------------------------------------------


@dataclass(frozen=True)
class SearchScope:
    """Who asks and what they may see: `channels` are the queue channels of the asker's
    queues (all of them for a lead); `owner` is a user id or NOBODY, resolved by the caller."""

    channels: tuple[str, ...]
    zone: tzinfo
    owner: str | None = None
    queue_channel: str | None = None  # queue: resolved to its channel (one of `channels`)


@dataclass(frozen=True)
class SearchHit:
    ticket_id: int
    number: str
    state: TicketState
    owner_id: str | None
    created_at: datetime
    subject: str
    customer: str
    snippet: list[tuple[str, bool]] = field(default_factory=list)  # (text, is a hit)


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    page: int
    more: bool


@dataclass(frozen=True)
class _Terms:
    numbers: list[str]
    addresses: list[str]
    words: list[list[str]]  # each term: its spellings (any of them must occur)


def _classify(terms: Sequence[str], hook: str) -> _Terms:
    numbers, addresses, text = [], [], []
    for term in terms:
        tagged = hook_pattern(hook).fullmatch(term)
        bare = tagged.group(1) if tagged else term.removeprefix(hook)
        if is_valid_number(bare):
            numbers.append(bare)
        elif _ADDRESS.match(term.strip("<>")):
            addresses.append(term.strip("<>").lower())
        else:
            found = [s.replace('"', " ") for s in spellings(term) if words(fold(s))]
            if found:
                text.append(found)
    return _Terms(numbers, addresses, text)


def _pg_websearch(terms: list[list[str]]) -> str:
    """Every term quoted (so `or`, `-` and quotes typed are words), spellings joined by `or`."""
    return " ".join(" or ".join(f'"{s}"' for s in variants) for variants in terms)


def _fts5_match(terms: list[list[str]]) -> str:
    quoted = ("(" + " OR ".join(f'"{spell_out(s)}"' for s in variants) + ")" for variants in terms)
    return " AND ".join(quoted)


async def search_tickets(
    query: SearchQuery, scope: SearchScope, *, hook: str, page: int = 0
) -> SearchPage:
    """One page of the tickets matching `query` among those `scope` may see."""
    page = max(0, min(page, MAX_PAGES - 1))
    terms = _classify(query.terms, hook)
    if not scope.channels or (
        query.terms and not (terms.numbers or terms.addresses or terms.words)
    ):
        return SearchPage([], page, more=False)
    if not query.terms and not query.has_filters:
        return SearchPage([], page, more=False)
    sql = Query(dialect_of())
    where = [f"t.slack_channel IN {sql.values(scope.channels)}"]
    if scope.queue_channel is not None:
        where.append(f"t.slack_channel = {sql.value(scope.queue_channel)}")
    if query.state is not None:
        where.append(f"t.state = {sql.value(query.state.value)}")
    if query.priority is not None:
        where.append(f"t.priority = {sql.value(query.priority.value)}")
    if query.sender is not None:
        if "@" in query.sender:
            where.append(f"lower(t.customer_email) = {sql.value(query.sender)}")
        else:
            where.append(f"lower(t.customer_email) LIKE {sql.value('%@' + query.sender)}")
    if scope.owner is not None:
        where.append(
            "t.owner_id IS NULL"
            if scope.owner == NOBODY
            else f"t.owner_id = {sql.value(scope.owner)}"
        )
    if query.after is not None:
        where.append(f"t.created_at >= {sql.value(utc(_midnight(query.after, scope.zone)))}")
    if query.before is not None:
        where.append(f"t.created_at < {sql.value(utc(_midnight(query.before, scope.zone)))}")
    for number in terms.numbers:
        where.append(f"t.number = {sql.value(number)}")
    for address in terms.addresses:
        where.append(f"lower(t.customer_email) = {sql.value(address)}")
    columns = (
        "t.id, t.number, t.state, t.owner_id, t.created_at, t.subject, t.customer_email, "
        "t.customer_name"
    )
    window = f"LIMIT {PAGE_SIZE + 1} OFFSET {page * PAGE_SIZE}"
    if not terms.words:
        rows = await sql.fetch(
            f"SELECT {columns} FROM ticket t WHERE {' AND '.join(where)} "
            f"ORDER BY t.created_at DESC, t.id DESC {window}"
        )
    elif sql.dialect == "postgres":
        rows = await _pg_ranked(sql, columns, where, terms.words, window)
    else:
        rows = await sql.fetch(
            f"SELECT {columns}, bm25(ticket_fts, 4.0, 1.0) AS rank "
            "FROM ticket_fts JOIN ticket t ON t.id = ticket_fts.rowid "
            f"WHERE {' AND '.join(where)} "  # parameters in the order they are written
            f"AND ticket_fts MATCH {sql.value(_fts5_match(terms.words))} "
            f"ORDER BY rank, t.created_at DESC, t.id DESC {window}"
        )
    hits = [
        SearchHit(
            ticket_id=int(row["id"]),
            number=str(row["number"]),
            state=TicketState(row["state"]),
            owner_id=row["owner_id"],
            created_at=sql.datetime(row["created_at"]),
            subject=str(row["subject"] or ""),
            customer=_customer(row),
        )
        for row in rows[:PAGE_SIZE]
    ]
    if terms.words and hits:
        hits = await _with_snippets(hits, terms.words)
    return SearchPage(hits, page, more=len(rows) > PAGE_SIZE)


async def _pg_ranked(
    written: Query, columns: str, where: list[str], terms: list[list[str]], window: str
) -> list[dict[str, Any]]:
    """The page of the best of the newest CANDIDATES matches, ranked. Ranking is the cost
    (ts_rank reads every match's document), and so is finding the newest matches of a
    frequent phrase: the GIN index cannot check word positions, so each ticket that has the
    words is read, wherever it is. So the newest tickets are looked at first, in growing
    ranges of ids (WINDOWS); a range holding CANDIDATES matches holds the newest of them all,
    otherwise the next, wider one is asked, the last being every ticket."""
    [top] = await Query("postgres").fetch("SELECT max(ticket_id) AS n FROM ticket_search")
    newest = int(top["n"] or 0)
    for width in (*WINDOWS, None):
        sql = Query("postgres")
        sql.params = list(written.params)  # the filters' parameters, $1… in `where`
        folded = f"ticketbot_fold({sql.value(_pg_websearch(terms))})"
        match = f"websearch_to_tsquery('simple', {folded})"
        since = "" if width is None else f" AND s.ticket_id > {sql.value(newest - width)}"
        rows = await sql.fetch(
            f"SELECT {columns}, ts_rank(c.document, q.query) AS rank, count(*) OVER () AS found "
            f"FROM {match} AS q(query), LATERAL ("
            "SELECT s.ticket_id, s.document FROM ticket_search s "
            "JOIN ticket t ON t.id = s.ticket_id "
            f"WHERE s.document @@ q.query{since} AND {' AND '.join(where)} "
            f"ORDER BY s.ticket_id DESC LIMIT {CANDIDATES}) c "
            "JOIN ticket t ON t.id = c.ticket_id "
            f"ORDER BY rank DESC, t.created_at DESC, t.id DESC {window}"
        )
        if width is None or newest - width <= 0 or (rows and rows[0]["found"] >= CANDIDATES):
            return rows
    raise AssertionError("unreachable: the last window is every ticket")


def _customer(row: dict[str, Any]) -> str:
    name, email = str(row["customer_name"] or ""), str(row["customer_email"] or "")
    return f"{name} <{email}>" if name and email else name or email


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), zone)


async def _with_snippets(hits: list[SearchHit], terms: list[list[str]]) -> list[SearchHit]:
    """The first mail or note of each ticket that mentions a term, around that mention."""
    sql = Query(dialect_of())
    ids = sql.values([hit.ticket_id for hit in hits])
    rows = await sql.fetch(
        f"SELECT ticket_id, substr(body, 1, {SNIPPET_SOURCE_CHARS}) AS body FROM article "
        f"WHERE ticket_id IN {ids} AND kind <> 'system' AND NOT is_autoreply "
        "ORDER BY ticket_id, id"
    )
    texts: dict[int, list[str]] = {}
    for row in rows:
        texts.setdefault(int(row["ticket_id"]), []).append(str(row["body"] or ""))
    wanted = _wanted(terms)
    return [
        replace(hit, snippet=_first_snippet(texts.get(hit.ticket_id, []), wanted)) for hit in hits
    ]


def _first_snippet(texts: list[str], wanted: set[str]) -> list[tuple[str, bool]]:
    for text in texts:
        snippet = highlight(text, wanted)
        if snippet:
            return snippet
    return []


def _wanted(terms: list[list[str]]) -> set[str]:
    return {word_key(word) for variants in terms for s in variants for word in words(fold(s))}


def highlight(
    text: str, wanted: Collection[str], size: int = SNIPPET_WORDS
) -> list[tuple[str, bool]]:
    """A window of about `size` words of `text` around its first word in `wanted` (compared
    folded, as the index does), as (text, is a hit) pieces; [] if no word is wanted."""
    found = list(_WORD.finditer(text))
    hits = [_is_wanted(m.group(), wanted) for m in found]
    first = next((i for i, hit in enumerate(hits) if hit), None)
    if first is None:
        return []
    lo = max(0, first - size // 3)
    hi = min(len(found), lo + size)
    pieces: list[tuple[str, bool]] = [("…", False)] if lo > 0 else []
    cursor = found[lo].start()
    for i in range(lo, hi):
        if hits[i]:
            pieces.append((text[cursor : found[i].start()], False))
            pieces.append((found[i].group(), True))
            cursor = found[i].end()
    pieces.append((text[cursor : found[hi - 1].end()], False))
    if hi < len(found):
        pieces.append(("…", False))
    return [(_SPACES.sub(" ", piece), hit) for piece, hit in pieces if piece]


def _is_wanted(word: str, wanted: Collection[str]) -> bool:
    if word_key(word) in wanted:
        return True
    return has_umlaut(word) and word_key(german_spelling(word)) in wanted
