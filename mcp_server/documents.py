"""What the MCP tools and resources read: an organization's ingested documents, its connections and repositories.

Plain synchronous functions over the ORM (the server calls them through `sync_to_async`). Every one takes the
organization the API key belongs to and sees only repositories that `github_sync.search.searchable_repositories`
allows, the same set the REST API searches. A request the caller can fix raises `Refused` with words for the model.

Documents are named `ctx://<owner>/<repo>/<path>` (the path percent-encoded where URIs need it): that URI is the
`id` search returns, the argument fetch takes and the MCP resource's URI.
"""

from __future__ import annotations

import html
from urllib.parse import quote, unquote

from django.db.models import Count

from confluence.models import SyncRun, SyncScope
from connectors.models import Connection
from github_sync import search
from github_sync.front_matter import read_front_matter
from github_sync.ingest import front_matter_limits
from github_sync.models import Document, Repository, Source

SCHEME = "ctx://"
RESOURCES_PER_PAGE = 100


class Refused(Exception):
    """A request the caller can correct: the message says how."""


def document_uri(repository: str, path: str) -> str:
    return f"{SCHEME}{repository}/{quote(path, safe='/')}"


def parse_uri(uri: str) -> tuple[str, str]:
    """("owner/repo", path) from ctx://owner/repo/path, or Refused."""
    if not uri.startswith(SCHEME):
        raise Refused(f"{uri!r} is not a document id: ids look like ctx://owner/repo/path, as search returns them.")
    owner, _, rest = uri.removeprefix(SCHEME).partition("/")
    name, _, path = rest.partition("/")
    if not (owner and name and path):
        raise Refused(f"{uri!r} is not a document id: ids look like ctx://owner/repo/path, as search returns them.")
    return f"{owner}/{name}", unquote(path)


# search ---------------------------------------------------------------------------------------------------------


def search_documents(
    org, query: str, *, repository: str = "", space: str = "", path_prefix: str = "", limit: int = 10
) -> list[dict]:
    """Sections containing every word of the query, best first. Raises Refused or a github_sync SearchError."""
    query = query.strip()
    if not query:
        raise Refused("The query is empty: pass the words to search for.")
    if not 1 <= limit <= search.MAX_LIMIT:
        raise Refused(f"limit must be between 1 and {search.MAX_LIMIT}.")
    repositories = None  # every searchable repository of the organization: search.search finds them
    if repository:
        search.query_terms(query)  # QueryTooLong / TooManyTerms before any database work
        repositories = list(
            Repository.objects.filter(
                id__in=search.searchable_repositories(org), full_name__iexact=repository.strip()
            ).values_list("id", flat=True)
        )
        if not repositories:
            raise Refused(f"No repository {repository!r} among this organization's sources; list_sources names them.")
    # Every filter applies before ranking: a narrow search finds what the best sections overall would crowd out.
    hits = search.search(org, query, limit=limit, repositories=repositories, space=space, path_prefix=path_prefix)
    return [_result(hit) for hit in hits]


def _result(hit: search.Hit) -> dict:
    return {
        "id": document_uri(hit.repository, hit.path),
        "title": hit.title,
        # The citation: the Confluence page when the document came from one, else the file on GitHub.
        "url": hit.source_url or hit.url,
        "repository": hit.repository,
        "path": hit.path,
        "heading_path": hit.headings,
        "snippet": plain_snippet(hit.snippet),
        "source_url": hit.source_url or None,
        "github_url": hit.url or None,
        "commit": hit.commit,
    }


def plain_snippet(marked: str) -> str:
    """The search snippet as text for a model: matches in **bold** instead of escaped HTML with <mark>."""
    return html.unescape(marked.replace("<mark>", "**").replace("</mark>", "**"))


# fetch ----------------------------------------------------------------------------------------------------------


def find_document(org, uri: str) -> Document:
    repository, path = parse_uri(uri)
    document = (
        Document.objects.select_related("repository")
        .filter(
            repository__id__in=search.searchable_repositories(org),
            repository__full_name__iexact=repository,
            path=path,
        )
        .first()
    )
    if document is None:
        raise Refused(f"No document {uri}: search for it first, and pass an id search returned.")
    return document


def fetch_document(org, uri: str) -> dict:
    """The document's Markdown without its front matter, and the front matter's fields as metadata."""
    document = find_document(org, uri)
    body = read_front_matter(document.text, front_matter_limits()).body
    meta = document.metadata or {}
    return {
        "id": document_uri(document.repository.full_name, document.path),
        "title": document.title,
        "text": body,
        "url": document.source_url or document.github_url,
        "metadata": {
            "title": meta.get("title", document.title),
            "space": meta.get("space_key"),
            "labels": meta.get("labels", []),
            "version": meta.get("version"),
            "last_modified": meta.get("last_modified"),
            "source_url": document.source_url or None,
            "page_id": meta.get("page_id"),
            "ancestors": meta.get("ancestors", []),
            "repository": document.repository.full_name,
            "path": document.path,
            "commit": document.commit_sha,
            "github_url": document.github_url or None,
        },
    }


# list_sources ---------------------------------------------------------------------------------------------------


def list_sources(org) -> dict:
    """Each connection with its repositories: last sync, last ingested commit and what its scope selects."""
    searchable = set(search.searchable_repositories(org))
    counts = dict(
        Document.objects.filter(repository__id__in=searchable)
        .values_list("repository")
        .annotate(n=Count("id"))
        .values_list("repository", "n")
    )
    repositories: dict[int, list[Repository]] = {}
    for source in Source.objects.filter(connection__org=org).select_related("repository").order_by("repository"):
        repositories.setdefault(source.connection_id, []).append(source.repository)
    scopes = {s.connection_id: s for s in SyncScope.objects.filter(connection__org=org)}
    sources = []
    for connection in Connection.objects.filter(org=org).order_by("name", "id"):
        repos = repositories.get(connection.id, [])
        sources.append(
            {
                "connection": connection.name,
                "kind": connection.kind,
                "status": connection.status,
                "paused": connection.paused,
                "scope": _scope_summary(connection, scopes.get(connection.id), repos),
                "last_sync": _last_sync(connection),
                "repositories": [
                    {
                        "repository": repo.full_name,
                        "url": repo.html_url or None,
                        "searchable": repo.id in searchable,
                        "last_ingested_commit": repo.ingested_sha or None,
                        "ingested_at": repo.ingested_at.isoformat() if repo.ingested_at else None,
                        "documents": counts.get(repo.id, 0),
                    }
                    for repo in repos
                ],
            }
        )
    return {"sources": sources}


def _scope_summary(connection: Connection, scope: SyncScope | None, repos: list[Repository]) -> str:
    if connection.kind == Connection.Kind.CONFLUENCE:
        if scope is None:
            return "No scope saved yet"
        keys = ", ".join(scope.space_keys)
        return f"{scope.summary()} (spaces {keys})" if keys else scope.summary()
    return f"{len(repos)} repositor{'y' if len(repos) == 1 else 'ies'}"


def _last_sync(connection: Connection) -> dict | None:
    run = connection.sync_runs.exclude(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]).first()
    if run is None:
        return None
    return {
        "status": run.status,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "commit": run.commit_sha or None,
    }


# resources ------------------------------------------------------------------------------------------------------


def list_resources(org, cursor: str | None) -> tuple[list[Document], str | None]:
    """One page of the organization's documents in a stable order, and the cursor of the next page (None: last)."""
    after = 0
    if cursor:
        try:
            after = int(cursor)
        except ValueError:
            raise Refused("Invalid cursor: pass the nextCursor of the previous page, or none.") from None
    documents = list(
        Document.objects.filter(repository__id__in=search.searchable_repositories(org), id__gt=after)
        .select_related("repository")
        .only("id", "path", "title", "size", "source_url", "repository__full_name")
        .order_by("id")[: RESOURCES_PER_PAGE + 1]
    )
    more = len(documents) > RESOURCES_PER_PAGE
    documents = documents[:RESOURCES_PER_PAGE]
    return documents, (str(documents[-1].id) if more else None)


def mime_type(path: str) -> str:
    return "text/markdown" if path.lower().endswith((".md", ".markdown")) else "text/plain"
