"""What customer satisfaction costs: the report's rating statement on many ratings, and
clicks on rating links (each clicked twice at once).

    python -m tests.bench.bench_csat [--ratings 200000] [--db sqlite|postgres|both]
                                     [--clicks 200] [--runs 5]

Seeds `--ratings` rating requests (one ticket each, 50 agents, 5 queues, rated over two
years, one in five never rated) into a fresh, migrated database by plain multi-row
inserts, then prints the median of `--runs` runs of `count_ratings` over a month, a year
and one queue's month, and the time `--clicks` requests take when every link is clicked
twice at the same moment (with the count of ratings recorded: must equal `--clicks`).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import uvloop

from models.csat import Outcome, Rating, record_rating
from models.csat_report import count_ratings
from models.csat_token import derive_key, make_token
from models.policy import CsatPolicy, Policy, QueueRoute
from models.sql import Query, dialect_of
from models.store import db
from models.store.csat import CsatRequest

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
QUEUES = [f"Queue{q}" for q in range(5)]
AGENTS = [f"U0AGENT{n:03d}" for n in range(50)]
CSAT = CsatPolicy("https://t.example", key=derive_key("bench"), expiry_days=14)
POLICY = Policy(queues=(QueueRoute("Queue0", "C0QUEUE0"),), address="s@t.example", csat=CSAT)
BATCH = 500


async def insert(table: str, columns: list[str], rows: list[tuple[object, ...]]) -> None:
    for start in range(0, len(rows), BATCH):
        sql = Query(dialect_of())
        values = ", ".join(sql.values(row) for row in rows[start : start + BATCH])
        await sql.fetch(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}")


async def seed(count: int, first_id: int = 1) -> None:
    rng = random.Random(13)
    tickets, requests = [], []
    for n in range(first_id, first_id + count):
        closed = NOW - timedelta(seconds=rng.randrange(2 * 365 * 86400))
        queue = rng.choice(QUEUES)
        names = (f"T{n:015d}", queue, "subject", "c@x.example", "", "", "closed")
        tickets.append((n, *names, closed, closed, closed, "", "", ""))
        rated = rng.random() < 0.8
        requests.append(
            (
                n,
                n,
                queue,
                rng.choice(AGENTS),
                "en",
                rng.choice(list(Rating)).value if rated else None,
                False,
                closed,
                closed + timedelta(days=14),
                closed + timedelta(minutes=rng.randrange(1, 5000)) if rated else None,
            )
        )
    await insert(
        "ticket",
        [
            "id",
            "number",
            "queue",
            "subject",
            "customer_email",
            "customer_name",
            "slack_channel",
            "state",
            "last_activity_at",
            "created_at",
            "updated_at",
            "subject_key",
            "link_reason",
            "reply_address",
        ],
        tickets,
    )
    await insert(
        "csat_request",
        [
            "id",
            "ticket_id",
            "queue",
            "agent",
            "locale",
            "rating",
            "superseded",
            "created_at",
            "expires_at",
            "rated_at",
        ],
        requests,
    )


async def timed(runs: int, work: object) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure(label: str, ratings: int, clicks: int, runs: int) -> None:
    month = (NOW - timedelta(days=30), NOW)
    year = (NOW - timedelta(days=365), NOW)
    for name, (start, end), queues in [
        ("a month, all queues", month, None),
        ("a year, all queues", year, None),
        ("a month, one queue", month, ["Queue1"]),
    ]:
        ms = await timed(runs, lambda s=start, e=end, q=queues: count_ratings(s, e, q))
        counted = await count_ratings(start, end, queues)
        print(f"  {label} {ratings}: count_ratings over {name}: {ms:.1f} ms ({counted.total})")
    await seed(clicks, first_id=ratings + 1)
    await CsatRequest.filter(id__gt=ratings).update(
        rating=None, rated_at=None, expires_at=NOW + timedelta(days=14)
    )
    fresh = await CsatRequest.filter(id__gt=ratings).values_list("id", "ticket_id", "expires_at")
    tokens = [make_token(CSAT.key, r, t, e) for r, t, e in fresh]
    started = time.perf_counter()
    answers = await asyncio.gather(
        *(
            record_rating(POLICY, token, rating, lambda: NOW)
            for token in tokens
            for rating in (Rating.GOOD, Rating.BAD)
        )
    )
    ms = (time.perf_counter() - started) * 1000
    recorded = sum(1 for a in answers if a.outcome is Outcome.RECORDED)
    print(
        f"  {label}: {len(tokens)} links clicked twice at once: {ms:.0f} ms "
        f"({ms / len(answers):.2f} ms a click); ratings recorded {recorded} of {len(tokens)}"
    )


async def main_async(args: argparse.Namespace) -> None:
    if args.db in ("sqlite", "both"):
        url = f"sqlite://{tempfile.mkdtemp(prefix='ticketbot-bench-')}/bench.sqlite3"
        await db.migrate(url)
        await db.init(url)
        try:
            await seed(args.ratings)
            await measure("SQLite", args.ratings, args.clicks, args.runs)
        finally:
            await db.close()
    if args.db in ("postgres", "both"):
        name = f"ticketbot_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            await db.migrate(url)
            await db.init(url)
            try:
                await seed(args.ratings)
                await db.connection().execute_script("ANALYZE")
                await measure("PostgreSQL", args.ratings, args.clicks, args.runs)
            finally:
                await db.close()
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ratings", type=int, default=200_000)
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=5)
    uvloop.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
