"""PostgreSQL's `ticketbot_fold()` cuts runs of combining marks to 30 before `normalize()`.

`normalize()` takes quadratic time on a long run of marks of mixed classes; one hostile mail
held an article INSERT (its search-document trigger) for ~50 s. The function is replaced in
place (models.stream_safe, models.search_text.pg_functions_sql). Documents already indexed
differ only where a text had more than 30 marks in a row, so they are not rebuilt. Going
back keeps the new function: it is the old one on every text a language writes.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from models.search_text import pg_functions_sql


async def replace_fold(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for statement in pg_functions_sql():
            await client.execute_script(statement)


async def keep_fold(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    return None


class Migration(migrations.Migration):
    dependencies = [("ticketbot", "0014_intake")]

    initial = False

    operations = [ops.RunPython(replace_fold, keep_fold)]
