"""Search over ingested sections: PostgreSQL full-text search, or SQLite FTS5, or a ranked LIKE match.

Weights everywhere: the document title counts most, then the section's heading path, then its body.
- PostgreSQL: `Section.search_vector` (A title, B headings, C body) written by `index_documents`, a GIN index
  (migration 0003), `websearch_to_tsquery` and `ts_rank`, snippets by `ts_headline`.
- SQLite with FTS5 (the embedded default): the `github_sync_section_fts` table, kept in step by
  `index_documents` / `unindex_documents`, ranked by `bm25` with the same weights.
- SQLite without FTS5: every query term must appear somewhere; score by weighted term counts.
Snippets are HTML-escaped text with the matched words in `<mark>`.

Every engine searches for the same thing: the query's distinct words (runs of letters and digits, compared
without case), all of which must match. The words are quoted (FTS5) or given to `plainto_tsquery` (PostgreSQL),
so user input never reaches a query syntax. Each word is a full-text term, which is where the cost of a search
lies, so a query is refused beyond `SEARCH_MAX_QUERY_CHARS` characters (`QueryTooLong`) or `SEARCH_MAX_TERMS`
distinct words (`TooManyTerms`), and PostgreSQL cancels a search statement after `SEARCH_STATEMENT_TIMEOUT_MS`
(`SearchTimedOut`).
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce
from operator import and_

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils.html import escape

from github_sync.models import Document, Repository, Section
from github_sync.sections import clean_heading

FTS_TABLE = "github_sync_section_fts"
PG_CONFIG = "english"
# Markers that never occur in text, turned into <mark> after escaping, so a snippet cannot inject HTML.
START, STOP = "\x02", "\x03"
MAX_LIMIT = 50
_WORD = re.compile(r"\w+", re.UNICODE)
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout
RETRY_AFTER_SECONDS = 10


class SearchError(Exception):
    """A search that is not answered; `status`, `code` and `message` are what the one who searched is told."""

    status = 400
    code = "bad_query"
    retry_after: int | None = None

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class QueryTooLong(SearchError):
    code = "query_too_long"


class TooManyTerms(SearchError):
    code = "too_many_terms"


class SearchTimedOut(SearchError):
    """PostgreSQL cancelled the search at the statement timeout; the site is busy or the query is costly."""

    status = 503
    code = "search_timeout"
    retry_after = RETRY_AFTER_SECONDS


@dataclass(frozen=True)
class Hit:
    repository: str
    path: str
    title: str
    heading: str
    headings: list[str]
    anchor: str
    snippet: str  # escaped HTML with <mark> around matches
    commit: str
    source_url: str
    url: str  # the file on GitHub at the ingested commit, at the section
    score: float

    def as_json(self) -> dict:
        return {
            "repository": self.repository,
            "path": self.path,
            "title": self.title,
            "heading": self.heading,
            "heading_path": self.headings,
            "anchor": self.anchor,
            "snippet": self.snippet,
            "commit": self.commit,
            "source_url": self.source_url or None,
            "url": self.url,
            "score": round(self.score, 6),
        }


def searchable_repositories(org) -> list[int]:
    """Repositories of the organization that some connection uses and the App still reaches."""
    return list(
        Repository.objects.filter(installation__org=org, accessible=True, sources__isnull=False)
        .values_list("id", flat=True)
        .distinct()
    )


def search(
    org,
    query: str,
    *,
    limit: int = 10,
    repositories: list[int] | None = None,
    space: str = "",
    path_prefix: str = "",
) -> list[Hit]:
    """Sections that contain every word of the query, best first; raises a SearchError subclass instead.
    Narrowed, before ranking, to some of the organization's repositories, a Confluence space (the documents' front
    matter `space_key`) or a path prefix."""
    terms = query_terms(query)
    allowed = searchable_repositories(org) if terms else []
    if repositories is not None:
        wanted = set(repositories)
        allowed = [r for r in allowed if r in wanted]
    if not allowed:
        return []
    limit = max(1, min(limit, MAX_LIMIT))
    documents = narrowed_documents(allowed, space=space.strip(), path_prefix=path_prefix.strip().lstrip("/"))
    ranked = {"postgresql": _search_postgresql, "fts5": _search_fts5, "like": _search_like}[engine()]
    return _hits(ranked(allowed, terms, limit, documents))


def narrowed_documents(repositories: list[int], *, space: str, path_prefix: str):
    """The documents a narrowed search may find (a query of their ids), or None when nothing narrows it."""
    if not space and not path_prefix:
        return None
    documents = Document.objects.filter(repository__in=repositories)
    if space:
        documents = documents.filter(metadata__space_key__iexact=space)
    if path_prefix:
        documents = documents.filter(path__startswith=path_prefix)
    return documents.values("id")


def query_terms(query: str) -> list[str]:
    """The query's distinct words, lowercased, in order; QueryTooLong or TooManyTerms past the limits."""
    max_chars = settings.SEARCH_MAX_QUERY_CHARS
    if len(query) > max_chars:
        raise QueryTooLong(
            f"The search is too long: {len(query):,} characters, and at most {max_chars:,} are allowed. "
            "Search for fewer words."
        )
    terms = list(dict.fromkeys(word.lower() for word in _WORD.findall(query)))
    max_terms = settings.SEARCH_MAX_TERMS
    if len(terms) > max_terms:
        raise TooManyTerms(
            f"The search has too many different words: {len(terms):,}, and at most {max_terms:,} are allowed. "
            "Every word must match, so a few specific words find more."
        )
    return terms


def engine() -> str:
    """PostgreSQL full-text search, SQLite FTS5, or a ranked LIKE match when neither is there."""
    if connection.vendor == "postgresql":
        return "postgresql"
    return "fts5" if fts_available() else "like"


# Writing the index -----------------------------------------------------------------------------------------


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


# PostgreSQL ------------------------------------------------------------------------------------------------


def _search_postgresql(repositories: list[int], terms: list[str], limit: int, documents=None):
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


def _search_fts5(repositories: list[int], terms: list[str], limit: int, documents=None):
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
        return _search_like(repositories, terms, limit, documents)


# LIKE fallback ---------------------------------------------------------------------------------------------


def _search_like(repositories: list[int], terms: list[str], limit: int, documents=None):
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
        scored.append((section_id, score / math.log(len(text) + 3), _like_snippet(text, terms)))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]


def _like_snippet(text: str, terms: list[str], width: int = 160) -> str:
    lowered = text.lower()
    found = [lowered.find(t) for t in terms if lowered.find(t) >= 0]
    start = max(0, min(found) - width // 3) if found else 0
    piece = text[start : start + width]
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    piece = pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", piece)
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


# Results ---------------------------------------------------------------------------------------------------


def _hits(ranked: list[tuple[int, float, str]]) -> list[Hit]:
    sections = Section.objects.in_bulk([i for i, _, _ in ranked])
    documents = Document.objects.select_related("repository").in_bulk({s.document_id for s in sections.values()})
    hits = []
    for section_id, score, snippet in ranked:
        section = sections.get(section_id)
        if section is None:
            continue
        document = documents[section.document_id]
        url = document.github_url
        hits.append(
            Hit(
                repository=document.repository.full_name,
                path=document.path,
                # Sections ingested before headings dropped their HTML anchors still show clean words.
                title=clean_heading(document.title),
                heading=clean_heading(section.heading),
                headings=[clean_heading(heading) for heading in section.headings],
                anchor=section.anchor,
                snippet=highlight(snippet),
                commit=document.commit_sha,
                source_url=document.source_url,
                url=f"{url}#{section.anchor}" if url and section.anchor else url,
                score=score,
            )
        )
    return hits


def highlight(marked: str) -> str:
    """Escape the snippet, then turn our markers into <mark> tags."""
    return escape(marked).replace(START, "<mark>").replace(STOP, "</mark>")
