"""What the Connectors page shows for Confluence connections, and the "Sync now" the page calls.

The page renders every card at once, so the context is read for all of an organization's connections in a
fixed number of queries, whatever the number of connections or of past runs.
"""

from __future__ import annotations

from django.db.models import Max, Subquery
from django.urls import reverse

from confluence.models import AtlassianSite, ForgeInstallation, SyncRun, SyncScope, SyncTarget
from confluence.setup import FORGE_REMOVED
from confluence.sync_queue import enqueue_sync, ready_to_sync
from connectors.models import Connection

ACTIVE = [SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
FINISHED = [SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED]


def card_contexts(connections: list[Connection]) -> dict[int, dict]:
    ids = [c.id for c in connections]
    sites = {s.connection_id: s for s in AtlassianSite.objects.filter(connection_id__in=ids)}
    forge = {f.cloud_id: f for f in ForgeInstallation.objects.filter(cloud_id__in=[s.cloud_id for s in sites.values()])}
    targets = {
        t.connection_id: t
        for t in SyncTarget.objects.filter(connection_id__in=ids).select_related("repository__installation")
    }
    scopes = {s.connection_id: s for s in SyncScope.objects.filter(connection_id__in=ids)}
    active: dict[int, SyncRun] = {}
    for run in SyncRun.objects.filter(connection_id__in=ids, status__in=ACTIVE).order_by("-created_at"):
        active[run.connection_id] = run  # the oldest active run wins: the one running or next to run
    last_ids = (
        SyncRun.objects.filter(connection_id__in=ids, status__in=FINISHED)
        .values("connection_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    last = {run.connection_id: run for run in SyncRun.objects.filter(id__in=Subquery(last_ids))}
    return {
        c.id: context(c, sites.get(c.id), forge, targets.get(c.id), scopes.get(c.id), active.get(c.id), last.get(c.id))
        for c in connections
    }


def context(connection, site, forge, target, scope, active_run, last_run) -> dict:
    return {
        "site": site,
        "repository": target.repository if target else None,
        "forge": forge.get(site.cloud_id) if site else None,
        "scope": scope,
        "active_run": active_run,
        "last_run": last_run,
        "fix": fix_action(connection, site, target),
        "edit_scope_url": reverse("confluence-step-scope", args=[connection.org.slug, connection.id]),
    }


def fix_action(connection: Connection, site, target) -> dict | None:
    """The button that fixes what the card's warning describes."""
    if connection.status != Connection.Status.ATTENTION:
        return None
    slug, pk = connection.org.slug, connection.id
    if site and site.grant_status == AtlassianSite.Grant.REVOKED:
        return {"label": "Link Atlassian account", "url": reverse("confluence-step-atlassian", args=[slug, pk])}
    if FORGE_REMOVED in connection.status_detail:
        return {"label": "Reinstall the Forge app", "url": reverse("confluence-step-forge", args=[slug, pk])}
    if target and target.repository.installation.status != "active":
        return {"label": "Link GitHub", "url": reverse("github-link", args=[slug, pk])}
    return {"label": "Choose a repository", "url": reverse("confluence-step-repository", args=[slug, pk])}


def sync_now(connection: Connection, *, trigger: str = SyncRun.Trigger.MANUAL) -> SyncRun | None:
    """Queue a sync of a ready, unpaused connection; None when it cannot sync yet."""
    if not ready_to_sync(connection):
        return None
    return enqueue_sync(connection, trigger=trigger)
