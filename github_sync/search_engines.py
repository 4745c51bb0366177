"""How each database ranks sections for a query's words, best first, as (section id, score, marked snippet): PostgreSQL
full-text search (under a statement timeout), SQLite FTS5 (bm25), or a LIKE match scored by weighted term counts."""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from functools import reduce
from operator import and_

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q

from github_sync.models import Section
from github_sync.search_errors import SearchTimedOut
from github_sync.search_index import FTS_TABLE, PG_CONFIG

# Markers that never occur in text, turned into <mark> after escaping, so a snippet cannot inject HTML.
START, STOP = "\x02", "\x03"
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout


def search_postgresql(repositories: list[int], terms: list[str], limit: int, documents=None):
    # plainto_tsquery ANDs the words and has no operators, unlike websearch_to_tsquery ("or", "-", quotes).
    tsquery = SearchQuery(" ".join(terms), search_type="plain", config=PG_CONFIG)
    sections = Section.objects.filter(document__repository__in=repositories, search_vector=tsquery)
    if documents is not None:
        sections = sections.filter(document__in=documents)
    with statement_timeout():
        ranked = list(
            sections.annotate(rank=SearchRank(F("search_vector"), tsquery))
            .order_by("-rank", "id")
            .values_list("id", "rank")[:limit]
        )
        # Headlines are costly: make them only for the sections shown.
        headline = SearchHeadline(
            "text", tsquery, config=PG_CONFIG, start_sel=START, stop_sel=STOP, max_words=30, min_words=12
        )
        shown = Section.objects.filter(id__in=[i for i, _ in ranked])
        snippets = dict(shown.annotate(s=headline).values_list("id", "s"))
    return [(i, rank, snippets.get(i, "")) for i, rank in ranked]


@contextmanager
def statement_timeout():
    """Run the enclosed PostgreSQL statements in a transaction that cancels each after SEARCH_STATEMENT_TIMEOUT_MS.

    A cancelled statement becomes SearchTimedOut; any other database error goes on as it was.
    """
    nested = connection.in_atomic_block
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if nested:
                # SET LOCAL outlives a released savepoint: put back the caller's value afterwards.
                cursor.execute("SELECT current_setting('statement_timeout')")
                previous = cursor.fetchone()[0]
            # set_config(…, true) is SET LOCAL, and takes the value as a parameter.
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)", [f"{settings.SEARCH_STATEMENT_TIMEOUT_MS}ms"]
            )
            yield
            if nested:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    except DatabaseError as failed:
        if getattr(failed.__cause__, "sqlstate", None) != QUERY_CANCELED:
            raise
        raise SearchTimedOut(
            "The search took too long and was stopped. Try again in a moment, or search for fewer or more "
            "specific words."
        ) from failed


# SQLite FTS5 -----------------------------------------------------------------------------------------------


def search_fts5(repositories: list[int], terms: list[str], limit: int, documents=None):
    # Each word quoted: user input never reaches FTS5's query syntax; all words must match, as on PostgreSQL.
    match = " ".join(f'"{term}"' for term in terms)
    marks = ",".join("%s" for _ in repositories)
    narrowing, narrowing_params = "", []
    if documents is not None:
        subquery, narrowing_params = documents.query.sql_with_params()  # Django's own SQL, with placeholders
        narrowing = f"AND d.id IN ({subquery})"
    sql = f"""
        SELECT f.rowid, -bm25({FTS_TABLE}, 10.0, 4.0, 1.0) AS score,
               snippet({FTS_TABLE}, 2, %s, %s, '…', 24)
        FROM {FTS_TABLE} f
        JOIN github_sync_section s ON s.id = f.rowid
        JOIN github_sync_document d ON d.id = s.document_id
        WHERE {FTS_TABLE} MATCH %s AND d.repository_id IN ({marks}) {narrowing}
        ORDER BY bm25({FTS_TABLE}, 10.0, 4.0, 1.0), f.rowid LIMIT %s
    """  # noqa: S608 (only placeholders and Django's compiled subquery are interpolated)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, [START, STOP, match, *repositories, *narrowing_params, limit])
            return [(row[0], float(row[1]), row[2]) for row in cursor.fetchall()]
    except DatabaseError:
        return search_like(repositories, terms, limit, documents)


# LIKE fallback ---------------------------------------------------------------------------------------------


def search_like(repositories: list[int], terms: list[str], limit: int, documents=None):
    # Every term, as on the other engines (query_terms caps how many there are).
    matches = [Q(text__icontains=t) | Q(heading_path__icontains=t) | Q(document__title__icontains=t) for t in terms]
    sections = Section.objects.filter(reduce(and_, matches), document__repository__in=repositories)
    if documents is not None:
        sections = sections.filter(document__in=documents)
    candidates = sections.values_list("id", "document__title", "heading_path", "text").order_by("id")[:1000]
    scored = []
    for section_id, title, headings, text in candidates:
        lowered = text.lower()
        score = sum(10 * title.lower().count(t) + 4 * headings.lower().count(t) + lowered.count(t) for t in terms)
        scored.append((section_id, score / math.log(len(text) + 3), like_snippet(text, terms)))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]


def like_snippet(text: str, terms: list[str], width: int = 160) -> str:
    lowered = text.lower()
    found = [lowered.find(t) for t in terms if lowered.find(t) >= 0]
    start = max(0, min(found) - width // 3) if found else 0
    piece = text[start : start + width]
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    piece = pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", piece)
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")
