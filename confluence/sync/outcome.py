"""How a run ended, recorded on its SyncRun row and the connection; when a failed run is tried again; which
warnings of the last successful run a run carries over."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import schedule

from confluence.models import SyncRun
from confluence.setup.status import update_status
from confluence.sync.index import Index
from confluence.sync.job import Job
from connectors.models import Connection
from github_sync.commit import CommitResult
from github_sync.models import Repository

logger = logging.getLogger(__name__)


def finish(run: SyncRun, job: Job | None, *, result: CommitResult | None = None, error_kind: str = "", error: str = ""):
    run.status = SyncRun.Status.FAILED if error_kind else SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.error_kind, run.error = error_kind, error[:2000]
    if job is not None:
        run.counts = job.counts
        run.warnings = job.warnings[: SyncRun.MAX_WARNINGS]
        run.restricted_skipped = [{"id": pid, "title": title} for pid, title in job.restricted.items()]
        copy_stats(run, job)
    if result is not None and result.sha:
        run.commit_sha = result.sha
        run.commit_url = f"{job.repository.html_url}/commit/{result.sha}" if job.repository.html_url else ""
    if not error_kind:
        run.progress_done = run.progress_total
    # Only while still running: a run the sweeper gave up on meanwhile keeps the sweeper's record.
    fields = {f.attname: getattr(run, f.attname) for f in SyncRun._meta.concrete_fields if not f.primary_key}
    if not SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(**fields):
        logger.warning("sync run %s was given up as stale meanwhile; its outcome is the recovery run's", run.pk)
        return
    connection = run.connection
    if error_kind == SyncRun.ErrorKind.PERMANENT and connection.status != Connection.Status.ATTENTION:
        connection.set_status(Connection.Status.ERROR, f"The last sync failed: {error}")
    elif not error_kind and connection.status == Connection.Status.ERROR:
        update_status(connection)
    logger.info("sync run %s of connection %s: %s %s", run.pk, connection.pk, run.status, error or run.counts)


def copy_stats(run: SyncRun, job: Job) -> None:
    confluence, github = job.confluence.stats, job.github.stats
    run.confluence_requests = confluence.requests
    run.github_requests = github.requests
    run.github_write_requests = github.write_requests
    run.retries = confluence.retries + github.retries
    run.rate_limit_waits = confluence.rate_limited + github.rate_limited
    run.waited_seconds = round(confluence.waited_seconds + github.waited_seconds, 3)


def mark_repository_unreachable(job: Job | None) -> None:
    if job is None:
        return
    Repository.objects.filter(pk=job.repository.pk).update(accessible=False)
    update_status(job.connection)


def declined_wait(job: Job | None) -> float:
    """How long a service asked the run to wait that it did not sleep (0 when none did)."""
    if job is None:
        return 0.0
    return max(job.confluence.stats.declined_wait_seconds, job.github.stats.declined_wait_seconds)


def schedule_retry(run: SyncRun, *, not_before: float = 0.0) -> None:
    """Try again later, waiting longer after each consecutive temporary failure (2, 4, 8 … 60 minutes), and at
    least as long as a service asked (`not_before` seconds): the worker does not sleep through a long rate limit."""
    recent = SyncRun.objects.filter(connection=run.connection).order_by("-created_at")[:6]
    failures = 0
    for past in recent:
        if past.error_kind != SyncRun.ErrorKind.TRANSIENT:
            break
        failures += 1
    delay = max(min(60, 2**failures), not_before / 60)
    schedule(
        "confluence.tasks.retry_sync",
        run.connection_id,
        run.page_ids,
        run.full,
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() + timedelta(minutes=delay),
        name=f"retry-sync-{run.pk}",
    )


def carried_warnings(run: SyncRun, *, judged: set[str], placed: dict, new_index: Index) -> list[dict]:
    """The last successful run's warnings about pages this run did not render: their cause persists. A page that
    left the scope or was removed takes its warnings with it."""
    last = (
        SyncRun.objects.filter(connection_id=run.connection_id, status=SyncRun.Status.SUCCEEDED)
        .exclude(pk=run.pk)
        .order_by("-created_at", "-id")
        .only("warnings")
        .first()
    )
    named = set(run.page_ids or [])

    def persists(warning: dict) -> bool:
        pid = warning.get("page_id")
        if pid in judged:
            return False
        if pid in new_index.pages:
            return True
        # A targeted run sees only the pages it was told about and those the repository holds.
        return run.is_targeted and pid not in placed and pid not in named

    return [w for w in (last.warnings if last else []) if persists(w)]
