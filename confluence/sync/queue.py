"""The sync queue, on `connectors.queue`: the one way to ask for a sync, the claim a worker makes on a queued run,
handing a run back to wait out a service, and the sweeper's recovery of runs whose worker died or whose task was
lost.

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
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
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
    connection: Connection, *, trigger: str, page_ids: list[str] | None = None, full: bool = False, attempts: int = 0
) -> SyncRun:
    """Queue a sync, or merge the request into the connection's queued run (page ids unioned, `full` wins).
    `attempts`: how many workers already stopped on this work (a recovery run carries them on). Raises NotReady,
    before writing anything, when the connection takes no sync now."""
    if (problem := sync_blocker(connection)) is not None:
        raise NotReady(connection, problem)
    page_ids = sorted({str(p) for p in page_ids}) if page_ids is not None else None
    for _ in range(3):
        try:
            with transaction.atomic():
                run, created = _queue_or_merge(connection, trigger, page_ids=page_ids, full=full, attempts=attempts)
        except IntegrityError:
            # Another request created the queued run between our read and our insert: merge into it instead.
            continue
        if created:
            transaction.on_commit(lambda run_id=run.id: send(run_id))
        return run
    raise RuntimeError(f"Could not queue a sync for connection {connection.pk}")


def _queue_or_merge(connection: Connection, trigger: str, *, page_ids, full: bool, attempts: int):
    queued = SyncRun.objects.select_for_update().filter(connection=connection, status=SyncRun.Status.QUEUED).first()
    if queued is None:
        run = SyncRun.objects.create(
            connection=connection, trigger=trigger, page_ids=None if full else page_ids, full=full, attempts=attempts
        )
        return run, True
    queued.full = queued.full or full
    queued.attempts = max(queued.attempts, attempts)
    if queued.full or queued.page_ids is None or page_ids is None:
        queued.page_ids = None  # an untargeted run already looks at every page
    else:
        queued.page_ids = sorted(set(queued.page_ids) | set(page_ids))
    queued.save(update_fields=["full", "page_ids", "attempts"])
    return queued, False


def send(run_id: int) -> None:
    """Hand the run to the broker (if it is down, the run stays queued and `resend_lost` sends it again)."""
    stamp = SyncRun.objects.filter(id=run_id, status=SyncRun.Status.QUEUED)
    queue.send(TASK, run_id, name=f"sync-{run_id}", group="confluence-sync", stamp=stamp)


def claim(run_id: int) -> SyncRun | None:
    """Queued → running, unless another run of the connection is running (then that one starts us later), or the
    run waits out a service (the sweeper sends it again when the wait is over). A run whose connection was paused
    or sent back to setup since it was queued is failed instead: no sync runs until the connection is resumed."""
    now = timezone.now()
    queued = SyncRun.objects.filter(id=run_id, status=SyncRun.Status.QUEUED)
    if refused_now(queued.select_related("connection").first(), verb="run"):
        return None
    running = {"status": SyncRun.Status.RUNNING, "started_at": now, "heartbeat_at": now, "not_before": None}
    if not queue.claim(queued, attempts=F("attempts") + 1, **running):
        logger.info("sync run %s not claimed: taken already, waiting, or its connection has a running sync", run_id)
        return None
    run = SyncRun.objects.select_related("connection__org").get(id=run_id)
    # Stamped again once the claim holds: the claim may have waited for the previous run's finish to commit, and
    # started_at must not fall before that run's finished_at.
    run.started_at, run.worker = timezone.now(), f"{socket.gethostname()}:{os.getpid()}"
    SyncRun.objects.filter(id=run_id).update(started_at=run.started_at, worker=run.worker)
    return run


def hand_back(run: SyncRun, *, not_before: datetime, error: str) -> bool:
    """Back to the queue in place, not before `not_before` (a service asked to wait longer than a worker sleeps).
    False when the connection has a queued run already (`defer_to_queued`), or the sweeper gave the run up."""
    running = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING)
    queued = {"status": SyncRun.Status.QUEUED, "error_kind": SyncRun.ErrorKind.TRANSIENT, "error": error}
    return queue.hand_back(running, not_before=not_before, **queued)


def defer_to_queued(run: SyncRun, *, not_before: datetime) -> None:
    """The connection's queued run takes over the work of a run that could not be handed back: its pages, and
    its wait (the service's limit holds for the whole site)."""
    try:
        queued = enqueue_sync(run.connection, trigger=SyncRun.Trigger.RECOVERY, page_ids=run.page_ids, full=run.full)
    except NotReady as refused:
        logger.info("sync run %s not retried: %s", run.pk, refused.problem.message)
        return
    later = max(queued.not_before or not_before, not_before)
    SyncRun.objects.filter(pk=queued.pk, status=SyncRun.Status.QUEUED).update(not_before=later)


def start_next(connection_id: int) -> None:
    """After a run: the connection's queued run (requests that came while it ran) goes to the broker."""
    queue.start_next(SyncRun.objects.filter(connection_id=connection_id, status=SyncRun.Status.QUEUED), send)


# The sweeper ----------------------------------------------------------------------------------------------


def recover_stale() -> int:
    """Runs whose worker died (no heartbeat): mark them failed and queue a recovery run that redoes their pages,
    both in one transaction. Work that stopped its worker TASK_MAX_ATTEMPTS times in a row is failed instead."""
    # A running run touches heartbeat_at at every stage, every 50 pages and before every retry wait.
    cutoff = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    stale = SyncRun.objects.filter(status=SyncRun.Status.RUNNING, heartbeat_at__lt=cutoff).select_related("connection")
    detail = queue.gave_up_detail()
    poisoned = queue.recover_stale(
        queue.poisoned(stale),
        then=lambda run: run.connection.report_failure(f"The last sync failed: {detail}."),
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error_kind=SyncRun.ErrorKind.PERMANENT,
        error=f"{detail.capitalize()}.",
    )
    given_up = queue.recover_stale(
        stale,
        then=queue_recovery,
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error_kind=SyncRun.ErrorKind.TRANSIENT,
        error="The worker stopped during this run; a recovery run redoes its work.",
    )
    return len(poisoned) + len(given_up)


def queue_recovery(run: SyncRun) -> None:
    """The run that redoes a stale run's pages, carrying its attempts on (sent to the broker once committed)."""
    try:
        enqueue_sync(
            run.connection,
            trigger=SyncRun.Trigger.RECOVERY,
            page_ids=run.page_ids,
            full=run.full,
            attempts=run.attempts,
        )
    except NotReady as refused:
        # Paused (or sent back to setup) meanwhile: resuming or finishing setup syncs the whole scope.
        logger.info("no recovery run for sync run %s: %s", run.id, refused.problem.message)


def resend_lost() -> int:
    """Queued runs that nobody picked up (the broker lost the task, or was down at enqueue time), and runs whose
    wait for a service is over. A run that waits for its connection's running run is not lost: that run sends it
    when it finishes. A run whose connection was paused or sent back to setup during its wait is not retried."""
    busy = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).values("connection_id")
    lost = queue.lost(SyncRun.objects.filter(status=SyncRun.Status.QUEUED)).exclude(connection_id__in=busy)
    sent = 0
    for run in lost.select_related("connection"):
        if not refused_now(run, verb="tried again"):
            send(run.id)
            sent += 1
    return sent


def refused_now(run: SyncRun | None, *, verb: str) -> bool:
    """Whether the queued run's connection takes no sync now (paused, or sent back to setup since the run was
    queued): the run is then failed, as a request would be refused now. Resuming (or finishing setup) syncs the
    whole scope, this run's work included."""
    if run is None or (problem := sync_blocker(run.connection)) is None:
        return False
    SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.FAILED, finished_at=timezone.now(), error=f"Not {verb}: {problem.message}."
    )
    logger.info("sync run %s not %s: %s", run.pk, verb, problem.message)
    return True
