"""What the Connectors page shows for Confluence connections, and the "Sync now" the page calls.

The page renders every card at once, so the context is read for all of an organization's connections in a
fixed number of queries, whatever the number of connections or of past runs.
"""

from __future__ import annotations

from django.db.models import F, Max, Subquery
from django.urls import reverse

from confluence.models import AtlassianSite, ForgeInstallation, SyncRun, SyncScope, SyncTarget
from confluence.setup.readiness import Code, needing_attention
from confluence.setup.status import sync_if_ready
from connectors.models import Connection

# The button that fixes each problem the card's warning describes: (label, URL name).
FIXES = {
    Code.GRANT_REVOKED: ("Link Atlassian account", "confluence-step-atlassian"),
    Code.FORGE_REMOVED: ("Reinstall the Forge app", "confluence-step-forge"),
    Code.INSTALLATION_REMOVED: ("Link GitHub", "github-link"),
    Code.INSTALLATION_SUSPENDED: ("Link GitHub", "github-link"),
    Code.REPOSITORY_UNREACHABLE: ("Choose a repository", "confluence-step-repository"),
    Code.REPOSITORY_ARCHIVED: ("Choose a repository", "confluence-step-repository"),
    Code.REPOSITORY_PUBLIC: ("Confirm or choose a repository", "confluence-step-repository"),
}
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
    # The restricted pages the runs left out come with the scope (one query for both).
    scoped = SyncScope.objects.filter(connection_id__in=ids).annotate(
        left_out=F("connection__sync_state__restricted_pages")
    )
    scopes = {s.connection_id: s for s in scoped}
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
    contexts = {
        c.id: context(c, sites.get(c.id), forge, targets.get(c.id), scopes.get(c.id), active.get(c.id), last.get(c.id))
        for c in connections
    }
    for connection_id, found in contexts.items():
        found["restricted_count"] = len(getattr(scopes.get(connection_id), "left_out", None) or {})
    return contexts


def context(connection, site, forge, target, scope, active_run, last_run) -> dict:
    forge = forge.get(site.cloud_id) if site else None
    return {
        "site": site,
        "repository": target.repository if target else None,
        "forge": forge,
        "scope": scope,
        "active_run": active_run,
        "last_run": last_run,
        "fix": fix_action(connection, site=site, forge=forge, target=target),
        "edit_scope_url": reverse("confluence-step-scope", args=[connection.org.slug, connection.id]),
    }


def fix_action(connection: Connection, *, site, forge, target) -> dict | None:
    """The button that fixes the first problem the card's warning describes (from the rows read for every card)."""
    if connection.status != Connection.Status.ATTENTION:
        return None
    found = needing_attention(site=site, forge=forge, target=target)
    if not found:
        return None  # the warning is older than the rows, which show nothing left to fix
    label, url_name = FIXES[found[0].code]
    return {"label": label, "url": reverse(url_name, args=[connection.org.slug, connection.id])}


def sync_now(connection: Connection, *, trigger: str = SyncRun.Trigger.MANUAL) -> SyncRun | None:
    """Queue a sync of a ready, unpaused connection; None when it cannot sync yet (the page says so)."""
    return sync_if_ready(connection, trigger=trigger)
