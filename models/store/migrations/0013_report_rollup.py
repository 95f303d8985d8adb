"""Issue 11's year report at 1,000,000 tickets: the per-agent numbers from a daily rollup.

A year's claims, replies and closes per agent read ~1,000,000 history rows and the minutes
booked ~600,000 articles: most of the year report's CPU. `report_agent_day` keeps, per UTC
day and agent, the claims, replies, closes and booked minutes, kept by triggers in the
same transaction as the history row or article (so a report's snapshot always agrees with
the raw rows); the report reads the whole UTC days of its period from it and the partial
days at its edges from the raw rows (models/report_queries.py, `_agents`).

- One row per day and agent, not per event: a transaction that claims, replies and books
  minutes locks one rollup row (two transactions of the same agent wait for each other
  instead of deadlocking over two rows taken in opposite orders). Rows of different agents
  never wait for each other.
- Only what the report counts enters it: the history events claimed/replied/closed and
  articles with minutes_spent > 0, by Slack user ids (U…, W…); the triggers' WHEN clauses
  keep every other insert (customers' mail, system rows) free of any extra work.
- History rows are never updated or deleted, and a merge moves articles between tickets
  without changing their author, time or minutes; the UPDATE and DELETE triggers are there
  so that the rollup cannot drift if that ever changes (a deleted ticket cascades).
- Only on PostgreSQL: SQLite's reports meet their target (issue 11) from the raw rows.

The rollup is filled from the existing rows in the migration's transaction, after the
triggers exist: CREATE TRIGGER locks both tables against writes until the commit, so no
row is counted twice or missed.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

AGENT_EVENTS = "('claimed', 'replied', 'closed')"


def _is_agent(column: str) -> str:
    return f"substr({column}, 1, 1) IN ('U', 'W')"


def _day(column: str) -> str:
    return f"({column} AT TIME ZONE 'UTC')::date"


CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS report_agent_day ("
    "day date NOT NULL, actor varchar(320) NOT NULL, "
    "claims bigint NOT NULL DEFAULT 0, replies bigint NOT NULL DEFAULT 0, "
    "closes bigint NOT NULL DEFAULT 0, minutes bigint NOT NULL DEFAULT 0, "
    "PRIMARY KEY (day, actor))"
)
ADD_FUNCTION = (
    "CREATE OR REPLACE FUNCTION report_agent_day_add("
    "p_day date, p_actor varchar, p_claims bigint, p_replies bigint, p_closes bigint, "
    "p_minutes bigint) RETURNS void LANGUAGE sql AS $$ "
    "INSERT INTO report_agent_day AS d (day, actor, claims, replies, closes, minutes) "
    "VALUES (p_day, p_actor, p_claims, p_replies, p_closes, p_minutes) "
    "ON CONFLICT (day, actor) DO UPDATE SET claims = d.claims + excluded.claims, "
    "replies = d.replies + excluded.replies, closes = d.closes + excluded.closes, "
    "minutes = d.minutes + excluded.minutes $$"
)


def _history_counts(row: str, sign: str) -> str:
    return (
        f"{_day(f'{row}.created_at')}, {row}.actor, "
        f"{sign} * ({row}.event = 'claimed')::int, {sign} * ({row}.event = 'replied')::int, "
        f"{sign} * ({row}.event = 'closed')::int, 0"
    )


def _article_minutes(row: str, sign: str) -> str:
    return f"{_day(f'{row}.created_at')}, {row}.author, 0, 0, 0, {sign} * {row}.minutes_spent"


def _counted_history(row: str) -> str:
    return f"{row}.event IN {AGENT_EVENTS} AND {_is_agent(f'{row}.actor')}"


def _counted_article(row: str) -> str:
    return f"{row}.minutes_spent > 0 AND {_is_agent(f'{row}.author')}"


def _trigger_function(name: str, counted: str, values: str) -> str:
    """A row-trigger function: takes the old row out and puts the new one in (each only
    when the report counts it)."""
    old_counted = counted.replace("{row}", "OLD")
    new_counted = counted.replace("{row}", "NEW")
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') AND {old_counted} THEN "
        f"PERFORM report_agent_day_add({values.replace('{row}', 'OLD').replace('{sign}', '-1')});"
        " END IF; "
        f"IF TG_OP IN ('INSERT', 'UPDATE') AND {new_counted} THEN "
        f"PERFORM report_agent_day_add({values.replace('{row}', 'NEW').replace('{sign}', '1')});"
        " END IF; RETURN NULL; END $$"
    )


HISTORY_FUNCTION = _trigger_function(
    "report_agent_day_history", _counted_history("{row}"), _history_counts("{row}", "{sign}")
)
ARTICLE_FUNCTION = _trigger_function(
    "report_agent_day_article", _counted_article("{row}"), _article_minutes("{row}", "{sign}")
)


def _triggers(table: str, function: str, counted: str, columns: tuple[str, ...]) -> list[str]:
    """Insert (only rows the report counts), update (only when a counted column changed)
    and delete triggers of one table."""
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    name = f"report_agent_day_{table}"
    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} FOR EACH ROW "
        f"WHEN ({counted}) EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF {', '.join(columns)} ON {table} "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} FOR EACH ROW "
        f"EXECUTE FUNCTION {function}()",
    ]


TRIGGERS = (
    *_triggers(
        "ticket_history",
        "report_agent_day_history",
        _counted_history("NEW"),
        ("event", "actor", "created_at"),
    ),
    *_triggers(
        "article",
        "report_agent_day_article",
        _counted_article("NEW"),
        ("author", "minutes_spent", "created_at"),
    ),
)
#: The rollup's rows as the raw rows give them (the fill; tests compare the table with it).
ROWS = (
    "SELECT day, actor, sum(claims) AS claims, sum(replies) AS replies, "
    "sum(closes) AS closes, sum(minutes) AS minutes FROM ("
    f"SELECT {_history_counts('h', '1')} FROM ticket_history h WHERE {_counted_history('h')} "
    f"UNION ALL SELECT {_article_minutes('a', '1')} FROM article a "
    f"WHERE {_counted_article('a')}"
    ") x (day, actor, claims, replies, closes, minutes) GROUP BY day, actor"
)
#: The rollup from the existing rows (also run by tests/bench after seeding with COPY).
FILL = f"INSERT INTO report_agent_day (day, actor, claims, replies, closes, minutes) {ROWS}"
DROP = (
    *(
        f"DROP TRIGGER IF EXISTS report_agent_day_{table}_{kind} ON {table}"
        for table in ("ticket_history", "article")
        for kind in ("insert", "update", "delete")
    ),
    "DROP FUNCTION IF EXISTS report_agent_day_history()",
    "DROP FUNCTION IF EXISTS report_agent_day_article()",
    "DROP FUNCTION IF EXISTS report_agent_day_add(date, varchar, bigint, bigint, bigint, bigint)",
    "DROP TABLE IF EXISTS report_agent_day",
)


async def add_rollup(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    for statement in (CREATE_TABLE, ADD_FUNCTION, HISTORY_FUNCTION, ARTICLE_FUNCTION, *TRIGGERS):
        await client.execute_script(statement)
    await client.execute_script(FILL)


async def drop_rollup(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    for statement in DROP:
        await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0010_waiting_cards")]

    initial = False

    operations = [ops.RunPython(add_rollup, drop_rollup)]
