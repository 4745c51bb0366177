"""What the Connectors page shows for a Confluence connection, and the "Sync now" the page calls."""

from __future__ import annotations

from django.urls import reverse

from confluence.models import AtlassianSite, SyncRun, SyncScope, SyncTarget
from confluence.setup import FORGE_REMOVED
from confluence.tasks import enqueue_sync, ready_to_sync
from connectors.models import Connection


def card_context(connection: Connection) -> dict:
    site = AtlassianSite.objects.filter(connection=connection).first()
    target = SyncTarget.objects.filter(connection=connection).select_related("repository").first()
    scope = SyncScope.objects.filter(connection=connection).first()
    runs = connection.sync_runs.order_by("-created_at")
    forge = site.forge() if site else None
    return {
        "site": site,
        "repository": target.repository if target else None,
        "forge": forge,
        "scope": scope,
        "active_run": runs.filter(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]).first(),
        "last_run": runs.filter(status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED]).first(),
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
