"""Bring a repository's documents in line with one commit: the ingestion path every repository-backed source uses.

    tree at the commit (`InstallationClient.list_files`: vendored directories are not walked when it is split)
      → keep text files, skip binary / vendored / generated / oversized ones (counted)
      → compare blob shas with the stored documents
      → fetch only new or changed blobs (`fetch`: stored texts reused, the archive when cheaper, else one by one)
      → write documents and their sections, delete documents whose paths are gone, update the search index
      → note files whose front matter was refused (too large, YAML aliases, malformed): ingested without
        metadata, listed in the run's warnings for staff

Running it twice for the same commit changes nothing and fetches nothing. Callers go through
`tasks.enqueue_ingest`, which makes sure only one ingestion runs per repository at a time; `execute` does one
claimed run and records how it ended on its IngestRun, as `confluence.sync.engine` does for a sync run.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field, fields
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors import queue
from github_sync import fetch, file_types, search
from github_sync.client import InstallationClient, TreeEntry
from github_sync.errors import GitHubError, GitHubUnavailable, InstallationGone, RepositoryGone
from github_sync.front_matter import FrontMatterLimits
from github_sync.models import Document, IngestRun, Repository, Section
from github_sync.sections import parse_document

logger = logging.getLogger(__name__)

BATCH = 250  # documents per write transaction: short enough that a web request never waits long on SQLite
# A running run's lock on its repository: past it, its worker is presumed dead and the sweeper requeues the run.
LEASE = timedelta(seconds=settings.INGEST_LEASE_SECONDS)
# Rate limited or GitHub down: the run waits in the queue this long (or as long as GitHub asked), then resumes.
RETRY_AFTER = timedelta(minutes=15)


@dataclass
class IngestResult:
    commit_sha: str = ""
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: Counter = field(default_factory=Counter)
    blobs_fetched: int = 0
    bytes_fetched: int = 0
    github_requests: int = 0
    warnings: list[dict] = field(default_factory=list)  # {"path", "reason"}, at most IngestRun.MAX_WARNINGS

    def counts(self) -> dict:
        """What the run's row shows of the result, named as its columns are: so far while the run goes on, in full
        once it ends (the commit is written only then: a run handed back must still look for the branch's tip)."""
        counts = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "commit_sha"}
        counts["skipped"] = sum(self.skipped.values())
        counts["skipped_by_reason"] = dict(self.skipped)
        return counts


def ingest(run: IngestRun, client: InstallationClient) -> IngestResult:
    """Make the stored documents of the run's repository match its commit (none named: the tip of the default
    branch).

    A commit already ingested completely is not read again unless staff asked ("Re-ingest" checks it all).
    """
    repository = run.repository
    # A retried run keeps what its earlier attempt noted: the files written then are unchanged now.
    result = IngestResult(warnings=list(run.warnings))
    commit_sha = run.commit_sha or _branch_tip(client, repository)
    result.commit_sha = commit_sha
    if commit_sha and commit_sha == repository.ingested_sha and run.trigger != "admin":
        result.unchanged = Document.objects.filter(repository=repository).count()
        result.github_requests = client.stats.requests
        return result
    _ingest_commit(repository, commit_sha, client=client, run=run, result=result)
    result.github_requests = client.stats.requests
    return result


def _ingest_commit(repository: Repository, commit_sha: str, *, client, run, result: IngestResult) -> None:
    tree = client.list_files(repository.full_name, commit_sha, descend=file_types.worth_walking) if commit_sha else []
    wanted = fetch.select(tree, result)
    stored = dict(Document.objects.filter(repository=repository).values_list("path", "blob_sha"))
    gone = [path for path in stored if path not in wanted]
    todo = [e for path, e in wanted.items() if stored.get(path) != e.sha]
    result.unchanged = len(wanted) - len(todo)
    reusable = fetch.stored_texts(repository, {e.sha for e in todo})  # before deleting: a renamed file's old row
    with transaction.atomic():
        _delete(repository, gone)
    result.removed = len(gone)
    contents = fetch.contents(
        client, repository.full_name, commit_sha, todo, tree=tree, reusable=reusable, result=result
    )
    with closing(contents):  # an error while writing closes the archive download at once
        _write_batches(repository, commit_sha, contents, stored=stored, run=run, result=result)
    # Unchanged documents are as true at this commit as at the one they were read at.
    Document.objects.filter(repository=repository).exclude(commit_sha=commit_sha).update(commit_sha=commit_sha)
    Repository.objects.filter(id=repository.id).update(ingested_sha=commit_sha, ingested_at=timezone.now())


def _branch_tip(client: InstallationClient, repository: Repository) -> str:
    """The commit at the tip of the default branch, asking GitHub which branch that is ("" when empty)."""
    info = client.get_repository(repository.full_name)
    if (info.default_branch, info.full_name) != (repository.default_branch, repository.full_name):
        Repository.objects.filter(id=repository.id).update(default_branch=info.default_branch, full_name=info.full_name)
        repository.default_branch, repository.full_name = info.default_branch, info.full_name
    head = client.branch_head(repository.full_name, repository.default_branch)
    return head[0] if head else ""


def _write_batches(repository, commit_sha: str, contents: Iterator, *, stored: dict, run, result) -> None:
    while files := list(itertools.islice(contents, BATCH)):
        # A stored file that is no longer text (or grew too large) must not stay searchable in its old form.
        unreadable = [e.path for e, text in files if text is None and e.path in stored]
        with transaction.atomic():
            _delete(repository, unreadable)
            _write(repository, commit_sha, [(e, text) for e, text in files if text is not None], stored, result)
        result.removed += len(unreadable)
        _progress(run, result)


def _write(repository, commit_sha: str, files: list[tuple[TreeEntry, str]], stored: dict, result) -> None:
    now = timezone.now()
    paths = [e.path for e, _ in files if e.path in stored]
    existing = {d.path: d for d in Document.objects.filter(repository=repository, path__in=paths)}
    search.unindex_documents([d.id for d in existing.values()])
    Section.objects.filter(document__in=existing.values()).delete()
    documents, sections = [], []
    limits = front_matter_limits()
    for entry, text in files:
        parsed = parse_document(entry.path, text, limits)
        if parsed.warning:
            _warn(result, entry.path, parsed.warning)
        document = existing.get(entry.path) or Document(repository=repository, path=entry.path)
        document.blob_sha, document.text, document.size = entry.sha, text, len(text.encode())
        document.title, document.metadata, document.source_url = parsed.title, parsed.metadata, parsed.source_url
        document.commit_sha, document.updated_at = commit_sha, now
        documents.append((document, parsed))
    new = [d for d, _ in documents if d.pk is None]
    changed = [d for d, _ in documents if d.pk is not None]
    Document.objects.bulk_create(new)  # sets the new ids (PostgreSQL, SQLite ≥ 3.35): the sections need them
    Document.objects.bulk_update(
        changed, ["blob_sha", "title", "text", "metadata", "commit_sha", "source_url", "size", "updated_at"]
    )
    for document, parsed in documents:
        sections += [
            Section(
                document=document,
                position=position,
                heading=s.heading[:500],
                heading_path=s.heading_path,
                anchor=s.anchor[:500],
                text=s.text,
            )
            for position, s in enumerate(parsed.sections)
        ]
    Section.objects.bulk_create(sections, batch_size=500)
    search.index_documents([d.id for d, _ in documents])
    result.added += len(new)
    result.changed += len(changed)


def front_matter_limits() -> FrontMatterLimits:
    """The configured caps, read at each batch rather than at import so settings overrides apply."""
    return FrontMatterLimits(
        max_bytes=settings.FRONT_MATTER_MAX_BYTES, max_metadata_bytes=settings.DOCUMENT_METADATA_MAX_BYTES
    )


def _warn(result: IngestResult, path: str, reason: str) -> None:
    # Capped: a repository of thousands of bad files must not make the run row itself huge.
    if len(result.warnings) < IngestRun.MAX_WARNINGS:
        result.warnings.append({"path": path, "reason": reason})


def _delete(repository: Repository, paths: list[str]) -> None:
    for start in range(0, len(paths), 500):
        rows = Document.objects.filter(repository=repository, path__in=paths[start : start + 500])
        ids = list(rows.values_list("id", flat=True))
        search.unindex_documents(ids)
        Document.objects.filter(id__in=ids).delete()


def drop_documents(repository: Repository) -> int:
    """Forget everything ingested from the repository (no connection uses it any more)."""
    ids = list(Document.objects.filter(repository=repository).values_list("id", flat=True))
    with transaction.atomic():
        search.unindex_documents(ids)
        Document.objects.filter(id__in=ids).delete()
        Repository.objects.filter(id=repository.id).update(ingested_sha="", ingested_at=None)
    return len(ids)


def _progress(run: IngestRun, result: IngestResult) -> None:
    """Counts so far on the run row, so staff watching a first ingest of a big repository see it move."""
    IngestRun.objects.filter(id=run.id).update(**result.counts())


# One run, start to finish ------------------------------------------------------------------------------------


def execute(run: IngestRun) -> None:
    """Do one claimed run and record how it ended: its counts, a wait for GitHub, or its error."""
    started = time.monotonic()
    client = InstallationClient(run.repository.installation.installation_id)
    client.session.on_wait = lambda seconds: extend_lease(run, seconds)
    try:
        result = ingest(run, client)
    except Exception as error:
        declined = timedelta(seconds=client.stats.declined_wait_seconds)
        if isinstance(error, GitHubUnavailable) and wait_for_github(run, error, not_before=declined):
            return
        fail(run, error, time.monotonic() - started)
        if not isinstance(error, GitHubError):
            raise  # a bug, not GitHub: django-q2 records it too, with the traceback
    else:
        succeed(run, result, time.monotonic() - started)


def succeed(run: IngestRun, result: IngestResult, seconds: float) -> None:
    IngestRun.objects.filter(id=run.id).update(
        **result.counts(),
        commit_sha=result.commit_sha,
        status=IngestRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        lease_until=None,
        duration_seconds=seconds,
        error="",
    )
    Repository.objects.filter(id=run.repository_id).exclude(status_detail="").update(status_detail="")


def fail(run: IngestRun, error: Exception, seconds: float) -> None:
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


def wait_for_github(run: IngestRun, error: Exception, *, not_before: timedelta = timedelta(0)) -> bool:
    """Hand the run back to the queue, not before RETRY_AFTER or as long as GitHub asked when that is longer (the
    worker does not sleep through a long rate limit). What it wrote stays, so the next attempt resumes. False when
    a newer queued run exists: that one resumes from here."""
    when = timezone.now() + max(RETRY_AFTER, not_before)
    running = IngestRun.objects.filter(id=run.id, status=IngestRun.Status.RUNNING)
    detail = f"{error} Trying again after {when:%H:%M} UTC."
    if not queue.hand_back(running, not_before=when, status=IngestRun.Status.QUEUED, lease_until=None, error=detail):
        return False
    logger.info("ingest run %s of %s waits for GitHub: %s", run.id, run.repository, error)
    return True


def extend_lease(run: IngestRun, seconds: float) -> None:
    """Before a retry wait: keep the lease past the wait, so the sweeper does not hand the run to a second worker
    while this one sleeps on a rate limit."""
    until = timezone.now() + timedelta(seconds=seconds) + LEASE
    queue.heartbeat(IngestRun.objects.filter(id=run.id, status=IngestRun.Status.RUNNING), lease_until=until)
