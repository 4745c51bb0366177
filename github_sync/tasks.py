"""Ingestion as background work: one enqueue function for every caller, one task, and the app's two schedules.

push webhook · GitHub connection setup · Confluence sync · admin "Re-ingest"
    └─► enqueue_ingest(repository, sha, trigger=…)   IngestRun(queued); one queued run per repository,
                                                      later requests merge into it (the newest commit wins)
django-q2 ─► run_ingest(run_id)                      claim queued → running under the repository's row lock,
                                                      unless another run of the repository holds the lease
             └─► ingest.ingest(repository, sha)       then start the repository's next queued run, if any
schedule ──► sweep()                                 runs whose worker died or whose task was lost start again
schedule ──► prune_history()                         old deliveries and ingestions are forgotten
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django_q.tasks import async_task

from github_sync.client import GitHubError, GitHubUnavailable, InstallationClient, InstallationGone, RepositoryGone
from github_sync.ingest import ingest
from github_sync.models import IngestRun, Repository, WebhookDelivery

logger = logging.getLogger(__name__)

# A running run whose lease ran out lost its worker; a queued one nobody claimed lost its task (settings.py).
LEASE = timedelta(seconds=settings.INGEST_LEASE_SECONDS)
LOST_AFTER = timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)
# Rate limited or GitHub down: wait this long, then requeue_stale_ingests() starts the run again.
RETRY_AFTER = timedelta(minutes=15)


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
    transaction.on_commit(lambda: start(run))
    return run


def start(run: IngestRun) -> None:
    """Hand the run to the broker. If the broker is down the row stays queued and the sweeper starts it later."""
    try:
        async_task(
            "github_sync.tasks.run_ingest", run.id, task_name=f"ingest-{run.id}", group=f"ingest-{run.repository_id}"
        )
    except Exception:  # the broker's own errors vary (Redis, database); the row is the record of truth
        logger.exception("could not send ingest run %s to the broker; the sweeper will retry", run.id)


def run_ingest(run_id: int) -> None:
    """The django-q2 task. Safe to run twice, and for a run that is no longer queued."""
    run = claim(run_id)
    if run is None:
        return
    started = time.monotonic()
    client = InstallationClient(run.repository.installation.installation_id)
    client.session.on_wait = lambda seconds: extend_lease(run, seconds)
    try:
        result = ingest(run.repository, run.commit_sha or None, run=run, force=run.trigger == "admin", client=client)
    except Exception as error:
        declined = timedelta(seconds=client.stats.declined_wait_seconds)
        if isinstance(error, GitHubUnavailable) and _retry_later(run, error, not_before=declined):
            return
        _fail(run, error, time.monotonic() - started)
        if not isinstance(error, GitHubError):
            raise  # a bug, not GitHub: django-q2 records it too, with the traceback
    else:
        IngestRun.objects.filter(id=run.id).update(
            status=IngestRun.Status.SUCCEEDED,
            finished_at=timezone.now(),
            lease_until=None,
            commit_sha=result.commit_sha,
            added=result.added,
            changed=result.changed,
            removed=result.removed,
            unchanged=result.unchanged,
            skipped=sum(result.skipped.values()),
            skipped_by_reason=dict(result.skipped),
            blobs_fetched=result.blobs_fetched,
            bytes_fetched=result.bytes_fetched,
            github_requests=result.github_requests,
            duration_seconds=time.monotonic() - started,
            error="",
        )
        Repository.objects.filter(id=run.repository_id).exclude(status_detail="").update(status_detail="")
    finally:
        start_next(run.repository_id)


def extend_lease(run: IngestRun, seconds: float) -> None:
    """Before a retry wait: keep the lease past the wait, so the sweeper does not hand the run to a second worker
    while this one sleeps on a rate limit."""
    until = timezone.now() + timedelta(seconds=seconds) + LEASE
    IngestRun.objects.filter(id=run.id, status=IngestRun.Status.RUNNING).update(lease_until=until)


def claim(run_id: int) -> IngestRun | None:
    """Move the run from queued to running, unless another run of its repository is running.

    The repository row lock (PostgreSQL; SQLite's write lock does the same) makes check-and-claim atomic across
    workers; the running run's lease is the lock for the length of the ingestion. A run left queued here is
    started by the running one when it finishes.
    """
    now = timezone.now()
    with transaction.atomic():
        run = IngestRun.objects.select_related("repository__installation").filter(id=run_id).first()
        if run is None or run.status != IngestRun.Status.QUEUED or (run.lease_until and run.lease_until > now):
            return None  # gone, taken, or waiting out a rate limit
        Repository.objects.select_for_update().filter(id=run.repository_id).first()
        busy = IngestRun.objects.filter(
            repository_id=run.repository_id, status=IngestRun.Status.RUNNING, lease_until__gt=now
        ).exists()
        if busy:
            return None
        claimed = IngestRun.objects.filter(id=run_id, status=IngestRun.Status.QUEUED).update(
            status=IngestRun.Status.RUNNING, started_at=now, lease_until=now + LEASE
        )
    if not claimed:
        return None
    run.status, run.started_at = IngestRun.Status.RUNNING, now
    return run


def start_next(repository_id: int) -> None:
    run = IngestRun.objects.filter(repository_id=repository_id, status=IngestRun.Status.QUEUED).first()
    if run is not None:
        transaction.on_commit(lambda: start(run))


def _fail(run: IngestRun, error: Exception, seconds: float) -> None:
    logger.warning("ingest run %s of %s failed: %s", run.id, run.repository, error)
    IngestRun.objects.filter(id=run.id).update(
        status=IngestRun.Status.FAILED,
        finished_at=timezone.now(),
        lease_until=None,
        duration_seconds=seconds,
        error=f"{type(error).__name__}: {error}"[:2000],
    )
    if isinstance(error, InstallationGone | RepositoryGone):
        detail = "The ctx| GitHub App can no longer read this repository."
        Repository.objects.filter(id=run.repository_id).update(status_detail=detail)


def _retry_later(run: IngestRun, error: Exception, *, not_before: timedelta = timedelta(0)) -> bool:
    """Queue the run again after RETRY_AFTER, or as long as GitHub asked when that is longer (the worker does not
    sleep through a long rate limit). What it wrote stays, so the next attempt resumes, not restarts."""
    with transaction.atomic():
        if IngestRun.objects.filter(repository_id=run.repository_id, status=IngestRun.Status.QUEUED).exists():
            return False  # a newer queued run resumes from here anyway
        when = timezone.now() + max(RETRY_AFTER, not_before)
        IngestRun.objects.filter(id=run.id).update(
            status=IngestRun.Status.QUEUED, lease_until=when, error=f"{error} Trying again after {when:%H:%M} UTC."
        )
    logger.info("ingest run %s of %s waits for GitHub: %s", run.id, run.repository, error)
    return True


def requeue_stale_ingests() -> int:
    """Put runs whose worker died back in the queue; start queued runs whose task was lost or whose wait for
    GitHub (rate limit, outage) is over.

    Meant for a django-q2 schedule every few minutes. Returns how many runs were started again.
    """
    now = timezone.now()
    restarted = 0
    for run in IngestRun.objects.filter(status=IngestRun.Status.RUNNING, lease_until__lt=now):
        with transaction.atomic():
            if IngestRun.objects.filter(repository_id=run.repository_id, status=IngestRun.Status.QUEUED).exists():
                # A newer request is already queued and covers this one.
                IngestRun.objects.filter(id=run.id, status=IngestRun.Status.RUNNING).update(
                    status=IngestRun.Status.FAILED,
                    finished_at=now,
                    lease_until=None,
                    error="The worker stopped; a newer queued run replaces this one.",
                )
                continue
            IngestRun.objects.filter(id=run.id, status=IngestRun.Status.RUNNING).update(
                status=IngestRun.Status.QUEUED, lease_until=None, error="Requeued: the worker stopped mid-run."
            )
    for run in IngestRun.objects.filter(status=IngestRun.Status.QUEUED):
        waiting = run.lease_until and run.lease_until > now
        recent = run.created_at > now - LOST_AFTER and not run.error
        if waiting or recent:
            continue
        start(run)
        restarted += 1
    return restarted


def sweep() -> dict[str, int]:
    """Every minute (github_sync's schedule): finish what a dead worker or a down broker left behind."""
    return {"stale_ingests": requeue_stale_ingests()}


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
