"""The GitHub webhook endpoint, the "Choose repositories" setup step, the search page and the API keys page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.access import get_connection, org_admin_required, org_member_required
from connectors.models import SetupTask
from github_sync import search, webhooks
from github_sync.ingest import drop_documents
from github_sync.models import ApiKey, Installation, Repository, Source
from github_sync.tasks import enqueue_ingest


@csrf_exempt
@require_POST
def github_webhook(request: HttpRequest) -> JsonResponse:
    """Read, verify, record, apply. Nothing parses the body before the signature is checked.

    The body is read up to GITHUB_WEBHOOK_MAX_BYTES (25 MB, the most GitHub sends), not through `request.body`,
    whose 2.5 MB limit refused large pushes with a 400, which GitHub never retries.
    """
    limit = settings.GITHUB_WEBHOOK_MAX_BYTES
    try:
        body = webhooks.read_body(request, limit)
    except webhooks.BodyTooLarge:
        return JsonResponse({"error": f"The body is larger than {limit} bytes."}, status=413)
    if not webhooks.verify_signature(settings.GITHUB_WEBHOOK_SECRET, body, request.headers.get("X-Hub-Signature-256")):
        return JsonResponse({"error": "The X-Hub-Signature-256 signature is missing or wrong."}, status=401)
    outcome = webhooks.receive(
        event=request.headers.get("X-GitHub-Event", ""),
        delivery_id=request.headers.get("X-GitHub-Delivery", ""),
        body=body,
        headers=dict(request.headers),
    )
    return JsonResponse({"status": outcome.message}, status=outcome.status)


# Setup step: choose repositories --------------------------------------------------------------------------


@org_admin_required
def select_repositories(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = get_connection(request, connection_id)
    task = get_object_or_404(SetupTask, connection=connection, kind="select_repositories")
    available = Repository.objects.filter(
        installation__org=request.org, installation__status=Installation.Status.ACTIVE, accessible=True
    ).select_related("installation")
    chosen = set(connection.sources.values_list("repository_id", flat=True))
    if request.method == "POST":
        wanted = {r.id for r in available if str(r.id) in request.POST.getlist("repository")}
        if not wanted:
            messages.error(request, "Choose at least one repository.")
        else:
            save_choice(connection, available, wanted, chosen, user=request.user)
            task.mark(SetupTask.State.DONE, _chosen_words(len(wanted)), by=request.user)
            messages.success(request, f"{_chosen_words(len(wanted))}; ingestion has started.")
            return redirect("connection-setup", slug=slug, connection_id=connection.id)
    context = {
        "connection": connection,
        "task": task,
        "repositories": available,
        "chosen": chosen,
        "link_task": connection.tasks.filter(kind="link_github").first(),
    }
    return render(request, "github_sync/step_repositories.html", context)


def save_choice(connection, available, wanted: set[int], chosen: set[int], *, user) -> None:
    """Add and remove the connection's sources; ingest the new ones, forget repositories nobody uses now."""
    with transaction.atomic():
        for repository in available:
            if repository.id in wanted and repository.id not in chosen:
                Source.connect(connection, repository, by=user)
                enqueue_ingest(repository, None, trigger="connected")
        connection.sources.filter(repository_id__in=chosen - wanted).delete()
        for repository in Repository.objects.filter(id__in=chosen - wanted, sources__isnull=True):
            drop_documents(repository)


def _chosen_words(count: int) -> str:
    return f"{count} repositor{'y' if count == 1 else 'ies'} chosen"


# Search page ------------------------------------------------------------------------------------------------


@org_member_required
def search_page(request: HttpRequest, slug: str) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    context = {"query": query, "hits": [], "max_chars": settings.SEARCH_MAX_QUERY_CHARS}
    try:
        context["hits"] = search.search(request.org, query, limit=20) if query else []
    except search.SearchError as failed:
        response = render(
            request, "github_sync/search.html", {**context, "failure": failed.message}, status=failed.status
        )
        if failed.retry_after:
            response["Retry-After"] = str(failed.retry_after)
        return response
    return render(request, "github_sync/search.html", context)


# API keys --------------------------------------------------------------------------------------------------


@never_cache
@org_member_required
def api_keys(request: HttpRequest, slug: str) -> HttpResponse:
    """Everyone in the organization sees the keys (never the secrets); owners and admins create them."""
    new_key = None
    if request.method == "POST":
        if not request.membership.can_manage:
            raise PermissionDenied("Only owners and admins create API keys.")
        name = request.POST.get("name", "").strip()[:100]
        if not name:
            messages.error(request, "Give the key a name, such as the agent or service that will use it.")
        else:
            _, new_key = ApiKey.issue(org=request.org, name=name, by=request.user)
    keys = request.org.api_keys.select_related("created_by")
    return render(request, "github_sync/api_keys.html", {"keys": keys, "new_key": new_key})


@require_POST
@org_admin_required
def api_key_revoke(request: HttpRequest, slug: str, key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, id=key_id, org=request.org, revoked_at=None)
    key.revoke()
    messages.success(request, f"Revoked {key.name}; requests with it are refused from now on.")
    return redirect("api-keys", slug=slug)
