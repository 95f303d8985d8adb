"""How long `/ticket report` and `/ticket search` take on a big helpdesk.

    python -m tests.bench.bench_report [--tickets 50000] [--db sqlite|postgres|both]

Seeds a year of tickets (created, claimed, answered, closed, some reopened; one
customer mail and one reply each) straight into a fresh database, then times the
report for today, this week, this month, a past quarter and a whole year, and a
few searches. Prints milliseconds (best of 3) per query. No target was set for
these; the figures are for planning.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import uvloop

from models.report import build_report, parse_period
from models.search import search_terms, search_tickets
from models.store import db
from models.store.article import Article, ArticleKind
from models.store.ticket import History, Ticket, TicketState

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
AGENTS = [f"U0AGENT{n:02d}" for n in range(12)]
WORDS = ["printer", "toner", "invoice", "password", "vpn", "laptop", "login", "refund"]


async def seed(count: int) -> None:
    rng = random.Random(7)
    tickets, history, articles = [], [], []
    for n in range(count):
        created = NOW - timedelta(minutes=rng.randrange(365 * 24 * 60))
        word = rng.choice(WORDS)
        closed = rng.random() < 0.85
        agent = rng.choice(AGENTS)
        answered = created + timedelta(minutes=rng.randrange(5, 600))
        done = answered + timedelta(minutes=rng.randrange(10, 5000))
        ticket_id = n + 1
        tickets.append(
            Ticket(
                id=ticket_id,
                number=f"{created:%Y%m%d}1{n:05d}",
                queue="Support",
                subject=f"{word.title()} problem {n % 500}",
                customer_email=f"customer{n % 3000}@example.com",
                customer_name=f"Customer {n % 3000}",
                state=TicketState.CLOSED if closed and done < NOW else TicketState.OPEN,
                owner_id=agent,
                last_activity_at=done,
                first_response_at=answered if answered < NOW else None,
                closed_at=done if closed and done < NOW else None,
                slack_channel="C0SUPPORT1",
                created_at=created,
                updated_at=done,
            )
        )
        events = [("created", "system", created), ("claimed", agent, answered)]
        events.append(("replied", agent, answered))
        if closed and done < NOW:
            events.append(("closed", agent, done))
        history += [
            History(ticket_id=ticket_id, event=kind, actor=actor, created_at=at)
            for kind, actor, at in events
        ]
        articles.append(
            Article(
                ticket_id=ticket_id,
                kind=ArticleKind.EMAIL_IN,
                sender=f"customer{n % 3000}@example.com",
                body=f"Hello, my {word} does not work since {created:%A}. Ticket body {n}.",
                created_at=created,
            )
        )
        articles.append(
            Article(
                ticket_id=ticket_id,
                kind=ArticleKind.EMAIL_OUT,
                author=agent,
                body="Please try turning it off and on again.",
                minutes_spent=rng.randrange(0, 60),
                created_at=answered,
            )
        )
    for model, rows in ((Ticket, tickets), (History, history), (Article, articles)):
        for start in range(0, len(rows), 2000):
            await model.bulk_create(rows[start : start + 2000])


async def best_of(work: Callable[[], Awaitable[object]], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


async def measure(url: str, count: int) -> None:
    await db.migrate(url)
    await db.init(url)
    try:
        started = time.perf_counter()
        await seed(count)
        print(f"  seeded {count} tickets in {time.perf_counter() - started:.1f} s")
        for text in ("today", "week", "month", "2026-04-01..2026-06-30", "2025-11-26..2026-11-25"):
            period = parse_period(text, NOW)
            ms = await best_of(lambda p=period: build_report(p, hook="Ticket#"))
            print(f"  report {text:<24} {ms:8.1f} ms")
        for text in ("printer", "toner problem 42", "customer17@example.com", "nothing-matches"):
            terms = search_terms(text)
            ms = await best_of(lambda t=terms: search_tickets(t, channels=["C0SUPPORT1"], limit=20))
            print(f"  search {text!r:<26} {ms:8.1f} ms")
    finally:
        await db.close()


async def main_async(args: argparse.Namespace) -> None:
    if args.db in ("sqlite", "both"):
        path = tempfile.mkdtemp(prefix="ticketbot-bench-")
        print(f"SQLite, {args.tickets} tickets")
        await measure(f"sqlite://{path}/bench.sqlite3", args.tickets)
    if args.db in ("postgres", "both"):
        name = f"ticketbot_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            print(f"PostgreSQL, {args.tickets} tickets")
            await measure(PG_ADMIN.rsplit("/", 1)[0] + "/" + name, args.tickets)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    uvloop.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
