"""Sync status for the card's progress bar, and the run history of a connection."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from confluence.models import SyncRun
from confluence.setup.views import confluence_connection
from connectors.access import org_member_required


@org_member_required
def status(request: HttpRequest, slug: str, connection_id: int) -> JsonResponse:
    connection = confluence_connection(request, connection_id)
    active = (
        connection.sync_runs.filter(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING])
        .order_by("created_at")
        .first()
    )
    if active is None:
        return JsonResponse({"active": False})
    return JsonResponse(
        {
            "active": True,
            "status": active.status,
            "done": active.progress_done,
            "total": active.progress_total,
            "percent": active.progress_percent,
            # A run waiting out a rate limit or an outage is tried again then (ISO 8601, UTC); None: not waiting.
            "waiting_until": active.waiting_until.isoformat() if active.waiting_until else None,
        }
    )


@org_member_required
def runs(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = confluence_connection(request, connection_id)
    return render(request, "confluence/runs.html", runs_context(request, connection))


@org_member_required
def runs_table(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    """The newest runs, polled by the history's first page: new runs appear and running ones move on."""
    connection = confluence_connection(request, connection_id)
    return render(request, "confluence/_runs_table.html", runs_context(request, connection))


def runs_context(request: HttpRequest, connection) -> dict:
    page = Paginator(connection.sync_runs.order_by("-created_at"), 50).get_page(request.GET.get("page"))
    return {"connection": connection, "page": page}
