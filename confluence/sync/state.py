"""What the repository holds, as the run starts from it, and what the run records of it (SyncState).

Our own record describes the branch's head when nobody else pushed since; otherwise the repository's own index file
is read and every file it names checked (someone may have edited or deleted ours), after making sure the repository
behind the name is still the one the connection chose, and that it may still take the connection's pages.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from confluence.models import SyncState, SyncTarget
from confluence.setup.readiness import write_refusal
from confluence.setup.status import update_status
from confluence.sync.index import INDEX_PATH, SCOPE_PATH, Index, parse_index
from confluence.sync.job import Job
from github_sync.commit import CommitResult, current_blobs
from github_sync.errors import RepositoryGone
from github_sync.models import Repository

logger = logging.getLogger(__name__)


class TargetRefused(Exception):
    """The repository takes no writes now (archived, or made public without a confirmation): nothing written."""


def refuse_unless_writable(target: SyncTarget) -> None:
    """The repository, as we last heard of it, may take this connection's pages."""
    refusal = write_refusal(target)
    if refusal is not None:
        raise TargetRefused(refusal.message)


def check_writable(job: Job) -> None:
    """Before the run reads anything. A refusal is confirmed with GitHub first (one request, only then): our row
    may be stricter than the repository, after a delivery we did not believe (made private, unarchived)."""
    lapse_if_private(job)  # the installation's listing may have seen it private
    if write_refusal(job.target) is not None:
        ensure_same_repository(job)
        refuse_unless_writable(job.target)


def load_index(job: Job, head: tuple[str, str] | None) -> tuple[Index, dict[str, str] | None, frozenset[str]]:
    """What the repository holds: our saved state when it describes the branch's head, else the repository's
    own index file (a restored backup, an outside push, a run that died after its commit); and the pages whose
    files someone changed since (Index.as_found)."""
    state = SyncState.objects.filter(connection=job.connection).first()
    saved = state is not None and bool(state.index_file)
    trusted = saved and head is not None and state.commit_sha == head[0]
    # We wrote here before and the branch moved since (or is gone), or our last run left its state untrusted; and
    # every run over the whole scope, and any run once our last read is old, so that a webhook we missed (renamed,
    # made public, archived) is caught within SYNC_REPOSITORY_CHECK_MINUTES even when nobody pushed.
    if (saved and not trusted) or not job.run.is_targeted or check_due(job.repository):
        ensure_same_repository(job)
    if trusted:
        index = parse_index(state.index_file.encode())
        return index, {**index.paths(), **state.ctx_blobs}, frozenset()
    if head is None:
        return Index(), {}, frozenset()
    index = read_index(job.github.get_file(job.repository.full_name, INDEX_PATH, ref=head[0]))
    # The index file can name files the tree lacks or holds otherwise: a first run killed after the writer's
    # bootstrap commit (which holds one small file) and before its own, someone editing or deleting pages by hand.
    blobs = current_blobs(job.github, job.repository.full_name, head[1], [*index.paths(), SCOPE_PATH, INDEX_PATH])
    found, touched = index.as_found(blobs)
    # A changed file is ours to write back or remove only if our own record of the last run names it: an index file
    # edited, or copied from elsewhere, must not make a sync delete someone's file under confluence/.
    recorded = read_index(state.index_file.encode()).paths() if state is not None else {}
    claimed = {pid for pid in touched if found.pages[pid].path not in recorded}
    found.pages = {pid: entry for pid, entry in found.pages.items() if pid not in claimed}
    return found, blobs, touched - claimed


def check_due(repository: Repository) -> bool:
    last = repository.checked_at
    return last is None or timezone.now() - last > timedelta(minutes=settings.SYNC_REPOSITORY_CHECK_MINUTES)


def ensure_same_repository(job: Job) -> None:
    """The repository under the chosen name is the one the connection chose: renamed away and another created
    under the old name, it is not, and writing there would give it a second writer (one request). The same answer
    says whether it is public or archived now."""
    if job.repository_read:
        return
    found = job.github.get_repository(job.repository.full_name)
    job.repository_read = True
    if found.github_id != job.repository.github_id:
        raise RepositoryGone(
            f"{job.repository.full_name} on GitHub is not the repository this connection chose (it was renamed or "
            "replaced); nothing written. Choose the repository again in the connection's setup."
        )
    # What GitHub says now is fresher than any webhook we may have missed: made public or archived meanwhile?
    repository = job.repository
    changed = (found.private, found.archived) != (repository.private, repository.archived)
    repository.private, repository.archived, repository.checked_at = found.private, found.archived, timezone.now()
    Repository.objects.filter(pk=repository.pk).update(
        private=repository.private, archived=repository.archived, checked_at=repository.checked_at
    )
    lapse_if_private(job)
    if changed:
        update_status(job.connection)  # the card says what GitHub says now
        refuse_unless_writable(job.target)


def lapse_if_private(job: Job) -> None:
    """A repository we see private holds no confirmation that synced pages will be public (SyncTarget)."""
    target = job.target
    if job.repository.private and target.public_confirmed_at is not None:
        SyncTarget.withdraw_public_confirmations(job.repository)
        target.public_confirmed_by, target.public_confirmed_at = None, None


def read_index(content: bytes | None) -> Index:
    """The repository's index file; one nobody can read (invalid JSON, edited by hand) counts as missing: the run
    writes every selected page again and a new index, and removes nothing it cannot name."""
    if not content:
        return Index()
    try:
        return parse_index(content)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        logger.warning("unreadable %s, read as missing: %s", INDEX_PATH, error)
        return Index()


def save_state(job: Job, index: Index, result: CommitResult, files: dict, *, trusted: bool) -> None:
    commit = (result.sha or result.base_sha or "") if trusted else ""
    SyncState.objects.update_or_create(
        connection=job.connection,
        defaults={
            "index_file": files[INDEX_PATH].decode(),
            "page_count": len(index.pages),
            "commit_sha": commit,
            "ctx_blobs": {path: result.blob_shas[path] for path in (SCOPE_PATH, INDEX_PATH)},
            "restricted_pages": restricted_pages(job),
        },
    )


def restricted_pages(job: Job) -> dict[str, str]:
    """The selected pages left out as restricted, as this run leaves them: a run over the whole scope knows them
    all; a targeted run updates the pages it read."""
    if job.judged is None:
        return dict(job.restricted)
    state = SyncState.objects.filter(connection=job.connection).first()
    before = state.restricted_pages if state else {}
    return {pid: title for pid, title in before.items() if pid not in job.judged} | job.restricted
