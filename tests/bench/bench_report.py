"""How long `/ticket report` and `/ticket search` take on a big helpdesk.

    python -m tests.bench.bench_report [--tickets 1000000] [--db sqlite|postgres|both]
                                       [--runs 5] [--keep | --reuse NAME]

Seeds `--tickets` tickets over three years (5 queues, 50 agents; ~3 articles and ~4 history
rows each: created, claimed, replied, mostly closed, some reopened and closed again) into a
fresh, migrated database: PostgreSQL by COPY with triggers off, then the search index is
built by the migration's own statement (timed: it is what `ticketbot migrate` does to an
existing database); SQLite by multi-row inserts through the triggers. Then it prints the
median of `--runs` runs of each report and search, the targets (issue 11: PostgreSQL at
1,000,000 tickets every report ≤ 1 s and every search ≤ 200 ms; SQLite at 100,000 ≤ 2 s and
≤ 300 ms), and the plan of the slowest statement of the slowest report and search.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import uvloop
from tortoise.transactions import in_transaction

from models import sql as sql_module
from models.followup import normalise_subject
from models.report import build_report, parse_period
from models.search import SearchScope, parse_search, search_tickets
from models.store import db

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
YEARS = 3
QUEUES = [(f"Queue{q}", f"C0QUEUE{q}") for q in range(5)]
AGENTS = [f"U0AGENT{n:03d}" for n in range(50)]
SUBJECTS = ["Printer", "Toner", "Invoice", "Password", "VPN", "Laptop", "Login", "Refund"]
COMMON = "printer"  # in the subject or body of about one ticket in eight
RARE = "zebrafish"  # in about one ticket in 50,000
PHRASE = '"paper jam"'
TARGETS = {"postgres": (1000.0, 200.0), "sqlite": (2000.0, 300.0)}
MIGRATION = importlib.import_module("models.store.migrations.0005_search")
ROLLUP = importlib.import_module("models.store.migrations.0013_report_rollup")


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """5,000 made-up words with Zipf weights, plus the English and German words of the
    templates, so bodies have a realistic spread of common and rare words."""
    letters = "abcdefghijklmnopqrstuvwxyzäöü"
    words = ["".join(rng.choice(letters) for _ in range(rng.randrange(3, 10))) for _ in range(5000)]
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return words, list(itertools.accumulate(weights))


class Seeder:
    def __init__(self, count: int) -> None:
        self.count = count
        self.rng = random.Random(7)
        self.words, self.cumulative = vocabulary(self.rng)
        self.span = YEARS * 365 * 24 * 60

    def text(self, n: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cumulative, k=n))

    def rows(self, start: int, stop: int) -> tuple[list[tuple[Any, ...]], ...]:
        """Tickets, articles, history rows for ticket ids start..stop-1 (ids are given)."""
        rng = self.rng
        tickets, articles, history = [], [], []
        for n in range(start, stop):
            created = NOW - timedelta(minutes=rng.randrange(self.span), seconds=rng.random() * 60)
            queue, channel = QUEUES[n % len(QUEUES)]
            agent = rng.choice(AGENTS)
            word = rng.choice(SUBJECTS)
            subject = f"{'Re: ' if rng.random() < 0.1 else ''}{word} problem {n % 700}"
            body = self.text(rng.randrange(15, 60))
            if rng.random() < 0.06:
                body += " printer"
            if rng.random() < 0.03:
                body += " the paper jam again"
            if n % 50_000 == 7:
                body += f" {RARE}"
            if rng.random() < 0.1:
                body += " Viele Grüße aus München"
            answered = created + timedelta(minutes=rng.randrange(2, 900))
            done = answered + timedelta(minutes=rng.randrange(10, 8000))
            reopen = rng.random() < 0.05
            closed = rng.random() < 0.9 and done < NOW
            state = "closed" if closed else ("pending" if answered < NOW else "new")
            customer = f"customer{rng.randrange(40_000)}@example{n % 300}.com"
            tickets.append(
                (
                    n,
                    f"{created:%Y%m%d}1{n:07d}",
                    queue,
                    subject,
                    normalise_subject(subject, "Ticket#"),
                    customer,
                    f"Customer {n % 40_000}",
                    state,
                    agent if answered < NOW else None,
                    done if closed else answered,
                    answered if answered < NOW else None,
                    done if closed else None,
                    channel,
                    created,
                    done if closed else answered,
                    done if closed else None,
                )
            )
            articles.append((n * 3, n, "email_in", customer, customer, subject, body, 0, created))
            if answered < NOW:
                articles.append(
                    (
                        n * 3 + 1,
                        n,
                        "email_out",
                        agent,
                        "",
                        f"Re: {subject}",
                        self.text(20),
                        rng.randrange(0, 45),
                        answered,
                    )
                )
                articles.append(
                    (
                        n * 3 + 2,
                        n,
                        "note",
                        agent,
                        "",
                        "",
                        self.text(8),
                        rng.randrange(0, 15),
                        answered + timedelta(minutes=5),
                    )
                )
            events = [("created", customer, created, "{}")]
            if answered < NOW:
                events += [("claimed", agent, answered, "{}"), ("replied", agent, answered, "{}")]
            if closed:
                if reopen:
                    middle = answered + (done - answered) / 2
                    events += [
                        ("closed", agent, middle, "{}"),
                        ("reopened", agent, middle + timedelta(minutes=1), '{"from": "closed"}'),
                    ]
                events.append(("closed", agent, done, "{}"))
            history += [(n * 8 + i, n, *event) for i, event in enumerate(events)]
        return tickets, articles, history


TICKET_COLUMNS = [
    "id", "number", "queue", "subject", "subject_key", "customer_email", "customer_name",
    "state", "owner_id", "last_activity_at", "first_response_at", "closed_at",
    "slack_channel", "created_at", "updated_at", "last_closed_at",
]  # fmt: skip
ARTICLE_COLUMNS = [
    "id", "ticket_id", "kind", "author", "sender", "subject", "body", "minutes_spent",
    "created_at",
]  # fmt: skip
HISTORY_COLUMNS = ["id", "ticket_id", "event", "actor", "created_at", "detail"]


def chunks(count: int, size: int = 50_000) -> Iterator[tuple[int, int]]:
    for start in range(1, count + 1, size):
        yield start, min(start + size, count + 1)


async def seed_postgres(url: str, count: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET session_replication_role = replica")  # no triggers
        await connection.execute("DROP INDEX ticket_search_document")
        seeder = Seeder(count)
        started = time.perf_counter()
        for start, stop in chunks(count):
            tickets, articles, history = seeder.rows(start, stop)
            await connection.copy_records_to_table(
                "ticket", records=tickets, columns=TICKET_COLUMNS
            )
            await connection.copy_records_to_table(
                "article",
                records=[(*a, "", "[]", "", "[]", "[]", False, False) for a in articles],
                columns=[
                    *ARTICLE_COLUMNS,
                    "author_name",
                    "recipients",
                    "to_address",
                    "cc",
                    "references",
                    "is_automatic",
                    "is_autoreply",
                ],
            )
            await connection.copy_records_to_table(
                "ticket_history",
                records=[(h[0], h[1], h[2], h[3], h[4], h[5]) for h in history],
                columns=HISTORY_COLUMNS,
            )
            if stop > count or (stop - 1) % 200_000 == 0:
                print(f"  {stop - 1} tickets copied ({time.perf_counter() - started:.0f} s)")
        print(f"  seeded {count} tickets in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        await connection.execute("SET session_replication_role = DEFAULT")
        await connection.execute("SET max_parallel_maintenance_workers = 2")
        await connection.execute("SET maintenance_work_mem = '512MB'")
        await connection.execute(MIGRATION.PG_BUILD)
        built = time.perf_counter() - started
        await connection.execute(MIGRATION.PG_INDEX)
        print(
            f"  search index: documents {built:.1f} s, GIN "
            f"{time.perf_counter() - started - built:.1f} s (the migration's statements)"
        )
        started = time.perf_counter()
        # COPY ran without the triggers: the agents' daily rollup as 0013 fills it.
        await connection.execute(f"TRUNCATE report_agent_day; {ROLLUP.FILL}")
        print(f"  agents' daily rollup: {time.perf_counter() - started:.1f} s (0013's fill)")
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def upgrade_postgres(url: str) -> None:
    """The migrations the kept database lacks (timed), then VACUUM ANALYZE: what autovacuum
    would do after a migration rewrote rows (index-only scans need the visibility map)."""
    started = time.perf_counter()
    await db.migrate(url)
    migrated = time.perf_counter() - started
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    print(
        f"  migrations {migrated:.1f} s, VACUUM ANALYZE "
        f"{time.perf_counter() - started - migrated:.1f} s"
    )


async def seed_sqlite(count: int) -> None:
    seeder = Seeder(count)
    connection = db.connection()
    started = time.perf_counter()
    for start, stop in chunks(count, 2000):
        tickets, articles, history = seeder.rows(start, stop)
        async with in_transaction() as tx:
            await _insert(
                tx,
                "ticket",
                [*TICKET_COLUMNS, "link_reason", "reply_address"],
                [(*t, "", "") for t in tickets],
            )
            await _insert(
                tx,
                "article",
                [
                    *ARTICLE_COLUMNS,
                    "author_name",
                    "recipients",
                    "to_address",
                    "cc",
                    "references",
                    "is_automatic",
                    "is_autoreply",
                ],
                [(*a, "", "[]", "", "[]", "[]", 0, 0) for a in articles],
            )
            await _insert(tx, "ticket_history", HISTORY_COLUMNS, history)
    print(
        f"  seeded {count} tickets in {time.perf_counter() - started:.1f} s (through the triggers)"
    )
    await connection.execute_script("ANALYZE")


async def _insert(tx: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    values = [
        tuple(v.isoformat(" ") if isinstance(v, datetime) else v for v in row) for row in rows
    ]
    await tx.execute_many(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', values)


class Recorder:
    """Wraps models.sql.Query.fetch to keep each statement's time, for the plans."""

    def __init__(self) -> None:
        self.statements: list[tuple[float, str, list[Any], sql_module.Query]] = []
        self._fetch = sql_module.Query.fetch
        recorder = self

        async def fetch(query: sql_module.Query, text: str) -> list[dict[str, Any]]:
            started = time.perf_counter()
            rows = await recorder._fetch(query, text)
            recorder.statements.append(
                (time.perf_counter() - started, text, list(query.params), query)
            )
            return rows

        sql_module.Query.fetch = fetch  # type: ignore[method-assign]

    def slowest(self) -> tuple[float, str, list[Any], sql_module.Query]:
        return max(self.statements, key=lambda s: s[0])


async def median_of(runs: int, work: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def plan(dialect: str, text: str, params: list[Any], query: sql_module.Query) -> str:
    """The plan as the statement ran (a report's: without parallel workers and with its
    work_mem, as Query runs it)."""
    connection = db.connection()
    if dialect == "postgres":
        async with in_transaction() as tx:
            if query.serial:
                await tx.execute_script("SET LOCAL max_parallel_workers_per_gather = 0")
            if query.work_mem_mb:
                await tx.execute_script(f"SET LOCAL work_mem = '{query.work_mem_mb}MB'")
            rows = await tx.execute_query_dict(
                f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {text}", params
            )
        return "\n".join(f"    {row['QUERY PLAN']}" for row in rows)
    rows = await connection.execute_query_dict(f"EXPLAIN QUERY PLAN {text}", params)
    return "\n".join(f"    {row['detail']}" for row in rows)


async def measure(url: str, dialect: str, count: int, runs: int) -> None:
    report_target, search_target = TARGETS[dialect]
    month = parse_period("month", NOW)
    year = parse_period(f"{(NOW - timedelta(days=364)).date()}..{NOW.date()}", NOW)
    reports: dict[str, Callable[[], Awaitable[object]]] = {
        "report month": lambda: build_report(month, first_response_minutes=60, now=NOW),
        "report year": lambda: build_report(year, first_response_minutes=60, now=NOW),
        "report month queue:Queue2": lambda: build_report(
            month, queues=["Queue2"], first_response_minutes=60, now=NOW
        ),
    }
    everything = SearchScope(tuple(channel for _, channel in QUEUES), UTC)
    searches = {
        f"search rare word ({RARE})": RARE,
        f"search common word ({COMMON})": COMMON,
        f"search phrase ({PHRASE})": PHRASE,
        "search filter-only (state:pending queue:Queue1 after:…)": "state:pending "
        f"after:{(NOW - timedelta(days=90)).date()}",
        "search German (grüße münchen)": "grüße münchen",
    }
    recorder = Recorder()
    slowest: dict[str, tuple[float, str, tuple[float, str, list[Any], sql_module.Query]]] = {}
    for kind, items, target in (
        ("report", reports, report_target),
        ("search", searches, search_target),
    ):
        for label, work in items.items():
            if kind == "search":
                query = parse_search(str(work))
                where = (
                    everything
                    if "queue:" not in label
                    else SearchScope(everything.channels, UTC, queue_channel=QUEUES[1][1])
                )

                def work_fn(q=query, w=where) -> Awaitable[object]:
                    return search_tickets(q, w, hook="Ticket#")

                run = work_fn
            else:
                run = work  # type: ignore[assignment]
            await run()  # warm the cache once
            recorder.statements.clear()
            ms = await median_of(runs, run)
            verdict = "ok" if ms <= target else "OVER"
            print(f"  {label:<58} {ms:8.1f} ms  (target {target:.0f} ms: {verdict})")
            if kind not in slowest or ms > slowest[kind][0]:
                slowest[kind] = (ms, label, recorder.slowest())
    for kind, (ms, label, (seconds, text, params, statement)) in slowest.items():
        print(
            f"\n  slowest {kind}: {label} ({ms:.1f} ms); its slowest statement "
            f"({seconds * 1000:.1f} ms):\n    {' '.join(text.split())[:600]}"
        )
        print(await plan(dialect, text, params, statement))


async def main_async(args: argparse.Namespace) -> None:
    if args.db in ("sqlite", "both"):
        count = args.sqlite_tickets or args.tickets
        path = tempfile.mkdtemp(prefix="ticketbot-bench-")
        url = f"sqlite://{path}/bench.sqlite3"
        print(f"SQLite, {count} tickets")
        await db.migrate(url)
        await db.init(url)
        try:
            await seed_sqlite(count)
            await measure(url, "sqlite", count, args.runs)
        finally:
            await db.close()
    if args.db in ("postgres", "both"):
        name = args.reuse or f"ticketbot_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        try:
            print(f"PostgreSQL, {args.tickets} tickets (database {name})")
            if not args.reuse:
                await admin.execute(f'CREATE DATABASE "{name}"')
                await db.migrate(url)
                await seed_postgres(url, args.tickets)
            else:  # a database kept by an older version: upgraded as `ticketbot migrate` does
                await upgrade_postgres(url)
            await db.init(url)
            try:
                await measure(url, "postgres", args.tickets, args.runs)
            finally:
                await db.close()
        finally:
            if not (args.keep or args.reuse):
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--sqlite-tickets", type=int, default=0, help="default: --tickets")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="postgres")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--reuse", metavar="NAME", help="measure a kept PostgreSQL database again")
    uvloop.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
