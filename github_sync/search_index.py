"""Writing the search index of ingested sections: PostgreSQL's `Section.search_vector` (A title, B headings, C body),
or the SQLite FTS5 table `github_sync_section_fts` (no index to write for the LIKE fallback)."""

from __future__ import annotations

from django.db import connection

FTS_TABLE = "github_sync_section_fts"
PG_CONFIG = "english"


def index_documents(document_ids: list[int]) -> None:
    """(Re)build the index entries of these documents' sections; call after writing the sections."""
    if not document_ids:
        return
    if connection.vendor == "postgresql":
        # One statement per batch: the title lives on the document, so update with a join.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE github_sync_section AS s SET search_vector =
                    setweight(to_tsvector('{PG_CONFIG}', d.title), 'A')
                    || setweight(to_tsvector('{PG_CONFIG}', s.heading_path), 'B')
                    || setweight(to_tsvector('{PG_CONFIG}', s.text), 'C')
                FROM github_sync_document AS d
                WHERE s.document_id = d.id AND d.id = ANY(%s)
                """,  # noqa: S608 (PG_CONFIG is a constant)
                [list(document_ids)],
            )
    elif fts_available():
        with connection.cursor() as cursor:
            for chunk in _chunks(document_ids):
                marks = ",".join("%s" for _ in chunk)
                cursor.execute(
                    f"""INSERT INTO {FTS_TABLE} (rowid, title, headings, body)
                    SELECT s.id, d.title, s.heading_path, s.text FROM github_sync_section s
                    JOIN github_sync_document d ON d.id = s.document_id WHERE d.id IN ({marks})""",  # noqa: S608
                    chunk,
                )


def unindex_documents(document_ids: list[int]) -> None:
    """Drop the FTS5 rows of these documents' sections; call before deleting the sections."""
    if not document_ids or connection.vendor != "sqlite" or not fts_available():
        return
    with connection.cursor() as cursor:
        for chunk in _chunks(document_ids):
            marks = ",".join("%s" for _ in chunk)
            cursor.execute(
                f"DELETE FROM {FTS_TABLE} WHERE rowid IN "  # noqa: S608
                f"(SELECT id FROM github_sync_section WHERE document_id IN ({marks}))",
                chunk,
            )


def fts_available() -> bool:
    """Whether migration 0003 could create the FTS5 table in this SQLite database."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE])
        return cursor.fetchone() is not None


def _chunks(ids: list[int], size: int = 500):
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
