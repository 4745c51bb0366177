"""The search index of sections, which differs by database.

PostgreSQL: a GIN index on Section.search_vector (the vector itself is written by github_sync.search).
SQLite: an FTS5 table keyed by section id, kept in sync by github_sync.search; when this SQLite build has no
FTS5, nothing is created and search falls back to a ranked LIKE match.
"""

from django.db import migrations, OperationalError

FTS_TABLE = "github_sync_section_fts"


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS github_sync_section_search_gin "
            "ON github_sync_section USING gin (search_vector)"
        )
    elif vendor == "sqlite":
        try:
            schema_editor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                "title, headings, body, tokenize = 'porter unicode61')"
            )
        except OperationalError:
            pass  # no FTS5 in this SQLite build: search uses its LIKE fallback


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS github_sync_section_search_gin")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("github_sync", "0002_ingestion")]

    operations = [migrations.RunPython(create_index, drop_index)]
