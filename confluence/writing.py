"""The files a run writes: rendered pages, the attachments they show, and deletions of what moved or went away.

A page whose Markdown is larger than max_page_bytes() is not written: the repository keeps its previous version (if
it had one, and no other page took its path) with the index entry unchanged, so every later run tries again, and
the run records a warning (SyncRun.warnings) that later runs repeat while the page stays too large. Links from
other pages to a page that is not where they would expect it go to Confluence instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import replace

from django.conf import settings
from django.utils import timezone

from confluence import privacy
from confluence.client import Attachment, ConfluenceError, Person
from confluence.convert import CONVERTER_VERSION, ConversionResult
from confluence.index import AttachmentEntry, Index, PageEntry, listing_digest, page_order
from confluence.job import Job
from confluence.layout import attachment_path, attachment_paths
from confluence.models import KnownPerson, SyncRun
from confluence.plan import Desired, Plan, link_key, ref_key
from confluence.reading import fetch_bodies
from confluence.render import SiteMap, render_page
from github_sync.commit import FileChanges, git_blob_sha

logger = logging.getLogger(__name__)

# Attachments larger than this stay in Confluence (linked), so a repository never carries huge binaries.
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
# Pages whose Markdown is larger are skipped with a warning (SYNC_MAX_PAGE_BYTES): a page of megabytes is pasted
# data no agent reads whole, and GitHub refuses any file over 100 MiB.
GITHUB_MAX_FILE_BYTES = 100 * 1024 * 1024
PROGRESS_EVERY = 50
# A mention in storage format: <ri:user ri:account-id="…"/>. Read from the bodies before rendering, so all the people
# of all the pages a run renders are looked up together.
ACCOUNT_ID = re.compile(r"""ri:account-id\s*=\s*["']\s*([^"'<>\s]+)\s*["']""")


def max_page_bytes() -> int:
    """The largest page, in bytes of rendered Markdown, a run writes."""
    return min(settings.SYNC_MAX_PAGE_BYTES, GITHUB_MAX_FILE_BYTES)


def render_files(job: Job, plan: Plan, desired: dict[str, Desired], bodies: dict, index: Index):
    """(path → bytes or None for deletion, the new index, attachments downloaded). Consumes `bodies`; pages too
    large to write are left as the repository holds them, and recorded in `job.warnings`."""
    to_render = set(plan.to_render)
    mentioned = {account_id for pid in to_render if pid in bodies for account_id in mentioned_in(bodies[pid])}
    # A targeted run asks only about people new to the site: refreshing an expired name there would leave the other
    # pages showing the old one; the next run over the whole scope refreshes it and renders all of them again.
    look_up_people(job, mentioned, refresh_expired=not job.run.is_targeted)
    site = site_map(job, desired)
    files = FileChanges()
    new_index = Index(spaces=dict(index.spaces))
    references: dict[str, set[tuple[str, str]]] = {}
    limit = max_page_bytes()
    too_large: dict[str, int] = {}
    rendered = 0
    for pid in sorted(desired, key=page_order):
        page = desired[pid]
        if pid not in to_render:
            new_index.pages[pid] = index.pages[pid]
            continue
        # Each body is dropped once rendered, so a large first sync never holds every body and every file at once.
        content, result = render_page(page, bodies.pop(pid), site)
        rendered += 1
        if rendered % PROGRESS_EVERY == 0:
            job.run.record_progress(done=rendered)
        if len(content) > limit:
            too_large[pid] = len(content)
            continue
        files[page.path] = content
        links = {ref_key(ref, page.space_key) for ref in result.linked_pages}
        new_index.pages[pid] = entry_for(
            page, content, links=sorted(links - {""}), mentions=list(result.mentions), lists=listing(result, desired)
        )
        references[pid] = {(owner or pid, name) for owner, name in result.attachments if (owner or pid) in desired}
    if too_large:
        keep_previous_versions(job, too_large, limit=limit, desired=desired, index=index, new_index=new_index)
        relink(job, too_large, desired=desired, new_index=new_index, files=files)
    downloaded = attach(job, new_index, references, desired, index, files)
    job.warnings[:0] = carried_warnings(job.run, judged=to_render, desired=desired, new_index=new_index)
    for path in index.paths().keys() - new_index.paths().keys():
        files.setdefault(path, None)
    return files, new_index, downloaded


def site_map(job: Job, pages: dict[str, Desired], *, attachment_paths: dict | None = None) -> SiteMap:
    """What links can point at, the names mentions show, and the closed accounts whose people every rendering shows
    as "Former user"."""
    return SiteMap.build(
        job.site.url,
        pages,
        attachment_paths=attachment_paths,
        closed_accounts=privacy.closed_account_ids(),
        user_names=known_names(job.site.cloud_id),
    )


# People ------------------------------------------------------------------------------------------------------


def mentioned_in(body: str) -> set[str]:
    """The account ids a storage-format body mentions (a cheap scan: no parsing)."""
    if "ri:account-id" not in body:
        return set()
    return set(ACCOUNT_ID.findall(body))


def known_names(cloud_id: str) -> dict[str, str]:
    """Account id → the name its mentions show, for the people of the site that the lookup named."""
    names = {}
    for row in KnownPerson.objects.filter(cloud_id=cloud_id):
        shown = as_person(row).shown_name
        if shown:
            names[row.account_id] = shown
    return names


def as_person(row: KnownPerson) -> Person:
    return Person(row.account_id, row.display_name, row.account_status, row.account_type)


def look_up_people(job: Job, account_ids: Iterable[str], *, refresh_expired: bool = True) -> set[str]:
    """Ask the bulk user lookup (100 a request) about the people the site's cache does not hold, and those whose
    entry expired when `refresh_expired`; store the answers. Closed accounts are never asked about (they stay
    "Former user"). Returns the ids whose shown name is not what it was (new people included)."""
    wanted = set(account_ids) - privacy.closed_account_ids()
    if not wanted:
        return set()
    cloud_id = job.site.cloud_id
    rows = {row.account_id: row for row in KnownPerson.objects.filter(cloud_id=cloud_id)}
    expired_before = timezone.now() - KnownPerson.NAME_LIFETIME
    stale = sorted(
        account_id
        for account_id in wanted
        if account_id not in rows or (refresh_expired and rows[account_id].read_at < expired_before)
    )
    if not stale:
        return set()
    try:
        people = job.confluence.people(stale)
    except ConfluenceError as error:
        if error.status != 403:
            raise
        # A grant given before ctx| asked for read:user:confluence: mentions show "@unknown user" until re-linked.
        logger.warning("site %s refused the user lookup (%s): mentions keep their fallback", cloud_id, error)
        return set()
    now = timezone.now()
    KnownPerson.objects.bulk_create(
        [
            KnownPerson(
                cloud_id=cloud_id,
                account_id=person.account_id,
                # A closed account's name is not kept, whatever the lookup says.
                display_name="" if person.account_status == "closed" else person.display_name[:255],
                account_status=person.account_status[:32],
                account_type=person.account_type[:32],
                read_at=now,
            )
            for person in people.values()
        ],
        update_conflicts=True,
        unique_fields=["cloud_id", "account_id"],
        update_fields=["display_name", "account_status", "account_type", "read_at"],
    )
    return {
        account_id
        for account_id, person in people.items()
        if account_id not in rows or as_person(rows[account_id]).shown_name != person.shown_name
    }


def pages_with_renamed_people(job: Job, index: Index) -> frozenset[str]:
    """For a run over the whole scope: ask again about the people the repository's pages mention whose names
    expired (or were never read); the pages that mention someone whose shown name changed are rendered again."""
    mentioned = {account_id for entry in index.pages.values() for account_id in entry.mentions}
    changed = look_up_people(job, mentioned)
    if not changed:
        return frozenset()
    return frozenset(pid for pid, entry in index.pages.items() if changed.intersection(entry.mentions))


def listing(result: ConversionResult, desired: dict[str, Desired]) -> dict[str, list[str]]:
    """What the page's page-list macros show: each space they cover → the synced pages listed from it, in order."""
    lists: dict[str, list[str]] = {space: [] for space in result.listed_spaces}
    for pid in result.listed:
        lists.setdefault(desired[pid].space_key, []).append(pid)
    return {space: sorted(ids, key=page_order) for space, ids in sorted(lists.items())}


def entry_for(
    page: Desired, content: bytes, *, links: list[str], mentions: Iterable[str] = (), lists: dict | None = None
) -> PageEntry:
    return PageEntry(
        title=page.title,
        space_key=page.space_key,
        parent_id=page.parent_id,
        version=page.version,
        modified_at=page.modified_at,
        path=page.path,
        blob=git_blob_sha(content),
        converter_version=CONVERTER_VERSION,
        labels=list(page.labels),
        ancestors=list(page.ancestors),
        webui=page.webui,
        links=links,
        mentions=list(mentions),
        lists=dict(lists or {}),
    )


def keep_previous_versions(
    job: Job, too_large: dict[str, int], *, limit: int, desired: dict, index: Index, new_index: Index
) -> None:
    """Leave each page too large to write as the repository holds it, and warn. A previous version stays unless
    another page now takes its path; the unchanged index entry makes the next run try again."""
    taken = {entry.path.casefold() for entry in new_index.pages.values()}
    for pid, size in too_large.items():
        previous = index.pages.get(pid)
        kept = previous is not None and previous.path.casefold() not in taken
        if kept:
            new_index.pages[pid] = previous
        page = desired[pid]
        job.warnings.append(
            {
                "kind": SyncRun.WarningKind.PAGE_TOO_LARGE.value,
                "page_id": pid,
                "title": page.title,
                "space_key": page.space_key,
                "size": size,
                "limit": limit,
                "kept": kept,
            }
        )
        logger.warning("page %s is %d bytes of Markdown, over the %d limit: not written", pid, size, limit)


def relink(job: Job, too_large: dict[str, int], *, desired, new_index: Index, files) -> None:
    """Render again the pages that link to a page too large to write that is not at its path (new, or moved), so
    their links go to the copy the repository keeps, or to Confluence."""
    held = new_index.pages
    elsewhere = {pid for pid in too_large if pid not in held or held[pid].path != desired[pid].path}
    keys = {link_key(pid) for pid in elsewhere}
    keys |= {link_key(None, space_key=desired[pid].space_key, title=desired[pid].title) for pid in elsewhere}
    linkers = [pid for pid, entry in held.items() if pid not in too_large and keys.intersection(entry.links)]
    if not linkers:
        return
    pages = {pid: page for pid, page in desired.items() if pid not in elsewhere}
    pages |= {pid: replace(desired[pid], path=held[pid].path) for pid in elsewhere if pid in held}
    site = site_map(job, pages)
    # Bodies are dropped once rendered; this rare case reads them again (250 a request).
    for pid, body in fetch_bodies(job.confluence, linkers).items():
        content, _ = render_page(desired[pid], body, site)
        files[desired[pid].path] = content
        held[pid] = replace(held[pid], blob=git_blob_sha(content))


def carried_warnings(run: SyncRun, *, judged: set[str], desired: dict, new_index: Index) -> list[dict]:
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
        return run.is_targeted and pid not in desired and pid not in named

    return [w for w in (last.warnings if last else []) if persists(w)]


def attach(job: Job, new_index: Index, references: dict, desired: dict, index: Index, files: dict) -> int:
    """Record the attachments each rendered page shows; download those whose version we do not hold yet. Each owner
    page's listing (one request) gives every file its path, unique ignoring case among the page's attachments."""
    held = {a.path: a for entry in index.pages.values() for a in entry.attachments.values()}
    listings: dict[str, dict[str, tuple[Attachment, str]]] = {}
    digests: dict[str, str] = {}
    listed_paths: dict[tuple[str, str], str] = {}
    downloaded = 0
    for pid, refs in references.items():
        entries = {}
        for owner, name in sorted(refs):
            if owner not in listings:
                listing = job.confluence.attachments(owner)
                listings[owner], digests[owner] = with_paths(listing, desired[owner]), listing_digest(listing)
            found, path = listings[owner].get(name, (None, ""))
            if found is not None and found.file_size > MAX_ATTACHMENT_BYTES:
                job.warnings.append(attachment_too_large(desired[pid], found))
            if found is None or found.file_size > MAX_ATTACHMENT_BYTES:
                listed_paths[(owner, name)] = ""  # a dangling or oversized reference: link to Confluence's copy
                continue
            if path != attachment_path(space_key=desired[owner].space_key, page_id=owner, filename=name):
                listed_paths[(owner, name)] = path
            current = held.get(path)
            if current is not None and (current.id, current.version) == (found.id, found.version):
                entries[f"{owner}/{name}"] = current
                continue
            if path not in files:
                data = job.confluence.download_attachment(found)
                files[path] = data
                downloaded += 1
                held[path] = AttachmentEntry(
                    found.id, found.version, path, git_blob_sha(data), found.media_type, len(data)
                )
            entries[f"{owner}/{name}"] = held[path]
        seen = {owner: digests[owner] for owner, _ in refs}
        new_index.pages[pid] = replace(new_index.pages[pid], attachments=entries, listings=seen)
    if listed_paths:
        show_listed_paths(job, listed_paths, references=references, desired=desired, new_index=new_index, files=files)
    return downloaded


def with_paths(listing: list[Attachment], owner: Desired) -> dict[str, tuple[Attachment, str]]:
    """File name → (attachment, its path) for one page's attachments."""
    paths = attachment_paths({a.id: a.title for a in listing}, space_key=owner.space_key, page_id=owner.id)
    return {a.title: (a, paths[a.id]) for a in listing}


def show_listed_paths(job: Job, listed_paths: dict, *, references: dict, desired: dict, new_index: Index, files):
    """Render again the pages that show a file whose path is not the one its name alone gives (an older attachment
    of its page takes that name, ignoring case, or the file is not in the repository at all: missing or too large),
    so their links point at that file's own path or at Confluence. Rare: their bodies are read again (250 a
    request) rather than every page's held until its attachments are listed."""
    pages = sorted((pid for pid, refs in references.items() if listed_paths.keys() & refs), key=page_order)
    site = site_map(job, desired, attachment_paths=listed_paths)
    for pid, body in fetch_bodies(job.confluence, pages).items():
        content, _ = render_page(desired[pid], body, site)
        files[desired[pid].path] = content
        new_index.pages[pid] = replace(new_index.pages[pid], blob=git_blob_sha(content))


def attachment_too_large(page: Desired, attachment: Attachment) -> dict:
    """The warning for an attachment the page shows that stays in Confluence."""
    return {
        "kind": SyncRun.WarningKind.ATTACHMENT_TOO_LARGE.value,
        "page_id": page.id,
        "title": page.title,
        "space_key": page.space_key,
        "filename": attachment.title,
        "size": attachment.file_size,
        "limit": MAX_ATTACHMENT_BYTES,
    }
