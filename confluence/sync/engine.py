"""The sync engine: selected Confluence pages → one commit in the GitHub repository → ingestion.

    claim    confluence.sync.queue.claim: the run is this worker's
    read     everything Confluence says, and nothing else asks it: the scope's pages (reading: bulk listings,
             labels and restrictions, bodies), the names of the people they mention (people), and the files they
             show (attachments: listings and downloads, once rendering has found which files those are)
    plan     what the repository holds (the index) vs what the scope selects now: adds, updates, moves, removes
    render   storage XHTML → Markdown files with front matter, links resolved between synced pages (pure)
    commit   ONE commit through github_sync: scope file + index + pages + attachments; then
             github_sync.tasks.enqueue_ingest(repository, commit), the path every repository-backed source takes
    record   how the run ended (outcome); a service down or rate limiting hands the run back to the queue,
             to resume after a wait (outcome.wait_in_queue)

`execute(run)` does one run and records how it ended; it is safe to run again after a crash at any point,
because the repository (its index file and its tree) is the record of what was written.
"""

from __future__ import annotations

import logging

from confluence import privacy
from confluence.auth import RECONNECT_DETAIL, client_for
from confluence.convert import CONVERTER_VERSION
from confluence.gateway import AuthRevoked, ConfluenceError, ConfluenceUnavailable
from confluence.models import AtlassianSite, RunSuperseded, SyncRun, SyncScope, SyncTarget
from confluence.sync import attachments, people, reading
from confluence.sync.blog import blog_spaces
from confluence.sync.bodies import bodies_at
from confluence.sync.changes import Changes, changed_paths, commit_message
from confluence.sync.index import INDEX_PATH, SCOPE_PATH, Index, render_scope
from confluence.sync.job import Job
from confluence.sync.outcome import carried_warnings, finish, mark_repository_unreachable, refuse, wait_in_queue
from confluence.sync.plan import Placed, Plan, make_plan, place
from confluence.sync.queue import claim, start_next
from confluence.sync.render import SiteMap
from confluence.sync.render_files import max_page_bytes, remove_gone, render_again, render_files, to_render_again
from confluence.sync.scope import ScopeSpec
from confluence.sync.sources import inclusion_sources
from confluence.sync.state import TargetRefused, check_writable, load_index, refuse_unless_writable, save_state
from github_sync.client import InstallationClient
from github_sync.commit import CommitConflict, CommitResult, commit_files
from github_sync.errors import GitHubError, GitHubUnavailable, InputTooLarge, InstallationGone, RepositoryGone
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
    job = Job(
        run=run,
        connection=connection,
        site=site,
        target=target,
        scope=scope,
        confluence=client_for(site),
        github=InstallationClient(target.repository.installation.installation_id),
    )
    job.confluence.session.on_wait = job.github.session.on_wait = lambda seconds: run.heartbeat()
    return job


def sync(job: Job) -> CommitResult | None:
    """The whole data flow for one run; returns the commit (None when there was nothing to write)."""
    check_writable(job)
    repo = job.repository
    head = job.github.branch_head(repo.full_name, repo.default_branch)
    index, known_blobs, touched = load_index(job, head)
    said = reading.read(job.run, job.confluence, job.scope, index)
    job.restricted, job.judged = said.restricted, said.judged
    placed, plan = plan_with_bodies(job, index, said, touched=touched)
    job.run.record_progress(total=len(plan.to_render), done=0)
    files, new_index, attachment_count = write_pages(job, plan, placed, said.bodies, index)
    new_index.unsynced = said.unsynced
    files[SCOPE_PATH] = render_scope(site=site_summary(job.site), scope=scope_summary(job.scope))
    files[INDEX_PATH] = new_index.render()
    changed = changed_paths(files, known_blobs)
    changes = Changes.of(plan, placed=placed, index=index, new_index=new_index, changed=changed)
    job.counts = {"seen": len(placed), **changes.counts(), "attachments": attachment_count}
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
    # The next run checks our files against the repository again when this commit was rebuilt on a branch that
    # moved meanwhile, or files someone changed could not be written back (their page held, or too large).
    moved = head is not None and result.base_sha not in (None, head[0])
    unsettled = any(pid in new_index.pages and new_index.pages[pid].path not in files for pid in touched)
    save_state(job, new_index, result, files, trusted=not (moved or unsettled))
    if result.sha:
        enqueue_ingest(repo, result.sha, trigger="confluence")
    return result


def still_the_target(job: Job) -> None:
    """Right before the branch moves: the run still holds its lease (fencing against a recovery run), the
    repository is still this connection's (the wizard or staff may have moved it meanwhile), and it may still take
    the pages (GitHub may have said meanwhile that it was made public or archived)."""
    job.run.heartbeat()
    target = (
        SyncTarget.objects.select_related("repository")
        .filter(connection=job.connection, repository=job.repository)
        .first()
    )
    if target is None:
        raise TargetChanged(f"The connection's repository is no longer {job.repository.full_name}; nothing written.")
    refuse_unless_writable(target)


def plan_with_bodies(
    job: Job, index: Index, said: reading.Reading, touched: frozenset
) -> tuple[dict[str, Placed], Plan]:
    """Plan, then read the bodies of pages to render that the listing did not carry (250 per request).
    A page deleted in between, or found restricted or labelled out at a version the run had not judged, is treated
    as removed, which may re-plan its siblings once more. `touched` pages (Index.as_found) are rendered again."""
    named = showing_files_of(index, pages_named(job.run)) | said.attachments_changed | touched
    # Pages that still show a person whose account was closed are rendered again whatever run comes first.
    named |= privacy.pages_mentioning_closed_accounts(index)
    if not job.run.is_targeted:
        # People whose cached names expired are looked up again; the pages showing a changed name are rendered again.
        named |= people.pages_with_renamed_people(job.confluence, job.site.cloud_id, index)
    for _ in range(4):
        placed = place(said.world, said.unsynced)
        held = frozenset(said.held)
        plan = make_plan(index, placed, converter_version=CONVERTER_VERSION, full=job.run.full, named=named, held=held)
        missing = [pid for pid in plan.to_render if pid not in said.bodies]
        if not missing:
            return placed, plan
        reading.read_bodies(job.confluence, said, missing, spec=ScopeSpec.from_scope(job.scope))
        reading.read_held_bodies(job.confluence, said, [pid for pid in missing if pid in said.held])
    raise reading.ConfluenceUnavailable("Confluence kept changing while the run read it; trying again later.")


def write_pages(job: Job, plan: Plan, placed: dict[str, Placed], bodies: dict, index: Index):
    """(path → bytes or None for deletion, the new index, attachments downloaded). Consumes `bodies`.
    Confluence is asked about the people the pages mention before rendering, and about the files they show after:
    only rendering finds which those are. The rare page whose links or file paths those answers change is
    rendered again, its body read again."""
    sources = inclusion_sources(job.confluence, bodies, plan.to_render, placed)
    # People mentioned in included content are named like the page's own.
    mentioned = people.mentioned_in_pages(bodies, plan.to_render) | people.mentioned_in_pages(sources, sources)
    # A targeted run asks only about people new to the site: refreshing an expired name there would leave the other
    # pages showing the old one; the next run over the whole scope refreshes it and renders all of them again.
    people.look_up_people(job.confluence, job.site.cloud_id, mentioned, refresh_expired=not job.run.is_targeted)
    site = SiteMap.build(
        job.site.url,
        placed,
        closed_accounts=privacy.closed_account_ids(),
        user_names=people.known_names(job.site.cloud_id),
        sources=sources,
        # A space that syncs its blog lists its posts even before it has any: "No blog posts", not Confluence.
        blog_spaces=blog_spaces(job.scope),
    )
    rendered = render_files(
        plan,
        placed,
        bodies,
        index,
        site=site,
        limit=max_page_bytes(),
        on_progress=lambda done: job.run.record_progress(done=done),
    )
    attached = attachments.attach(job.confluence, rendered, placed=placed, index=index)
    again, site = to_render_again(rendered, placed, site, listed_paths=attached.listed_paths)
    if again:
        # Only at the version placed (the one the run judged, or the repository holds): a newer one is not judged.
        bodies = bodies_at(job.confluence, {pid: placed[pid] for pid in again})
        render_again(rendered, bodies, placed=placed, site=site)
    job.warnings += rendered.warnings + attached.warnings
    job.warnings[:0] = carried_warnings(job.run, judged=set(plan.to_render), placed=placed, new_index=rendered.index)
    remove_gone(rendered, index)
    return rendered.files, rendered.index, attached.downloaded


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
        start_next(claimed.connection_id)


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
    except TargetRefused as error:
        refuse(run, job, error)
    except AuthRevoked:
        # confluence.auth already flipped the link step and the card; retrying would only repeat the refusal.
        finish(run, job, error_kind=SyncRun.ErrorKind.AUTH, error=RECONNECT_DETAIL)
    except TRANSIENT as error:
        wait_in_queue(run, job, error)
    except (RepositoryGone, InstallationGone) as error:
        mark_repository_unreachable(job)
        finish(run, job, error_kind=SyncRun.ErrorKind.PERMANENT, error=str(error))
    except (ConfluenceError, GitHubError) as error:
        finish(run, job, error_kind=SyncRun.ErrorKind.PERMANENT, error=str(error))
    else:
        finish(run, job, result=result)
