"""Background work for Confluence connections: one enqueue function, the django-q2 task, and the safety nets.

Every kind of request (the wizard, "Sync now", the admin, the schedule, Forge events, the command) calls
`enqueue_sync`. The database keeps at most one queued and one running run per connection (partial unique
indexes), so a burst of requests merges into the queued run, and two workers can never run one connection at once.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from confluence.models import SyncRun
from connectors.models import Connection, SetupTask

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def ready_to_sync(connection: Connection) -> bool:
    """Unpaused, with every setup step done except the Forge app's: without Forge nothing tells us about changes,
    but the reconciliation schedule and "Sync now" keep the repository right."""
    if connection.paused:
        return False
    steps = connection.tasks.exclude(kind="install_forge")
    return steps.exists() and not steps.exclude(state=SetupTask.State.DONE).exists()


def enqueue_sync(
    connection: Connection, *, trigger: str, page_ids: list[str] | None = None, full: bool = False
) -> SyncRun:
    """Queue a sync, or merge the request into the connection's queued run (page ids unioned, `full` wins)."""
    page_ids = sorted({str(p) for p in page_ids}) if page_ids is not None else None
    for _ in range(3):
        try:
            with transaction.atomic():
                run, created = _queue_or_merge(connection, trigger=trigger, page_ids=page_ids, full=full)
        except IntegrityError:
            # Another request created the queued run between our read and our insert: merge into it instead.
            continue
        if created:
            transaction.on_commit(lambda run_id=run.id: send(run_id))
        return run
    raise RuntimeError(f"Could not queue a sync for connection {connection.pk}")


def _queue_or_merge(connection: Connection, *, trigger: str, page_ids, full: bool) -> tuple[SyncRun, bool]:
    queued = SyncRun.objects.select_for_update().filter(connection=connection, status=SyncRun.Status.QUEUED).first()
    if queued is None:
        run = SyncRun.objects.create(
            connection=connection, trigger=trigger, page_ids=None if full else page_ids, full=full
        )
        return run, True
    queued.full = queued.full or full
    if queued.full or queued.page_ids is None or page_ids is None:
        queued.page_ids = None  # an untargeted run already looks at every page
    else:
        queued.page_ids = sorted(set(queued.page_ids) | set(page_ids))
    queued.save(update_fields=["full", "page_ids"])
    return queued, False


def send(run_id: int) -> None:
    """Hand the run to the broker. If the broker is down the row stays queued and the sweeper re-sends it."""
    try:
        async_task("confluence.tasks.run_sync", run_id, task_name=f"sync-{run_id}", group="confluence-sync")
    except Exception:  # the broker's own errors vary (Redis, database); the row is the record of truth
        logger.exception("could not send sync run %s to the broker; the sweeper will retry", run_id)


def run_sync(run_id: int) -> None:
    """django-q2 entry point: claim the run, sync, then start the follow-up run if one is waiting."""
    from confluence.sync import execute

    run = claim(run_id)
    if run is None:
        return
    try:
        execute(run)
    finally:
        start_follow_up(run.connection_id)


def claim(run_id: int) -> SyncRun | None:
    """Queued → running, unless another run of the connection is running (then that one starts us later)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            claimed = SyncRun.objects.filter(id=run_id, status=SyncRun.Status.QUEUED).update(
                status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
            )
    except IntegrityError:
        logger.info("sync run %s waits: its connection has a running sync", run_id)
        return None
    if not claimed:
        return None
    run = SyncRun.objects.select_related("connection__org").get(id=run_id)
    # Stamped again once the claim holds: the claim may have waited for the previous run's finish to commit, and
    # started_at must not fall before that run's finished_at.
    run.started_at, run.worker = timezone.now(), f"{socket.gethostname()}:{os.getpid()}"
    run.attempts += 1
    SyncRun.objects.filter(id=run_id).update(attempts=run.attempts, started_at=run.started_at, worker=run.worker)
    return run


def start_follow_up(connection_id: int) -> None:
    follow_up = SyncRun.objects.filter(connection_id=connection_id, status=SyncRun.Status.QUEUED).first()
    if follow_up is not None:
        send(follow_up.id)


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
            enqueue_sync(run.connection, trigger=SyncRun.Trigger.RECOVERY, page_ids=run.page_ids, full=run.full)
    return recovered


def resend_lost_runs() -> int:
    """Queued runs that nobody picked up (the broker lost the task, or was down at enqueue time)."""
    cutoff = timezone.now() - timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)
    lost = SyncRun.objects.filter(status=SyncRun.Status.QUEUED, created_at__lt=cutoff)
    busy = set(SyncRun.objects.filter(status=SyncRun.Status.RUNNING).values_list("connection_id", flat=True))
    count = 0
    for run in lost:
        if run.connection_id not in busy:
            send(run.id)
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
        if ready_to_sync(connection) and not recent:
            enqueue_sync(connection, trigger=SyncRun.Trigger.SCHEDULE)
            count += 1
    return count


def sweep() -> dict[str, int]:
    """Every minute: finish what a dead worker or a down broker left behind. The rows are the record of truth."""
    from confluence.forge_events import process_pending_events
    from github_sync.tasks import requeue_stale_ingests

    return {
        "stale_runs": recover_stale_runs(),
        "lost_runs": resend_lost_runs(),
        "pending_events": process_pending_events(),
        "stale_ingests": requeue_stale_ingests(),
    }


def retry_sync(connection_id: int, page_ids: list[str] | None, full: bool) -> None:
    """Scheduled after a temporary failure: queue the same work again (merging with anything queued since)."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is not None and not connection.paused:
        enqueue_sync(connection, trigger=SyncRun.Trigger.RECOVERY, page_ids=page_ids, full=full)


def prune_history() -> dict[str, int]:
    """Daily: forget old webhook rows and runs, so the admin and the card stay fast, and the Forge tokens that have
    expired (they no longer verify, so remembering them guards against nothing). The latest run of every
    connection is always kept, and nothing unfinished is ever deleted."""
    from confluence.models import ForgeTokenUse, WebhookEvent

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
    from django.db.models import Max

    return set(SyncRun.objects.values("connection_id").annotate(last=Max("id")).values_list("last", flat=True))
