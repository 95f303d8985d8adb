"""Issue 11's year report at 1,000,000 tickets: the per-agent numbers from a daily rollup.

A year's claims, replies and closes per agent read ~1,000,000 history rows and the minutes
booked ~600,000 articles: most of the year report's CPU. `report_agent_day` keeps, per UTC
day and agent, the replies, closes and booked minutes, kept by triggers in the
same transaction as the history row or article (so a report's snapshot always agrees with
the raw rows); the report reads the whole UTC days of its period from it and the partial
days at its edges from the raw rows (models/report_queries.py, `_agents`).

- One row per day and agent, not per event: a reply that books minutes changes one row.
- Statement triggers over the transition tables, not row triggers: a statement's rows are
  summed per day and agent and each rollup row is changed once, in (day, actor) order.
  A batch of claims (models/claiming.py: one statement for clicks of many agents) thus
  locks its agents' rows in the same order as every other batch, so two batches wait for
  each other instead of deadlocking; a statement whose rows count nothing (a customer's
  mail, a system row) changes nothing and locks nothing. Two transactions of the same agent
  on the same day wait for each other from their insert to their commit (one agent's own
  clicks; other agents never wait).
- Claims stay out: they are written in batches of many agents' clicks (models/claiming.py),
  the benchmarked hot path, which two rollup rows shared by overlapping batches slowed
  (bench_claim_ack p50 47.6 → 52.4 ms, p99 69.6 → 105 ms); the report counts them raw
  (a third of the history rows).
- Only what the report counts enters it: the history events replied/closed and
  articles with minutes_spent > 0, by Slack user ids (U…, W…).
- History rows are never updated or deleted, and a merge moves articles between tickets
  without changing their author, time or minutes; the UPDATE and DELETE triggers are there
  so that the rollup cannot drift if that ever changes (a deleted ticket cascades).
- Only on PostgreSQL: SQLite's reports meet their target (issue 11) from the raw rows.

Also on PostgreSQL: the covering index of tickets by creation (0007's) gains `priority`, so
the first responses, breaches and the count per priority of a period are one scan of that
index alone (the count per priority read every ticket row before).

The rollup is filled from the existing rows in the migration's transaction, after the
triggers exist: CREATE TRIGGER locks both tables against writes until the commit, so no
row is counted twice or missed.
"""

from collections.abc import Callable

from tortoise import migrations
from tortoise.migrations import operations as ops

AGENT_EVENTS = "('replied', 'closed')"
COLUMNS = "day, actor, replies, closes, minutes"


def _is_agent(column: str) -> str:
    return f"substr({column}, 1, 1) IN ('U', 'W')"


def _day(column: str) -> str:
    return f"({column} AT TIME ZONE 'UTC')::date"


CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS report_agent_day ("
    "day date NOT NULL, actor varchar(320) NOT NULL, replies bigint NOT NULL DEFAULT 0, "
    "closes bigint NOT NULL DEFAULT 0, minutes bigint NOT NULL DEFAULT 0, "
    "PRIMARY KEY (day, actor))"
)


def _history_rows(table: str, sign: int = 1) -> str:
    """(day, actor, replies, closes, minutes) of the counted history rows."""
    return (
        f"SELECT {_day('r.created_at')}, r.actor, "
        f"{sign} * (r.event = 'replied')::int, {sign} * (r.event = 'closed')::int, 0 "
        f"FROM {table} r WHERE r.event IN {AGENT_EVENTS} AND {_is_agent('r.actor')}"
    )


def _article_rows(table: str, sign: int = 1) -> str:
    """(day, actor, replies, closes, minutes) of the articles with booked minutes."""
    return (
        f"SELECT {_day('r.created_at')}, r.author, 0, 0, {sign} * r.minutes_spent "
        f"FROM {table} r WHERE r.minutes_spent > 0 AND {_is_agent('r.author')}"
    )


def _summed(rows: str) -> str:
    return (
        "SELECT day, actor, sum(replies) AS replies, "
        f"sum(closes) AS closes, sum(minutes) AS minutes FROM ({rows}) x ({COLUMNS}) "
        "GROUP BY day, actor"
    )


def _add(rows: str) -> str:
    """Adds `rows` to the rollup: one change per (day, actor), in that order, none where
    they sum to nothing (an update that did not touch a counted column)."""
    return (
        f"INSERT INTO report_agent_day AS d ({COLUMNS}) SELECT * FROM ({_summed(rows)}) s "
        "WHERE replies <> 0 OR closes <> 0 OR minutes <> 0 "
        "ORDER BY day, actor ON CONFLICT (day, actor) DO UPDATE SET "
        "replies = d.replies + excluded.replies, "
        "closes = d.closes + excluded.closes, minutes = d.minutes + excluded.minutes"
    )


def _function(name: str, rows: Callable[[str, int], str]) -> str:
    """The statement-trigger function: the inserted rows in, the deleted ones out, an
    update's old rows out and new rows in (`added`/`removed`: the transition tables)."""
    added, removed = rows("added", 1), rows("removed", -1)
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN {_add(added)}; "
        f"ELSIF TG_OP = 'DELETE' THEN {_add(removed)}; "
        f"ELSE {_add(f'{removed} UNION ALL {added}')}; "
        "END IF; RETURN NULL; END $$"
    )


FUNCTIONS = (
    _function("report_agent_day_history", _history_rows),
    _function("report_agent_day_article", _article_rows),
)


def _triggers(table: str, function: str) -> list[str]:
    name = f"report_agent_day_{table}"
    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS "
        f"added FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} REFERENCING OLD TABLE AS "
        f"removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS "
        f"removed FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


TRIGGERS = (
    *_triggers("ticket_history", "report_agent_day_history"),
    *_triggers("article", "report_agent_day_article"),
)
#: The rollup's rows as the raw rows give them (the fill; tests compare the table with it).
ROWS = _summed(f"{_history_rows('ticket_history')} UNION ALL {_article_rows('article')}")
#: The rollup from the existing rows (also run by tests/bench after seeding with COPY).
FILL = f"INSERT INTO report_agent_day ({COLUMNS}) {ROWS}"
DROP = (
    *(
        f"DROP TRIGGER IF EXISTS report_agent_day_{table}_{kind} ON {table}"
        for table in ("ticket_history", "article")
        for kind in ("insert", "update", "delete")
    ),
    "DROP FUNCTION IF EXISTS report_agent_day_history()",
    "DROP FUNCTION IF EXISTS report_agent_day_article()",
    "DROP TABLE IF EXISTS report_agent_day",
)


OLD_COVERING = (
    "CREATE INDEX IF NOT EXISTS ticket_created_covering ON ticket (created_at) "
    "INCLUDE (first_response_at, queue, subject_key, customer_email)"
)
COVERING = (
    "CREATE INDEX IF NOT EXISTS ticket_created_report ON ticket (created_at) "
    "INCLUDE (first_response_at, queue, subject_key, customer_email, priority)"
)


async def add_covering(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(COVERING)
        await client.execute_script("DROP INDEX IF EXISTS ticket_created_covering")


async def drop_covering(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(OLD_COVERING)
        await client.execute_script("DROP INDEX IF EXISTS ticket_created_report")


async def add_rollup(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    for statement in (CREATE_TABLE, *FUNCTIONS, *TRIGGERS):
        await client.execute_script(statement)
    await client.execute_script(FILL)


async def drop_rollup(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    for statement in DROP:
        await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0012_csat")]

    initial = False

    operations = [
        ops.RunPython(add_rollup, drop_rollup),
        ops.RunPython(add_covering, drop_covering),
    ]
