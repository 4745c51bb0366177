"""Ingestion as background work, on `connectors.queue`: one enqueue function for every caller, one task, and the
app's two schedules.

push webhook · GitHub connection setup · Confluence sync · admin "Re-ingest"
    └─► enqueue_ingest(repository, sha, trigger=…)   IngestRun(queued); one queued run per repository,
                                                      later requests merge into it (the newest commit wins)
django-q2 ─► run_ingest(run_id)                      claim queued → running under the repository's row lock,
                                                      unless another run of the repository holds the lease
             └─► ingest.execute(run)                  then start the repository's next queued run, if any
schedule ──► sweep()                                 runs whose worker died go back to the queue (given up
                                                      after TASK_MAX_ATTEMPTS); runs whose task was lost, or
                                                      whose wait for GitHub is over, start again
schedule ──► prune_history()                         old deliveries and ingestions are forgotten
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from connectors import queue
from github_sync import ingest
from github_sync.models import IngestRun, Repository, WebhookDelivery

logger = logging.getLogger(__name__)

TASK = "github_sync.tasks.run_ingest"  # the worker's entry point for one run (django-q2 names it by this path)


def enqueue_ingest(repository: Repository, commit_sha: str | None, *, trigger: str) -> IngestRun:
    """Queue an ingestion of `commit_sha` (None: the branch tip when the run starts); returns the queued run."""
    for _ in range(3):
        try:
            with transaction.atomic():
                return _queue(repository, commit_sha or "", trigger)
        except IntegrityError:
            # Another request queued a run for this repository at the same instant: merge into it instead.
            continue
    raise RuntimeError(f"could not queue an ingestion of {repository}")


def _queue(repository: Repository, commit_sha: str, trigger: str) -> IngestRun:
    queued = IngestRun.objects.select_for_update().filter(repository=repository, status=IngestRun.Status.QUEUED)
    run = queued.first()
    if run is not None:
        # Ingesting the newer commit covers the older one. A blank sha ("the tip") is at least as new as any.
        if run.commit_sha:
            run.commit_sha = commit_sha
        run.trigger = trigger
        run.save(update_fields=["commit_sha", "trigger"])
        return run
    run = IngestRun.objects.create(repository=repository, commit_sha=commit_sha, trigger=trigger)
    transaction.on_commit(lambda: send(run.id))
    return run


def send(run_id: int) -> None:
    """Hand the run to the broker (if it is down, the run stays queued and `resend_lost` sends it again)."""
    stamp = IngestRun.objects.filter(id=run_id, status=IngestRun.Status.QUEUED)
    queue.send(TASK, run_id, name=f"ingest-{run_id}", group="github-ingest", stamp=stamp)


def run_ingest(run_id: int) -> None:
    """The django-q2 task. Safe to run twice, and for a run that is no longer queued."""
    run = claim(run_id)
    if run is None:
        return
    try:
        ingest.execute(run)
    finally:
        start_next(run.repository_id)


def claim(run_id: int) -> IngestRun | None:
    """Move the run from queued to running, unless another run of its repository is running.

    The repository row lock (PostgreSQL; SQLite's write lock does the same) makes check-and-claim atomic across
    workers; the running run's lease is the lock for the length of the ingestion. A run left queued here is
    started by the running one when it finishes.
    """
    now = timezone.now()
    with transaction.atomic():
        run = IngestRun.objects.select_related("repository__installation").filter(id=run_id).first()
        if run is None or run.status != IngestRun.Status.QUEUED or (run.not_before and run.not_before > now):
            return None  # gone, taken, or waiting out a rate limit (the sweeper sends it when the wait is over)
        Repository.objects.select_for_update().filter(id=run.repository_id).first()
        # A running run whose lease ran out still counts until the sweeper has dealt with it: otherwise a newer run
        # could start now, and the stale one, requeued in place, would ingest its older commit after it.
        busy = IngestRun.objects.filter(repository_id=run.repository_id, status=IngestRun.Status.RUNNING).exists()
        queued = IngestRun.objects.filter(id=run_id, status=IngestRun.Status.QUEUED)
        running = {"status": IngestRun.Status.RUNNING, "started_at": now, "lease_until": now + ingest.LEASE}
        if busy or not queue.claim(queued, not_before=None, attempts=F("attempts") + 1, **running):
            return None
    run.status, run.started_at, run.attempts = IngestRun.Status.RUNNING, now, run.attempts + 1
    return run


def start_next(repository_id: int) -> None:
    """After a run: the repository's queued run (requests that came while it ran) goes to the broker."""
    queue.start_next(IngestRun.objects.filter(repository_id=repository_id, status=IngestRun.Status.QUEUED), send)


# The sweeper ----------------------------------------------------------------------------------------------


def recover_stale() -> int:
    """Runs whose lease ran out lost their worker: back to the queue in place, and sent again (what they wrote
    stays, so they resume); a run whose repository has a newer queued run gives way to it, and a run that stopped
    its worker TASK_MAX_ATTEMPTS times in a row is failed, with the reason on its repository. Returns how many."""
    now = timezone.now()
    stale = IngestRun.objects.filter(status=IngestRun.Status.RUNNING, lease_until__lt=now)
    detail = f"Ingestion {queue.gave_up_detail()}."
    poisoned = queue.recover_stale(
        queue.poisoned(stale),
        then=lambda run: Repository.objects.filter(id=run.repository_id).update(status_detail=detail[:300]),
        status=IngestRun.Status.FAILED,
        finished_at=now,
        lease_until=None,
        error=detail,
    )
    for run in poisoned:  # a queued run waited for this one to stop counting as running
        start_next(run.repository_id)
    requeued = queue.recover_stale(
        stale, status=IngestRun.Status.QUEUED, lease_until=None, error="Requeued: the worker stopped mid-run."
    )
    # Left running only where the one-queued-run index refused: a newer request is queued and covers this one.
    replaced = queue.recover_stale(
        stale,
        status=IngestRun.Status.FAILED,
        finished_at=now,
        lease_until=None,
        error="The worker stopped; a newer queued run replaces this one.",
    )
    for run in requeued:
        send(run.id)
    for run in replaced:  # the newer run waited for this one to stop counting as running
        start_next(run.repository_id)
    return len(poisoned) + len(requeued)


def resend_lost() -> int:
    """Queued runs nobody picked up (the task was lost, or the broker was down), and runs whose wait for GitHub
    is over. Returns how many were sent."""
    lost = queue.lost(IngestRun.objects.filter(status=IngestRun.Status.QUEUED))
    run_ids = list(lost.values_list("id", flat=True))
    for run_id in run_ids:
        send(run_id)
    return len(run_ids)


def sweep() -> dict[str, int]:
    """Every minute (github_sync's schedule): finish what a dead worker or a down broker left behind."""
    return {"stale_ingests": recover_stale() + resend_lost()}


def prune_history() -> dict[str, int]:
    """Daily: forget old deliveries (each holds a whole push payload) and ingestions, so the tables and the admin
    stay small. Nothing unfinished is deleted, nor a failed delivery (staff may process it again), nor each
    repository's latest ingestion and latest successful one (the commit its documents show)."""
    now = timezone.now()
    deliveries = WebhookDelivery.objects.filter(
        received_at__lt=now - timedelta(days=settings.GITHUB_WEBHOOK_RETENTION_DAYS),
        status__in=[WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.IGNORED],
    )
    runs = (
        IngestRun.objects.filter(
            created_at__lt=now - timedelta(days=settings.INGEST_RUN_RETENTION_DAYS),
            status__in=[IngestRun.Status.SUCCEEDED, IngestRun.Status.FAILED],
        )
        .exclude(id__in=_latest_run_ids(IngestRun.objects.all()))
        .exclude(id__in=_latest_run_ids(IngestRun.objects.filter(status=IngestRun.Status.SUCCEEDED)))
    )
    return {
        "deliveries": deliveries.delete()[1].get("github_sync.WebhookDelivery", 0),
        "ingest_runs": runs.delete()[1].get("github_sync.IngestRun", 0),
    }


def _latest_run_ids(runs):
    """The newest of `runs` for each repository, as a subquery (ids grow with time)."""
    return runs.order_by().values("repository_id").annotate(last=Max("id")).values_list("last", flat=True)
