"""The sync queue: the one way to ask for a sync, and the claim a worker makes on a queued run.

Every kind of request (the wizard, "Sync now", the admin, the schedule, Forge events, the command) calls
`enqueue_sync`, which refuses a connection that is paused or not set up (`NotReady`, with the reason): callers
do not check first. The database keeps at most one queued and one running run per connection (partial unique
indexes), so a burst of requests merges into the queued run, and two workers can never run one connection at once.
A leaf module (models, `confluence.readiness` and the broker only), so any module may queue a sync without
importing the engine.
"""

from __future__ import annotations

import logging
import os
import socket

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from confluence.models import SyncRun
from confluence.readiness import Problem, sync_blocker
from connectors.models import Connection

logger = logging.getLogger(__name__)


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
    """Hand the run to the broker. If the broker is down the row stays queued and the sweeper re-sends it."""
    try:
        async_task("confluence.tasks.run_sync", run_id, task_name=f"sync-{run_id}", group="confluence-sync")
    except Exception:  # the broker's own errors vary (Redis, database); the row is the record of truth
        logger.exception("could not send sync run %s to the broker; the sweeper will retry", run_id)


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
