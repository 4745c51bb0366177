"""The JSON API for agents: search and read an organization's ingested documents.

Authenticated by an organization API key, `Authorization: Bearer ctx_…`. A missing, unknown or revoked key is a
401; a valid key of another organization is a 404, exactly as for an organization that does not exist, so
keys never reveal which organizations exist. Errors are JSON: {"error": {"code": …, "message": …}}.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from github_sync import search
from github_sync.models import ApiKey, Document, Section

# Recording every use would turn each search into a write; a minute's precision is plenty for "last used".
LAST_USED_PRECISION = timedelta(minutes=1)


def error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="ctx"'
    return response


class Unauthenticated(Exception):
    """No usable API key: `code` and `message` say why, for a 401."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def authenticate(authorization: str) -> ApiKey:
    """The active key an `Authorization: Bearer ctx_…` header value carries, or Unauthenticated.

    The one lookup behind every endpoint agents call with a key: this API and the MCP server (mcp_server).
    """
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("unauthenticated", "Send an API key: Authorization: Bearer ctx_…")
    api_key = ApiKey.find(key.strip())
    if api_key is None:
        raise Unauthenticated("invalid_key", "The API key is unknown or revoked.")
    return api_key


def api_key_required(view):
    """Resolve the bearer key to request.org (the slug's organization), or answer 401 / 404 / 405."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs):
        if request.method != "GET":
            return error(405, "method_not_allowed", "Only GET is supported.")
        try:
            api_key = authenticate(request.headers.get("Authorization", ""))
        except Unauthenticated as refused:
            return error(401, refused.code, refused.message)
        if api_key.org.slug != slug:
            return error(404, "not_found", "No such organization.")
        note_use(api_key)
        request.org, request.api_key = api_key.org, api_key
        return view(request, slug, *args, **kwargs)

    return wrapper


def note_use(api_key: ApiKey) -> None:
    """Record that the key was used, at most once a minute."""
    now = timezone.now()
    if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_PRECISION:
        ApiKey.objects.filter(id=api_key.id).update(last_used_at=now)


@api_key_required
def search_view(request: HttpRequest, slug: str) -> JsonResponse:
    query = request.GET.get("q", "").strip()
    if not query:
        return error(400, "missing_query", "Pass the search words as ?q=…")
    try:
        limit = int(request.GET.get("limit", "10"))
    except ValueError:
        return error(400, "bad_limit", "limit must be a whole number.")
    if not 1 <= limit <= search.MAX_LIMIT:
        return error(400, "bad_limit", f"limit must be between 1 and {search.MAX_LIMIT}.")
    try:
        hits = search.search(request.org, query, limit=limit)
    except search.SearchError as failed:
        response = error(failed.status, failed.code, failed.message)
        if failed.retry_after:
            response["Retry-After"] = str(failed.retry_after)
        return response
    return JsonResponse({"query": query, "count": len(hits), "results": [hit.as_json() for hit in hits]})


@api_key_required
def document_view(request: HttpRequest, slug: str, owner: str, name: str, path: str) -> JsonResponse:
    repository = f"{owner}/{name}"
    document = (
        Document.objects.select_related("repository")
        .filter(
            repository__id__in=search.searchable_repositories(request.org),
            repository__full_name__iexact=repository,
            path=path,
        )
        .first()
    )
    if document is None:
        return error(404, "not_found", f"No document {path} in {repository}.")
    sections = document.sections.order_by("position").values("heading", "heading_path", "anchor")
    return JsonResponse(
        {
            "repository": document.repository.full_name,
            "path": document.path,
            "title": document.title,
            "metadata": document.metadata,
            "commit": document.commit_sha,
            "blob_sha": document.blob_sha,
            "source_url": document.source_url or None,
            "url": document.github_url,
            "size": document.size,
            "updated_at": document.updated_at.isoformat(),
            "text": document.text,
            "sections": [
                {"heading": s["heading"], "heading_path": _headings(s["heading_path"]), "anchor": s["anchor"]}
                for s in sections
            ],
        }
    )


def _headings(heading_path: str) -> list[str]:
    return heading_path.split(Section.HEADING_SEPARATOR) if heading_path else []
