"""The Connectors page and its cards, creating organizations and connections, and a connection's settings, pause,
"Sync now" and deletion. Setup pages: `connectors.setup_views`; members: `connectors.member_views`; invitations:
`connectors.invitation_views`."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from connectors import kinds
from connectors.access import get_connection, org_admin_required, org_member_required
from connectors.forms import AddConnectionForm, OrganizationForm, RenameConnectionForm
from connectors.invitation_views import invitation_in_session
from connectors.models import Connection, Organization, SetupTask

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise; for load balancers and uptime checks."""
    try:
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"; the reason goes to the log, not the probe
        logger.exception("healthz: database check failed")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    # Back from verifying the invited address (allauth confirms it and sends people home): finish joining.
    invitation = invitation_in_session(request)
    if invitation is not None and invitation.is_usable:
        return redirect("invitation-accept")
    membership = request.user.memberships.select_related("org").order_by("created_at").first()
    if membership is None:
        return redirect("org-create")
    return redirect("connectors", slug=membership.org.slug)


@login_required
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = Organization.create_with_owner(name=form.cleaned_data["name"], owner=request.user)
        messages.success(request, f"Created {org.name}. Next, add a connection.")
        return redirect("connectors", slug=org.slug)
    return render(request, "connectors/org_create.html", {"form": form})


@org_member_required
def connectors_page(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "connectors/connectors.html", {"cards": org_cards(request.org)})


@org_member_required
def connectors_cards(request: HttpRequest, slug: str) -> HttpResponse:
    """The Connectors page's cards, polled by the page (static/live.js) as one fragment so they follow syncs as they
    run: every card's context is read in one pass (`cards_for`) each round, not once per card."""
    return render(request, "connectors/_cards.html", {"cards": org_cards(request.org)})


def org_cards(org: Organization) -> list[dict]:
    connections = org.connections.prefetch_related(
        Prefetch("tasks", queryset=SetupTask.objects.order_by("position"))
    ).select_related("org")
    return cards_for(list(connections))


def cards_for(connections: list[Connection]) -> list[dict]:
    """Cards: the generic part plus what each kind adds (its template, its context read for all its
    connections at once, "Sync now")."""
    extras: dict[int, dict] = {}
    for kind in {connection.kind for connection in connections}:
        spec = kinds.get(kind)
        if spec.card_contexts:
            extras.update(spec.card_contexts([c for c in connections if c.kind == kind]))
    return [
        {
            "connection": connection,
            "template": connection.spec.card_template,
            "extra": extras.get(connection.id, {}),
            "can_sync": connection.spec.sync_now is not None,
        }
        for connection in connections
    ]


# A second "Add connection" post this soon after the first, for the same kind and name by the same person, is the
# same click twice (a double click, a resent form): it opens the connection the first one made.
DUPLICATE_ADD_SECONDS = 30


@org_admin_required
def connection_add(request: HttpRequest, slug: str) -> HttpResponse:
    form = AddConnectionForm(request.POST or None, initial={"kind": request.GET.get("kind")})
    if request.method == "POST" and form.is_valid():
        connection = add_connection_once(
            org=request.org, kind=form.cleaned_data["kind"], name=form.cleaned_data["name"], user=request.user
        )
        return redirect("connection-setup", slug=slug, connection_id=connection.id)
    return render(request, "connectors/connection_add.html", {"form": form})


def add_connection_once(*, org: Organization, kind: str, name: str, user) -> Connection:
    """A new connection, unless this user just made the same one; then that one.

    The organization's row is locked while checking and creating, so two posts arriving together are serialized
    (PostgreSQL's row lock; SQLite's transactions are IMMEDIATE, one writer at a time) and the second finds the
    first's connection."""
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=org.pk).first()
        recent = (
            org.connections.filter(
                kind=kind,
                name=name or kinds.get(kind).label,
                created_by=user,
                created_at__gte=timezone.now() - timedelta(seconds=DUPLICATE_ADD_SECONDS),
            )
            .order_by("-created_at")
            .first()
        )
        if recent is not None:
            return recent
        return Connection.create_with_tasks(org=org, kind=kind, name=name, created_by=user)


@org_admin_required
def connection_settings(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = get_connection(request, connection_id)
    form = RenameConnectionForm(request.POST or None, initial={"name": connection.name})
    if request.method == "POST" and form.is_valid():
        connection.name = form.cleaned_data["name"]
        connection.save(update_fields=["name", "updated_at"])
        messages.success(request, "Saved.")
        return redirect("connectors", slug=slug)
    return render(request, "connectors/connection_settings.html", {"connection": connection, "form": form})


def connection_action(change):
    """A button on a connection's card: a POST by an owner or admin that changes the connection (`change` is called
    with the request and the connection, and says what it did in a message), then back to the Connectors page."""

    @require_POST
    @org_admin_required
    @wraps(change)
    def view(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
        change(request, get_connection(request, connection_id))
        return redirect("connectors", slug=slug)

    return view


@connection_action
def connection_pause(request: HttpRequest, connection: Connection) -> None:
    if connection.paused:
        connection.resume()
        # Catch up on whatever changed while paused.
        caught_up = connection.spec.queue_sync(connection)
        messages.success(request, f"{connection.name} resumed." + (" A sync is queued." if caught_up else ""))
    else:
        connection.pause()
        messages.success(request, f"{connection.name} paused: no syncs run until you resume it.")


@connection_action
def connection_sync(request: HttpRequest, connection: Connection) -> None:
    if connection.spec.queue_sync(connection) is None:
        messages.error(request, f"{connection.name} cannot sync now: finish its setup or resume it first.")
    else:
        messages.success(request, f"Sync of {connection.name} queued.")


@connection_action
def connection_delete(request: HttpRequest, connection: Connection) -> None:
    connection.delete()
    messages.success(request, f"Deleted {connection.name}. The repository and its history stay on GitHub.")
