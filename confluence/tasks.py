"""The worker's entry points for Confluence connections (django-q2 tasks and schedules); nothing imports this
module. The queue itself is `confluence.sync.queue`, the engine `confluence.sync.engine`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from confluence.forge.handle import process_pending_events
from confluence.models import ForgeTokenUse, SyncRun, WebhookEvent
from confluence.sync import engine, queue
from confluence.sync.queue import NotReady, enqueue_sync
from connectors.models import Connection


def run_sync(run_id: int) -> None:
    """django-q2 entry point for one queued run (`queue.send` names it)."""
    engine.run(run_id)


# Schedules ------------------------------------------------------------------------------------------------


def reconcile_due() -> int:
    """The reconciliation schedule: a cheap version listing catches purged pages and missed events. Each ready,
    unpaused connection gets one when its last full-scope run is older than CONFLUENCE_RECONCILE_HOURS."""
    cutoff = timezone.now() - timedelta(hours=settings.CONFLUENCE_RECONCILE_HOURS)
    connections = Connection.objects.filter(kind=Connection.Kind.CONFLUENCE, paused=False)
    count = 0
    for connection in connections:
        recent = connection.sync_runs.filter(page_ids__isnull=True, created_at__gte=cutoff).exists()
        if recent:
            continue
        try:
            enqueue_sync(connection, trigger=SyncRun.Trigger.SCHEDULE)
        except NotReady:
            continue  # still being set up: the setup's last step starts its first sync
        count += 1
    return count


def sweep() -> dict[str, int]:
    """Every minute: finish what a dead worker or a down broker left behind. The rows are the record of truth."""
    return {
        "stale_runs": queue.recover_stale(),
        "lost_runs": queue.resend_lost(),
        "pending_events": process_pending_events(),
    }


def prune_history() -> dict[str, int]:
    """Daily: forget old webhook rows and runs, so the admin and the card stay fast, and the Forge tokens that have
    expired (they no longer verify, so remembering them guards against nothing). The latest run of every
    connection is always kept, and nothing unfinished is ever deleted."""
    now = timezone.now()
    events = WebhookEvent.objects.filter(
        received_at__lt=now - timedelta(days=settings.WEBHOOK_EVENT_RETENTION_DAYS),
        status__in=[WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED],
    )
    keep = _latest_run_ids()
    runs = SyncRun.objects.filter(
        created_at__lt=now - timedelta(days=settings.SYNC_RUN_RETENTION_DAYS),
        status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED],
    ).exclude(id__in=keep)
    return {
        "events": events.delete()[1].get("confluence.WebhookEvent", 0),
        "runs": runs.delete()[1].get("confluence.SyncRun", 0),
        "forge_tokens": ForgeTokenUse.objects.filter(expires_at__lt=now).delete()[1].get("confluence.ForgeTokenUse", 0),
    }


def _latest_run_ids() -> set[int]:
    return set(SyncRun.objects.values("connection_id").annotate(last=Max("id")).values_list("last", flat=True))
