"""Issue 11: full-text search kept by the database, and what reports need to be computed in SQL.

- `ticket.subject_key`: the normalised subject (no Re:/AW:, no ticket hook, case, spacing) the
  report groups "most frequent subjects" by; existing tickets get it here, as if the hook
  were the default `Ticket#`.
- Indexes for the report's range scans: ticket (created_at), (queue, created_at), history
  (event, created_at), and lower(customer_email) for exact address look-ups.
- The search index, one document per ticket (subject, customer, every mail and note):
  PostgreSQL `ticket_search` (tsvector, GIN) and SQLite `ticket_fts` (FTS5), both kept by
  triggers in the transaction that writes the ticket or article, and built here for the
  tickets that exist. See models/search_text.py for the folding and models/search.py for
  how they are queried.
"""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.search_text import (
    MAX_INDEXED_CHARS,
    pg_functions_sql,
    sqlite_indexed_case,
    sqlite_indexed_text,
)

BATCH = 2000

# -- PostgreSQL ----------------------------------------------------------------------------

_PG_HEAD = (
    "setweight(to_tsvector('simple', ticketbot_search_text(left({t}.subject || ' ' || "
    "{t}.customer_name || ' ' || {t}.customer_email || ' ' || "
    f"split_part({{t}}.customer_email, '@', 2), {MAX_INDEXED_CHARS}))), 'A')"
)
_PG_ARTICLE = (
    "to_tsvector('simple', ticketbot_search_text(left({a}.subject || ' ' || {a}.body, "
    f"{MAX_INDEXED_CHARS})))"
)
_PG_INDEXED = "{a}.kind <> 'system' AND NOT {a}.is_autoreply"

PG_SQL = [
    *pg_functions_sql(),
    "CREATE TABLE ticket_search (ticket_id BIGINT PRIMARY KEY REFERENCES ticket (id) "
    "ON DELETE CASCADE, document tsvector NOT NULL)",
    # The whole document of one ticket; a ticket whose text would pass tsvector's 1 MB keeps
    # what fits (its later articles are not searchable, the ticket stays writable).
    f"""CREATE FUNCTION ticketbot_ticket_document(wanted BIGINT) RETURNS tsvector
    LANGUAGE plpgsql STABLE AS $$
    DECLARE
        document tsvector;
        art RECORD;
    BEGIN
        SELECT {_PG_HEAD.format(t="t")} INTO document FROM ticket t WHERE t.id = wanted;
        BEGIN
            RETURN document || coalesce((
                SELECT to_tsvector('simple', string_agg(ticketbot_search_text(
                    left(a.subject || ' ' || a.body, {MAX_INDEXED_CHARS})), ' ' ORDER BY a.id))
                FROM article a WHERE a.ticket_id = wanted AND {_PG_INDEXED.format(a="a")}
            ), '');
        EXCEPTION WHEN program_limit_exceeded THEN
            FOR art IN SELECT a.subject, a.body FROM article a
                WHERE a.ticket_id = wanted AND {_PG_INDEXED.format(a="a")} ORDER BY a.id
            LOOP
                BEGIN
                    document := document || {_PG_ARTICLE.format(a="art")};
                EXCEPTION WHEN program_limit_exceeded THEN
                    RETURN document;
                END;
            END LOOP;
            RETURN document;
        END;
    END $$""",
    """CREATE FUNCTION ticketbot_search_ticket_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO ticket_search (ticket_id, document)
        VALUES (NEW.id, ticketbot_ticket_document(NEW.id))
        ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document;
        RETURN NULL;
    END $$""",
    # A new article is added to its ticket's document (the row lock orders concurrent ones).
    f"""CREATE FUNCTION ticketbot_search_article_added() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        added tsvector;
        grown tsvector;
    BEGIN
        IF NOT ({_PG_INDEXED.format(a="NEW")}) THEN
            RETURN NULL;
        END IF;
        added := {_PG_ARTICLE.format(a="NEW")};
        PERFORM 1 FROM ticket_search WHERE ticket_id = NEW.ticket_id FOR UPDATE;
        BEGIN
            SELECT s.document || added INTO grown
            FROM ticket_search s WHERE s.ticket_id = NEW.ticket_id;
        EXCEPTION WHEN program_limit_exceeded THEN
            RETURN NULL;
        END;
        UPDATE ticket_search SET document = grown WHERE ticket_id = NEW.ticket_id;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION ticketbot_search_article_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE ticket_search SET document = ticketbot_ticket_document(OLD.ticket_id)
            WHERE ticket_id = OLD.ticket_id;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.ticket_id <> OLD.ticket_id THEN
            UPDATE ticket_search SET document = ticketbot_ticket_document(NEW.ticket_id)
            WHERE ticket_id = NEW.ticket_id;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER ticket_search_insert AFTER INSERT ON ticket "
    "FOR EACH ROW EXECUTE FUNCTION ticketbot_search_ticket_changed()",
    "CREATE TRIGGER ticket_search_update AFTER UPDATE ON ticket FOR EACH ROW "
    "WHEN (OLD.subject IS DISTINCT FROM NEW.subject "
    "OR OLD.customer_name IS DISTINCT FROM NEW.customer_name "
    "OR OLD.customer_email IS DISTINCT FROM NEW.customer_email) "
    "EXECUTE FUNCTION ticketbot_search_ticket_changed()",
    "CREATE TRIGGER ticket_search_article_insert AFTER INSERT ON article "
    "FOR EACH ROW EXECUTE FUNCTION ticketbot_search_article_added()",
    "CREATE TRIGGER ticket_search_article_update AFTER UPDATE ON article FOR EACH ROW "
    "WHEN (OLD.subject IS DISTINCT FROM NEW.subject OR OLD.body IS DISTINCT FROM NEW.body "
    "OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.is_autoreply IS DISTINCT FROM NEW.is_autoreply "
    "OR OLD.ticket_id IS DISTINCT FROM NEW.ticket_id) "
    "EXECUTE FUNCTION ticketbot_search_article_changed()",
    "CREATE TRIGGER ticket_search_article_delete AFTER DELETE ON article "
    "FOR EACH ROW EXECUTE FUNCTION ticketbot_search_article_changed()",
    "CREATE INDEX ticket_customer_email_lower ON ticket (lower(customer_email))",
]
PG_BUILD = (
    "INSERT INTO ticket_search (ticket_id, document) "
    "SELECT t.id, ticketbot_ticket_document(t.id) FROM ticket t"
)
PG_INDEX = "CREATE INDEX ticket_search_document ON ticket_search USING gin (document)"

# -- SQLite --------------------------------------------------------------------------------


_A_TEXT = "a.subject || ' ' || a.body"
_NEW_TEXT = "new.subject || ' ' || new.body"


def _sqlite_head(t: str) -> str:
    return sqlite_indexed_text(
        f"{t}.subject || ' ' || {t}.customer_name || ' ' || {t}.customer_email || ' ' || "
        f"substr({t}.customer_email, instr({t}.customer_email, '@') + 1)"
    )


def _sqlite_articles(ticket_id: str) -> str:
    """Every indexed article of the ticket, in order, as one text (NULL if none)."""
    return (
        f"(SELECT group_concat({sqlite_indexed_case()}, ' ') FROM (SELECT "
        f"substr(a.subject || ' ' || a.body, 1, {MAX_INDEXED_CHARS}) AS x FROM article a "
        f"WHERE a.ticket_id = {ticket_id} AND a.kind <> 'system' AND NOT a.is_autoreply "
        "ORDER BY a.id))"
    )


SQLITE_SQL = [
    "CREATE VIRTUAL TABLE ticket_fts USING fts5(head, body, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER ticket_fts_ticket_insert AFTER INSERT ON ticket BEGIN "
    f"INSERT INTO ticket_fts (rowid, head, body) VALUES (new.id, {_sqlite_head('new')}, ''); "
    "END",
    "CREATE TRIGGER ticket_fts_ticket_update AFTER UPDATE ON ticket "
    "WHEN old.subject IS NOT new.subject OR old.customer_name IS NOT new.customer_name "
    "OR old.customer_email IS NOT new.customer_email BEGIN "
    f"UPDATE ticket_fts SET head = {_sqlite_head('new')} WHERE rowid = new.id; END",
    "CREATE TRIGGER ticket_fts_ticket_delete AFTER DELETE ON ticket BEGIN "
    "DELETE FROM ticket_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER ticket_fts_article_insert AFTER INSERT ON article "
    "WHEN new.kind <> 'system' AND NOT new.is_autoreply BEGIN "
    "UPDATE ticket_fts SET body = ifnull(body, '') || ' ' || "
    f"{sqlite_indexed_text(_NEW_TEXT)} WHERE rowid = new.ticket_id; END",
    "CREATE TRIGGER ticket_fts_article_update AFTER UPDATE ON article "
    "WHEN old.subject IS NOT new.subject OR old.body IS NOT new.body "
    "OR old.kind IS NOT new.kind OR old.is_autoreply IS NOT new.is_autoreply "
    "OR old.ticket_id IS NOT new.ticket_id BEGIN "
    f"UPDATE ticket_fts SET body = {_sqlite_articles('old.ticket_id')} "
    "WHERE rowid = old.ticket_id; "
    f"UPDATE ticket_fts SET body = {_sqlite_articles('new.ticket_id')} "
    "WHERE rowid = new.ticket_id; END",
    "CREATE TRIGGER ticket_fts_article_delete AFTER DELETE ON article BEGIN "
    f"UPDATE ticket_fts SET body = {_sqlite_articles('old.ticket_id')} "
    "WHERE rowid = old.ticket_id; END",
    "CREATE INDEX ticket_customer_email_lower ON ticket (lower(customer_email))",
]
SQLITE_BUILD = (
    "INSERT INTO ticket_fts (rowid, head, body) "
    f"SELECT t.id, {_sqlite_head('t')}, {_sqlite_articles('t.id')} FROM ticket t"
)


async def build_search_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for statement in PG_SQL:
            await client.execute_script(statement)
        await client.execute_script(PG_BUILD)
        await client.execute_script(PG_INDEX)
    else:
        for statement in [*SQLITE_SQL, SQLITE_BUILD]:
            await client.execute_query(statement)


async def drop_search_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(
            "DROP TABLE IF EXISTS ticket_search; "
            "DROP TRIGGER IF EXISTS ticket_search_insert ON ticket; "
            "DROP TRIGGER IF EXISTS ticket_search_update ON ticket; "
            "DROP TRIGGER IF EXISTS ticket_search_article_insert ON article; "
            "DROP TRIGGER IF EXISTS ticket_search_article_update ON article; "
            "DROP TRIGGER IF EXISTS ticket_search_article_delete ON article; "
            "DROP FUNCTION IF EXISTS ticketbot_search_ticket_changed(); "
            "DROP FUNCTION IF EXISTS ticketbot_search_article_added(); "
            "DROP FUNCTION IF EXISTS ticketbot_search_article_changed(); "
            "DROP FUNCTION IF EXISTS ticketbot_ticket_document(BIGINT); "
            "DROP FUNCTION IF EXISTS ticketbot_search_text(text); "
            "DROP FUNCTION IF EXISTS ticketbot_fold(text); "
            "DROP INDEX IF EXISTS ticket_customer_email_lower"
        )
    else:
        for name in ("insert", "update", "delete"):
            await client.execute_query(f"DROP TRIGGER IF EXISTS ticket_fts_ticket_{name}")
            await client.execute_query(f"DROP TRIGGER IF EXISTS ticket_fts_article_{name}")
        await client.execute_query("DROP TABLE IF EXISTS ticket_fts")
        await client.execute_query("DROP INDEX IF EXISTS ticket_customer_email_lower")


async def fill_subject_keys(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """The normalised subject of every existing ticket (models.followup.normalise_subject)."""
    from models.followup import normalise_subject

    client = schema_editor.client
    mark = "$1" if client.capabilities.dialect == "postgres" else "?"
    last = 0
    while True:
        rows = await client.execute_query_dict(
            f"SELECT id, subject FROM ticket WHERE id > {mark} ORDER BY id LIMIT {BATCH}", [last]
        )
        if not rows:
            return
        for row in rows:
            key = normalise_subject(str(row["subject"] or ""), "Ticket#")
            if key:
                await client.execute_query(
                    "UPDATE ticket SET subject_key = "
                    + ("$1 WHERE id = $2" if mark == "$1" else "? WHERE id = ?"),
                    [key[:200], row["id"]],
                )
        last = int(rows[-1]["id"])


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0004_outbox_outcome")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Ticket",
            name="subject_key",
            field=fields.CharField(default="", db_default="", max_length=200),
        ),
        ops.AddIndex(model_name="Ticket", index=Index(fields=["queue", "created_at"])),
        ops.AddIndex(model_name="Ticket", index=Index(fields=["created_at", "id"])),
        ops.AddIndex(model_name="History", index=Index(fields=["event", "created_at"])),
        ops.RunPython(fill_subject_keys, ops.RunPython.noop),
        ops.RunPython(build_search_index, drop_search_index),
    ]
