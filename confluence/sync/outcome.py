"""How a run ended, recorded on its SyncRun row and the connection; how long a run waits in the queue when a
service is down or rate limiting; which warnings of the last successful run a run carries over."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from confluence.models import SyncRun
from confluence.setup.status import update_status
from confluence.sync.index import Index
from confluence.sync.job import Job
from confluence.sync.queue import defer_to_queued, hand_back
from connectors.models import Connection
from github_sync.commit import CommitResult
from github_sync.models import Repository

logger = logging.getLogger(__name__)

# The shortest and longest a run waits in the queue after Confluence or GitHub failed it (a service asking for
# longer still gets its wait: connectors.http caps that at an hour).
MIN_RETRY_DELAY, MAX_RETRY_DELAY = timedelta(minutes=2), timedelta(hours=1)


def finish(
    run: SyncRun, job: Job | None, *, result: CommitResult | None = None, error_kind: str = "", error: str = ""
) -> bool:
    """Record how the run ended; False when the sweeper gave it up meanwhile (its recovery run records that)."""
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
        return False
    connection = run.connection
    if error_kind == SyncRun.ErrorKind.PERMANENT:
        connection.report_failure(f"The last sync failed: {error}")
    elif not error_kind and connection.status in (Connection.Status.ERROR, Connection.Status.ATTENTION):
        update_status(connection)  # a problem the run found gone (the repository private again) leaves the card
    logger.info("sync run %s of connection %s: %s %s", run.pk, connection.pk, run.status, error or run.counts)
    return True


def copy_stats(run: SyncRun, job: Job) -> None:
    confluence, github = job.confluence.stats, job.github.stats
    run.confluence_requests = confluence.requests
    run.github_requests = github.requests
    run.github_write_requests = github.write_requests
    run.retries = confluence.retries + github.retries
    run.rate_limit_waits = confluence.rate_limited + github.rate_limited
    run.waited_seconds = round(confluence.waited_seconds + github.waited_seconds, 3)


def refuse(run: SyncRun, job: Job | None, error: Exception) -> None:
    """The repository takes no writes now (confluence.sync.state.TargetRefused): the card names the problem and
    its fix; the run fails with nothing written."""
    update_status(run.connection)
    finish(run, job, error_kind=SyncRun.ErrorKind.PERMANENT, error=str(error))


def mark_repository_unreachable(job: Job | None) -> None:
    if job is None:
        return
    Repository.objects.filter(pk=job.repository.pk).update(accessible=False)
    update_status(job.connection)


def wait_in_queue(run: SyncRun, job: Job | None, error: Exception) -> None:
    """Confluence or GitHub is down or rate limiting: the run goes back to the queue, not before `retry_delay`
    (the worker sleeps through none of it), and resumes from what the repository holds. When the connection has
    a queued run already, this run ends failed (temporary) and that one takes over its pages and its wait."""
    when = timezone.now() + retry_delay(run, declined=declined_wait(job))
    if hand_back(run, not_before=when, error=f"{error} Trying again after {when:%H:%M} UTC."):
        logger.info("sync run %s waits in the queue until %s: %s", run.pk, when, error)
        return
    with transaction.atomic():
        detail = f"{error} The queued run takes over its work after {when:%H:%M} UTC."
        if finish(run, job, error_kind=SyncRun.ErrorKind.TRANSIENT, error=detail):
            defer_to_queued(run, not_before=when)


def retry_delay(run: SyncRun, *, declined: float = 0.0) -> timedelta:
    """At least as long as a service asked (`declined` seconds), and the longer the work has waited already: as
    long as since it was requested, from 2 minutes to an hour (so about doubling at each wait)."""
    waited = timezone.now() - run.created_at
    return max(min(max(waited, MIN_RETRY_DELAY), MAX_RETRY_DELAY), timedelta(seconds=declined))


def declined_wait(job: Job | None) -> float:
    """How long a service asked the run to wait that it did not sleep (0 when none did)."""
    if job is None:
        return 0.0
    return max(job.confluence.stats.declined_wait_seconds, job.github.stats.declined_wait_seconds)


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
