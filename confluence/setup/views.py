"""The Confluence setup wizard's step screens. Each step's work is done by `confluence.setup.steps`."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from confluence.auth import client_for
from confluence.gateway import AuthRevoked, ConfluenceError
from confluence.models import AtlassianSite, PendingAtlassianLink, SyncScope, SyncTarget
from confluence.setup import steps
from confluence.setup.scope_editor import MODE_OPTIONS, ScopeForm, browse_children, resolve_picks, scope_rows
from confluence.setup.scope_picks import CONFLUENCE_ID
from connectors.access import get_connection, org_admin_required
from connectors.models import Connection
from connectors.setup_views import next_step_url, remember_setup_step
from github_sync.installations import complete_link_step_if_installed

OAUTH_ERRORS = {
    "cancelled": "Access was not granted at Atlassian, so nothing changed. Link the account when you are ready.",
}


def confluence_connection(request: HttpRequest, connection_id: int) -> Connection:
    connection = get_connection(request, connection_id)
    if connection.kind != Connection.Kind.CONFLUENCE:
        raise Http404("Not a Confluence connection")
    return connection


def next_step(request: HttpRequest, connection: Connection) -> HttpResponse:
    """After a step: the next step that is not done, or the Connectors page when setup is complete."""
    complete_link_step_if_installed(connection, user=request.user)
    if connection.next_task() is None:
        messages.success(request, f"{connection.name} is set up.")
    return redirect(next_step_url(connection))


def site_step(*, why: str):
    """A step on the linked Atlassian site: its view gets (request, connection, site); without one, back to step 1."""

    def decorator(view):
        @org_admin_required
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
            connection = confluence_connection(request, connection_id)
            site = AtlassianSite.objects.filter(connection=connection).first()
            if site is None:
                messages.info(request, f"Link an Atlassian account first: {why}.")
                return redirect("confluence-step-atlassian", slug=slug, connection_id=connection.id)
            return view(request, connection, site)

        return wrapper

    return decorator


def step_context(connection: Connection, kind: str, **extra) -> dict:
    return {"connection": connection, "task": connection.tasks.get(kind=kind), **extra}


# 1. Link Atlassian account ---------------------------------------------------------------------------------


@org_admin_required
def atlassian_step(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = confluence_connection(request, connection_id)
    error = request.GET.get("oauth_error")
    if error:
        messages.error(
            request, OAUTH_ERRORS.get(error, "Linking with Atlassian failed, so nothing changed. Try again.")
        )
        return redirect("confluence-step-atlassian", slug=slug, connection_id=connection.id)
    remember_setup_step(request, connection, "link_atlassian")
    complete_url = reverse("confluence-step-atlassian-complete", args=[slug, connection.id])
    login_url = reverse("atlassian_login") + "?" + urlencode({"process": "connect", "next": complete_url})
    context = step_context(
        connection,
        "link_atlassian",
        site=AtlassianSite.objects.filter(connection=connection).first(),
        login_url=login_url,
    )
    return render(request, "confluence/step_atlassian.html", context)


@org_admin_required
def atlassian_complete(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    """Back from Atlassian: pick a site if there are several, confirm taking over an account, then link."""
    connection = confluence_connection(request, connection_id)
    pending = PendingAtlassianLink.latest_for(request.user, grant=request.POST.get("grant", ""))
    if request.GET.get("oauth_error"):
        return redirect(
            reverse("confluence-step-atlassian", args=[slug, connection.id]) + "?" + request.GET.urlencode()
        )
    if pending is None:
        messages.error(request, "That Atlassian authorization expired or was already used. Link the account again.")
        return redirect("confluence-step-atlassian", slug=slug, connection_id=connection.id)
    if not pending.sites:
        pending.delete()
        messages.error(request, "That Atlassian account cannot reach any Confluence site. Choose another account.")
        return redirect("confluence-step-atlassian", slug=slug, connection_id=connection.id)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        pending.delete()
        messages.info(request, "Cancelled. Nothing changed.")
        return redirect("confluence-step-atlassian", slug=slug, connection_id=connection.id)
    cloud_id = request.POST.get("cloud_id") or (pending.sites[0]["id"] if len(pending.sites) == 1 else "")
    if cloud_id not in {s["id"] for s in pending.sites}:
        return render(request, "confluence/step_atlassian_sites.html", {"connection": connection, "pending": pending})
    conflicts = list(steps.conflicting_connections(connection, pending.account_id))
    if conflicts and request.POST.get("action") != "confirm":
        context = {"connection": connection, "pending": pending, "cloud_id": cloud_id, "conflicts": conflicts}
        return render(request, "confluence/step_atlassian_claim.html", context)
    site = steps.link_site(connection, pending, cloud_id=cloud_id, user=request.user)
    messages.success(request, f"Linked {site.name}.")
    return next_step(request, connection)


# 2. Install the Forge app ----------------------------------------------------------------------------------


@site_step(why="the Forge app is installed in its site")
def forge_step(request: HttpRequest, connection: Connection, site: AtlassianSite) -> HttpResponse:
    return render(request, "confluence/step_forge.html", forge_context(connection, site))


@org_admin_required
def forge_status(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    """The Forge step's state, polled by the step's page until the installation event arrives."""
    connection = confluence_connection(request, connection_id)
    site = get_object_or_404(AtlassianSite, connection=connection)
    return render(request, "confluence/_forge_status.html", forge_context(connection, site))


def forge_context(connection: Connection, site: AtlassianSite) -> dict:
    steps.sync_forge_step(connection)
    return step_context(
        connection,
        "install_forge",
        site=site,
        forge=site.forge(),
        install_url=site.install_url(),
        continue_url=next_step_url(connection),
    )


# 4. Select the sync repository -----------------------------------------------------------------------------


@org_admin_required
def repository_step(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = confluence_connection(request, connection_id)
    repositories = steps.selectable_repositories(connection)
    current = SyncTarget.objects.filter(connection=connection).select_related("repository").first()
    chosen, error = (current.repository if current else None), ""
    if request.method == "POST":
        chosen = get_object_or_404(repositories, pk=posted_id(request.POST.get("repository")))
        try:
            steps.select_repository(
                connection, chosen, user=request.user, public_confirmed=request.POST.get("confirm_public") == "1"
            )
        except ValueError as refused:  # unreachable, unconfirmed public, or written by another connection
            error = str(refused)
        else:
            return next_step(request, connection)
    rows = repository_rows(connection, repositories)
    context = step_context(
        connection,
        "select_repository",
        rows=rows,
        chosen=chosen,
        current=current.repository if current else None,
        all_taken=all(row["holder"] for row in rows),
        error=error,
        github_linked=steps.active_installation(connection) is not None,
    )
    return render(request, "confluence/step_repository.html", context, status=400 if error else 200)


def posted_id(value: str | None) -> int | None:
    """A forged form's non-numeric id finds nothing (a 404), rather than failing the query."""
    return int(value) if value and value.isascii() and value.isdigit() else None


def repository_rows(connection: Connection, repositories) -> list[dict]:
    """Each repository the connection could write to, with the other connection that already does (it cannot be
    chosen: a repository has one writer) and a link to that connection for the organization's members."""
    writers = steps.repository_writers(connection)
    rows = []
    for repository in repositories:
        holder = writers.get(repository.pk)
        same_org = holder is not None and holder.org_id == connection.org_id
        rows.append(
            {
                "repository": repository,
                "holder": holder,
                "holder_name": holder.name if same_org else "a connection of another organization",
                "holder_url": reverse("connection-setup", args=[connection.org.slug, holder.pk]) if same_org else "",
            }
        )
    return rows


# 5. Configure the scope ------------------------------------------------------------------------------------


@site_step(why="the scope is chosen from its site")
def scope_step(request: HttpRequest, connection: Connection, site: AtlassianSite) -> HttpResponse:
    client = client_for(site)
    try:
        spaces = client.list_spaces()
    except AuthRevoked:
        messages.error(request, "Atlassian access was revoked. Link your Atlassian account again.")
        return redirect("confluence-step-atlassian", slug=connection.org.slug, connection_id=connection.id)
    except ConfluenceError as error:
        return render(request, "confluence/step_scope_unavailable.html", {"connection": connection, "error": error})
    scope = SyncScope.objects.filter(connection=connection).first()
    form = ScopeForm(request.POST if request.method == "POST" else None, spaces=spaces, scope=scope)
    # Preview and Save read the one `selection` field the same way; Save stores what the preview resolved.
    preview = resolve_picks(form, client) if request.method == "POST" else None
    refused = ""
    if preview is not None and form.is_valid() and request.POST.get("action") == "save":
        if preview.removes_everything and request.POST.get("confirm_empty") != "1":
            refused = "This scope selects no page: tick the confirmation to remove every synced page."
        else:
            steps.save_scope(connection, user=request.user, summary=preview.summary, **form.scope_fields(preview))
            messages.success(request, f"Scope saved: {preview.summary}.")
            return next_step(request, connection)
    query = request.GET.get("q", "")
    context = step_context(
        connection,
        "configure_scope",
        form=form,
        preview=preview if form.is_bound and form.is_valid() else None,
        space_rows=form.space_rows(scope_rows(spaces, query=query)),
        pick_rows=form.pick_rows(preview),
        blank_options=MODE_OPTIONS[""],
        query=query,
        site=site,
        refused=refused,
    )
    status = 400 if request.method == "POST" and (refused or not form.is_valid()) else 200
    return render(request, "confluence/step_scope.html", context, status=status)


@org_admin_required
def restricted_pages(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    """Whether pages with a view restriction are synced: off by default; an admin turns it on only after reading
    who the repository's readers are (and confirming it)."""
    connection = confluence_connection(request, connection_id)
    scope = get_object_or_404(SyncScope, connection=connection)
    target = SyncTarget.objects.filter(connection=connection).select_related("repository__installation").first()
    if request.method == "POST":
        include = request.POST.get("include") == "yes"
        if include and request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the confirmation to include restricted pages.")
        else:
            steps.set_include_restricted(connection, include=include, user=request.user)
            done = "Restricted pages will be synced." if include else "Restricted pages are left out."
            messages.success(request, done)
            return redirect("confluence-restricted", slug=slug, connection_id=connection.id)
    context = {"connection": connection, "scope": scope, "repository": target.repository if target else None}
    return render(request, "confluence/restricted_pages.html", context)


@org_admin_required
def scope_children(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    """The next level of a page tree, loaded when the user expands a space or a page (HTML fragment)."""
    connection = confluence_connection(request, connection_id)
    site = get_object_or_404(AtlassianSite, connection=connection)
    space_id, page_id = request.GET.get("space", ""), request.GET.get("page", "")
    # The ids go into API paths: only Confluence's digits may (no "../" walking the site's API with its token).
    if not CONFLUENCE_ID.fullmatch(page_id or space_id):
        raise Http404("No such space or page")
    try:
        pages = browse_children(client_for(site), space_id=space_id, page_id=page_id)
    except ConfluenceError:
        return render(request, "confluence/_scope_children.html", {"error": True}, status=502)
    context = {
        "pages": pages,
        "connection": connection,
        "space_key": request.GET.get("key", ""),
        "blank_options": MODE_OPTIONS[""],
    }
    return render(request, "confluence/_scope_children.html", context)
