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

This module answers a search; the engines are in `search_engines`, writing the index in `search_index`, the
errors in `search_errors`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils.html import escape

from github_sync.models import Document, Repository, Section
from github_sync.search_engines import START, STOP, search_fts5, search_like, search_postgresql
from github_sync.search_errors import QueryTooLong, SearchError, SearchTimedOut, TooManyTerms
from github_sync.search_index import fts_available, index_documents, unindex_documents
from github_sync.sections import clean_heading

# Callers catch the errors as `search.SearchError` and ingestion writes the index through `search`.
__all__ = [
    "Hit",
    "QueryTooLong",
    "SearchError",
    "SearchTimedOut",
    "TooManyTerms",
    "index_documents",
    "search",
    "searchable_repositories",
    "unindex_documents",
]

MAX_LIMIT = 50
_WORD = re.compile(r"\w+", re.UNICODE)


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
    ranked = {"postgresql": search_postgresql, "fts5": search_fts5, "like": search_like}[engine()]
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
