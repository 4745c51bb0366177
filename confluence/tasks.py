"""The worker's entry points for Confluence connections (django-q2 tasks and schedules); nothing imports this
module. The queue itself is `confluence.sync_queue`, the engine `confluence.sync`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from confluence import sync, sync_queue
from confluence.forge_events import process_pending_events
from confluence.models import ForgeTokenUse, SyncRun, WebhookEvent
from confluence.sync_queue import NotReady, enqueue_sync
from connectors.models import Connection

logger = logging.getLogger(__name__)


def run_sync(run_id: int) -> None:
    """django-q2 entry point for one queued run (`sync_queue.send` names it)."""
    sync.run(run_id)


# Safety nets (scheduled) ----------------------------------------------------------------------------------


def recover_stale_runs() -> int:
    """Runs whose worker died (no heartbeat): mark failed and queue a run that redoes their pages."""
    recovered = 0
    # A running run touches heartbeat_at at every stage, every 50 pages and before every retry wait.
    cutoff = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    for run in SyncRun.objects.filter(status=SyncRun.Status.RUNNING, heartbeat_at__lt=cutoff).select_related(
        "connection"
    ):
        with transaction.atomic():
            stale = SyncRun.objects.filter(id=run.id, status=SyncRun.Status.RUNNING, heartbeat_at__lt=cutoff).update(
                status=SyncRun.Status.FAILED,
                finished_at=timezone.now(),
                error_kind=SyncRun.ErrorKind.TRANSIENT,
                error="The worker stopped during this run; a recovery run redoes its work.",
            )
        if stale:
            recovered += 1
            try:
                enqueue_sync(run.connection, trigger=SyncRun.Trigger.RECOVERY, page_ids=run.page_ids, full=run.full)
            except NotReady as refused:
                # Paused (or sent back to setup) meanwhile: resuming or finishing setup syncs the whole scope.
                logger.info("no recovery run for sync run %s: %s", run.id, refused.problem.message)
    return recovered


def resend_lost_runs() -> int:
    """Queued runs that nobody picked up (the broker lost the task, or was down at enqueue time)."""
    cutoff = timezone.now() - timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)
    lost = SyncRun.objects.filter(status=SyncRun.Status.QUEUED, created_at__lt=cutoff)
    busy = set(SyncRun.objects.filter(status=SyncRun.Status.RUNNING).values_list("connection_id", flat=True))
    count = 0
    for run in lost:
        if run.connection_id not in busy:
            sync_queue.send(run.id)
            count += 1
    return count


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
        "stale_runs": recover_stale_runs(),
        "lost_runs": resend_lost_runs(),
        "pending_events": process_pending_events(),
    }


def retry_sync(connection_id: int, page_ids: list[str] | None, full: bool) -> None:
    """Scheduled after a temporary failure: queue the same work again (merging with anything queued since)."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return
    try:
        enqueue_sync(connection, trigger=SyncRun.Trigger.RECOVERY, page_ids=page_ids, full=full)
    except NotReady as refused:
        # Resuming (or finishing setup again) syncs the whole scope, this work included.
        logger.info("no retry for connection %s: %s", connection_id, refused.problem.message)


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
