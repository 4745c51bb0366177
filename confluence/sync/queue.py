"""The sync queue, on `connectors.queue`: the one way to ask for a sync, the claim a worker makes on a queued run,
and the sweeper's recovery of runs whose worker died or whose task was lost.

Every kind of request (the wizard, "Sync now", the admin, the schedule, Forge events, the command) calls
`enqueue_sync`, which refuses a connection that is paused or not set up (`NotReady`, with the reason): callers
do not check first. The database keeps at most one queued and one running run per connection (partial unique
indexes), so a burst of requests merges into the queued run, and two workers can never run one connection at once.
A leaf module (models, `confluence.setup.readiness` and `connectors.queue` only), so any module may queue a sync
without importing the engine.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from confluence.models import SyncRun
from confluence.setup.readiness import Problem, sync_blocker
from connectors import queue
from connectors.models import Connection

logger = logging.getLogger(__name__)

TASK = "confluence.tasks.run_sync"  # the worker's entry point for one run (django-q2 names it by this path)


class NotReady(Exception):
    """The connection takes no sync now (paused, or its setup is not finished): `problem` says why."""

    def __init__(self, connection: Connection, problem: Problem):
        self.connection, self.problem = connection, problem
        super().__init__(f"Connection {connection.pk} takes no sync now: {problem.message}.")


def enqueue_sync(
    connection: Connection, *, trigger: str, page_ids: list[str] | None = None, full: bool = False
) -> SyncRun:
    """Queue a sync, or merge the request into the connection's queued run (page ids unioned, `full` wins).
    Raises NotReady, before writing anything, when the connection takes no sync now."""
    if (problem := sync_blocker(connection)) is not None:
        raise NotReady(connection, problem)
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
    """Hand the run to the broker (if it is down, the run stays queued and `resend_lost` sends it again)."""
    queue.send(TASK, run_id, name=f"sync-{run_id}", group="confluence-sync")


def claim(run_id: int) -> SyncRun | None:
    """Queued → running, unless another run of the connection is running (then that one starts us later)."""
    now = timezone.now()
    queued = SyncRun.objects.filter(id=run_id, status=SyncRun.Status.QUEUED)
    if not queue.claim(queued, status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now):
        logger.info("sync run %s not claimed: taken already, or its connection has a running sync", run_id)
        return None
    run = SyncRun.objects.select_related("connection__org").get(id=run_id)
    # Stamped again once the claim holds: the claim may have waited for the previous run's finish to commit, and
    # started_at must not fall before that run's finished_at.
    run.started_at, run.worker = timezone.now(), f"{socket.gethostname()}:{os.getpid()}"
    run.attempts += 1
    SyncRun.objects.filter(id=run_id).update(attempts=run.attempts, started_at=run.started_at, worker=run.worker)
    return run


def start_next(connection_id: int) -> None:
    """After a run: the connection's queued run (requests that came while it ran) goes to the broker."""
    queue.start_next(SyncRun.objects.filter(connection_id=connection_id, status=SyncRun.Status.QUEUED), send)


# The sweeper ----------------------------------------------------------------------------------------------


def recover_stale() -> int:
    """Runs whose worker died (no heartbeat): mark them failed and queue a recovery run that redoes their pages."""
    # A running run touches heartbeat_at at every stage, every 50 pages and before every retry wait.
    cutoff = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    stale = SyncRun.objects.filter(status=SyncRun.Status.RUNNING, heartbeat_at__lt=cutoff).select_related("connection")
    given_up = queue.recover_stale(
        stale,
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error_kind=SyncRun.ErrorKind.TRANSIENT,
        error="The worker stopped during this run; a recovery run redoes its work.",
    )
    for run in given_up:
        try:
            enqueue_sync(run.connection, trigger=SyncRun.Trigger.RECOVERY, page_ids=run.page_ids, full=run.full)
        except NotReady as refused:
            # Paused (or sent back to setup) meanwhile: resuming or finishing setup syncs the whole scope.
            logger.info("no recovery run for sync run %s: %s", run.id, refused.problem.message)
    return len(given_up)


def resend_lost() -> int:
    """Queued runs that nobody picked up (the broker lost the task, or was down at enqueue time). A run that waits
    for its connection's running run is not lost: that run sends it when it finishes."""
    busy = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).values("connection_id")
    lost = queue.lost(SyncRun.objects.filter(status=SyncRun.Status.QUEUED)).exclude(connection_id__in=busy)
    run_ids = list(lost.values_list("id", flat=True))
    for run_id in run_ids:
        send(run_id)
    return len(run_ids)
