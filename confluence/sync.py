"""The sync engine: selected Confluence pages → one commit in the GitHub repository → ingestion.

    read     the scope's spaces with bulk listings (bodies only where needed), or just the pages a Forge event named
    plan     what the repository holds (the index) vs what the scope selects now: adds, updates, moves, removes
    convert  storage XHTML → Markdown with front matter, links resolved between synced pages
    write    ONE commit through github_sync: scope file + index + pages + attachments
    ingest   github_sync.tasks.enqueue_ingest(repository, commit): the path every repository-backed source takes

`execute(run)` does one run and records how it ended; it is safe to run again after a crash at any point,
because the repository (its index file and its tree) is the record of what was written.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import schedule

from confluence import privacy, reading
from confluence.auth import RECONNECT_DETAIL, client_for
from confluence.client import AuthRevoked, ConfluenceError, ConfluenceUnavailable
from confluence.convert import CONVERTER_VERSION
from confluence.index import INDEX_PATH, SCOPE_PATH, Index, PageEntry, parse_index, render_scope
from confluence.job import Job
from confluence.models import AtlassianSite, RunSuperseded, SyncRun, SyncScope, SyncState, SyncTarget
from confluence.plan import Desired, Plan, make_plan, place
from confluence.setup import update_status
from confluence.sync_queue import claim, start_follow_up
from confluence.writing import pages_with_renamed_people, render_files
from connectors.models import Connection
from github_sync.client import (
    GitHubError,
    GitHubUnavailable,
    InputTooLarge,
    InstallationClient,
    InstallationGone,
    RepositoryGone,
)
from github_sync.commit import CommitConflict, CommitResult, commit_files, current_blobs, git_blob_sha
from github_sync.models import Repository
from github_sync.tasks import enqueue_ingest

logger = logging.getLogger(__name__)


class SetupIncomplete(Exception):
    """The connection lacks a site, a repository or a scope: nothing to sync yet."""


class TargetChanged(Exception):
    """The connection's repository changed while the run was writing: nothing was written; the retry writes to the
    new one (another connection may already write to the old)."""


def prepare(run: SyncRun) -> Job:
    connection = run.connection
    site = AtlassianSite.objects.filter(connection=connection).first()
    target = SyncTarget.objects.filter(connection=connection).select_related("repository__installation").first()
    scope = SyncScope.objects.filter(connection=connection).first()
    if site is None or target is None or scope is None:
        raise SetupIncomplete("Finish the connection's setup (site, repository and scope) before syncing.")
    repository = target.repository
    job = Job(
        run=run,
        connection=connection,
        site=site,
        repository=repository,
        scope=scope,
        confluence=client_for(site),
        github=InstallationClient(repository.installation.installation_id),
    )
    job.confluence.session.on_wait = job.github.session.on_wait = lambda seconds: run.heartbeat()
    return job


def sync(job: Job) -> CommitResult | None:
    """The whole data flow for one run; returns the commit (None when there was nothing to write)."""
    repo = job.repository
    head = job.github.branch_head(repo.full_name, repo.default_branch)
    index, known_blobs = load_index(job, head)
    read = reading.read(job.run, job.confluence, job.scope, index)
    job.restricted, job.judged = read.restricted, read.judged
    desired, plan = plan_with_bodies(job, index, read)
    bodies, unsynced = read.bodies, read.unsynced
    job.run.record_progress(total=len(plan.to_render), done=0)
    files, new_index, attachment_count = render_files(job, plan, desired, bodies, index)
    new_index.unsynced = unsynced
    files[SCOPE_PATH] = render_scope(site=site_summary(job.site), scope=scope_summary(job.scope))
    files[INDEX_PATH] = new_index.render()
    changes = Changes.of(
        plan, desired=desired, index=index, new_index=new_index, changed=changed_paths(files, known_blobs)
    )
    job.counts = {"seen": len(desired), **changes.counts(), "attachments": attachment_count}
    job.run.heartbeat()
    result = commit_files(
        job.github,
        full_name=repo.full_name,
        branch=repo.default_branch,
        files=files,
        message=commit_message(changes),
        known_blobs=known_blobs,
        head=head,
        # Fencing: a run the sweeper gave up on must not move the branch under the recovery run.
        before_ref_update=lambda: still_the_target(job),
    )
    save_state(job, new_index, result, files)
    if result.sha:
        enqueue_ingest(repo, result.sha, trigger="confluence")
    return result


def still_the_target(job: Job) -> None:
    """Right before the branch moves: the run still holds its lease (fencing against a recovery run), and the
    repository is still this connection's (the wizard or staff may have moved it meanwhile)."""
    job.run.heartbeat()
    if not SyncTarget.objects.filter(connection=job.connection, repository=job.repository).exists():
        raise TargetChanged(f"The connection's repository is no longer {job.repository.full_name}; nothing written.")


def load_index(job: Job, head: tuple[str, str] | None) -> tuple[Index, dict[str, str] | None]:
    """What the repository holds: our saved state when it describes the branch's head, else the repository's
    own index file (a restored backup, an outside push, a run that died after its commit)."""
    if head is None:
        return Index(), {}
    state = SyncState.objects.filter(connection=job.connection).first()
    if state is not None and state.commit_sha == head[0] and state.index_file:
        index = parse_index(state.index_file.encode())
        return index, {**index.paths(), **state.ctx_blobs}
    content = job.github.get_file(job.repository.full_name, INDEX_PATH, ref=head[0])
    index = parse_index(content) if content else Index()
    # The index file can name files the tree lacks: a first run killed after the writer's bootstrap commit (which
    # holds one small file) and before its own, or someone deleting pages by hand. Trust only what the tree holds.
    blobs = current_blobs(job.github, job.repository.full_name, head[1], [*index.paths(), SCOPE_PATH, INDEX_PATH])
    return index.confirmed_by(blobs), blobs


def plan_with_bodies(job: Job, index: Index, read: reading.Reading) -> tuple[dict, Plan]:
    """Plan, then fetch the bodies of pages to render that the listing did not carry (250 per request).
    A page deleted in between is treated as removed, which may re-plan its siblings once more."""
    named = showing_files_of(index, pages_named(job.run)) | read.attachments_changed
    # Pages that still show a person whose account was closed are rendered again whatever run comes first.
    named |= privacy.pages_mentioning_closed_accounts(index)
    if not job.run.is_targeted:
        # People whose cached names expired are looked up again; the pages showing a changed name are rendered again.
        named |= pages_with_renamed_people(job, index)
    world, bodies, unsynced = read.world, read.bodies, read.unsynced
    for _ in range(4):
        desired = place(world, unsynced)
        plan = make_plan(index, desired, converter_version=CONVERTER_VERSION, full=job.run.full, named=named)
        missing = [pid for pid in plan.to_render if pid not in bodies]
        if not missing:
            return desired, plan
        bodies.update(reading.fetch_bodies(job.confluence, missing))
        world = {pid: page for pid, page in world.items() if pid not in missing or pid in bodies}
    raise reading.ConfluenceUnavailable("Confluence kept changing while the run read it; trying again later.")


def pages_named(run: SyncRun) -> frozenset[str]:
    """Pages rendered again whatever their version says: those the run targets, and those its Forge events named
    (an attachment or label event queued into a run over the whole scope must not be lost in it)."""
    named = set(run.page_ids or ()) if run.is_targeted else set()
    named.update(event.page_id for event in run.events.all())
    return frozenset(named - {""})


def showing_files_of(index: Index, named: frozenset[str]) -> frozenset[str]:
    """`named`, and the synced pages that show attachments of a named page (an attachment event names the page
    that holds the file, not every page that embeds it)."""
    return named | {pid for pid, entry in index.pages.items() if not named.isdisjoint(entry.listings)}


def site_summary(site: AtlassianSite) -> dict:
    return {"name": site.name, "url": site.url, "cloud_id": site.cloud_id}


def scope_summary(scope: SyncScope) -> dict:
    return {
        "spaces": scope.spaces,
        "pages": scope.pages,
        "excluded_pages": scope.excluded_pages,
        "excluded_labels": scope.excluded_labels,
        "include_restricted": scope.include_restricted,
    }


def changed_paths(files: Mapping[str, bytes | None], known_blobs: Mapping[str, str]) -> set[str]:
    """The paths whose content the commit really changes: a re-rendered page whose bytes are what the branch
    holds already is not a change, whatever its new version number says."""
    changed = set()
    for path in files:
        content = files[path]
        if (None if content is None else git_blob_sha(content)) != known_blobs.get(path):
            changed.add(path)
    return changed


@dataclass
class Changes:
    """What a commit changes, page by page and attachment by attachment: the commit message and the run's counts."""

    added: list[Desired] = field(default_factory=list)
    updated: list[Desired] = field(default_factory=list)
    moved: list[Desired] = field(default_factory=list)
    removed: list[tuple[str, PageEntry]] = field(default_factory=list)
    unchanged: int = 0
    attachments: dict[str, list[str]] = field(default_factory=dict)  # "added" / "updated" / "removed" → paths

    @classmethod
    def of(cls, plan: Plan, *, desired: dict, index: Index, new_index: Index, changed: set[str]) -> Changes:
        changes = cls()
        for verb, ids in (("added", plan.adds), ("updated", plan.updates), ("moved", plan.moves)):
            for pid in ids:
                old = index.pages.get(pid)
                if desired[pid].path in changed or (old is not None and old.path in changed):
                    getattr(changes, verb).append(desired[pid])
        changes.removed = [(pid, index.pages[pid]) for pid in plan.removes if index.pages[pid].path in changed]
        listed = len(changes.added) + len(changes.updated) + len(changes.moved)
        changes.unchanged = len(desired) - listed
        before = {a.path for entry in index.pages.values() for a in entry.attachments.values()}
        after = {a.path for entry in new_index.pages.values() for a in entry.attachments.values()}
        for verb, paths in (("added", after - before), ("updated", after & before), ("removed", before - after)):
            if found := sorted(paths & changed):
                changes.attachments[verb] = found
        return changes

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "moved": len(self.moved),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
        }


def commit_message(changes: Changes) -> str:
    """A title that counts what changed, then one line per page and attachment the commit changes."""
    pages = [
        (verb, items)
        for verb, items in (
            ("updated", changes.updated),
            ("added", changes.added),
            ("moved", changes.moved),
            ("removed", changes.removed),
        )
        if items
    ]
    parts = [f"{len(items)} {verb}" for verb, items in pages]
    parts += [
        f"{len(paths)} {'attachment' if len(paths) == 1 else 'attachments'} {verb}"
        for verb, paths in changes.attachments.items()
    ]
    spaces = sorted(
        {page.space_key for page in changes.added + changes.updated + changes.moved}
        | {entry.space_key for _, entry in changes.removed}
    )
    title = f"Sync Confluence: {', '.join(parts) or 'scope and index'}" + (f" in {', '.join(spaces)}" if spaces else "")
    lines = [
        f"- {verb}: {page.title} (page {page.id}, version {page.version})"
        for verb, items in (("updated", changes.updated), ("added", changes.added), ("moved", changes.moved))
        for page in items
    ]
    lines += [f"- removed: {entry.title} (page {pid})" for pid, entry in changes.removed]
    lines += [f"- attachment {verb}: {path}" for verb, paths in changes.attachments.items() for path in paths]
    return title + ("\n\n" + "\n".join(lines) if lines else "")


def save_state(job: Job, index: Index, result: CommitResult, files: dict) -> None:
    commit = result.sha or result.base_sha or ""
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


# One run, start to finish ------------------------------------------------------------------------------------


# InputTooLarge: GitHub timed out on a tree request the writer could not split further. Never one file's doing
# (large files go as blobs, pages over the cap are skipped): it answers so under load.
TRANSIENT = (ConfluenceUnavailable, GitHubUnavailable, CommitConflict, InputTooLarge, TargetChanged)


def run(run_id: int) -> None:
    """What the worker does with a queued run: claim it, sync, then start the follow-up run if one is waiting."""
    claimed = claim(run_id)
    if claimed is None:
        return
    try:
        execute(claimed)
    finally:
        start_follow_up(claimed.connection_id)


def execute(run: SyncRun) -> None:
    """Do one claimed run and record how it ended. Errors are classified, never swallowed silently."""
    job = None
    try:
        job = prepare(run)
        result = sync(job)
    except RunSuperseded as error:
        logger.warning("%s; stopping without writing", error)  # the recovery run records the outcome
    except SetupIncomplete as error:
        finish(run, job, error_kind=SyncRun.ErrorKind.PERMANENT, error=str(error))
    except AuthRevoked:
        # confluence.auth already flipped the link step and the card; retrying would only repeat the refusal.
        finish(run, job, error_kind=SyncRun.ErrorKind.AUTH, error=RECONNECT_DETAIL)
    except TRANSIENT as error:
        finish(run, job, error_kind=SyncRun.ErrorKind.TRANSIENT, error=f"{error} Retrying later.")
        schedule_retry(run, not_before=declined_wait(job))
    except (RepositoryGone, InstallationGone) as error:
        mark_repository_unreachable(job)
        finish(run, job, error_kind=SyncRun.ErrorKind.PERMANENT, error=str(error))
    except (ConfluenceError, GitHubError) as error:
        finish(run, job, error_kind=SyncRun.ErrorKind.PERMANENT, error=str(error))
    else:
        finish(run, job, result=result)


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
