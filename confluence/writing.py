"""The files a run writes: rendered pages, the attachments they show, and deletions of what moved or went away."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from confluence.client import Attachment
from confluence.convert import CONVERTER_VERSION
from confluence.index import AttachmentEntry, Index, PageEntry, page_order
from confluence.layout import attachment_path
from confluence.plan import Desired, Plan, ref_key
from confluence.render import SiteMap, render_page
from github_sync.commit import FileChanges, git_blob_sha

if TYPE_CHECKING:
    from confluence.sync import Job

logger = logging.getLogger(__name__)

# Attachments larger than this stay in Confluence (linked), so a repository never carries huge binaries.
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
PROGRESS_EVERY = 50


def render_files(job: Job, plan: Plan, desired: dict[str, Desired], bodies: dict, index: Index):
    """(path → bytes or None for deletion, the new index, attachments downloaded). Consumes `bodies`."""
    site = SiteMap.build(job.site.url, desired)
    files = FileChanges()
    new_index = Index(spaces=dict(index.spaces))
    references: dict[str, set[tuple[str, str]]] = {}
    to_render = set(plan.to_render)
    rendered = 0
    for pid in sorted(desired, key=page_order):
        page = desired[pid]
        if pid not in to_render:
            new_index.pages[pid] = index.pages[pid]
            continue
        # Each body is dropped once rendered, so a large first sync never holds every body and every file at once.
        content, result = render_page(page, bodies.pop(pid), site)
        files[page.path] = content
        links = {ref_key(ref, page.space_key) for ref in result.linked_pages}
        new_index.pages[pid] = entry_for(page, content, links=sorted(links - {""}))
        references[pid] = {(owner or pid, name) for owner, name in result.attachments if (owner or pid) in desired}
        rendered += 1
        if rendered % PROGRESS_EVERY == 0:
            job.run.record_progress(done=rendered)
    downloaded = attach(job, new_index, references, desired, index, files)
    for path in index.paths().keys() - new_index.paths().keys():
        files.setdefault(path, None)
    return files, new_index, downloaded


def entry_for(page: Desired, content: bytes, *, links: list[str]) -> PageEntry:
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
    )


def attach(job: Job, new_index: Index, references: dict, desired: dict, index: Index, files: dict) -> int:
    """Record the attachments each rendered page shows; download those whose version we do not hold yet."""
    held = {a.path: a for entry in index.pages.values() for a in entry.attachments.values()}
    listings: dict[str, dict[str, Attachment]] = {}
    downloaded = 0
    for pid, refs in references.items():
        entries = {}
        for owner, name in sorted(refs):
            if owner not in listings:
                listings[owner] = {a.title: a for a in job.confluence.attachments(owner)}
            found = listings[owner].get(name)
            if found is None or found.file_size > MAX_ATTACHMENT_BYTES:
                continue  # a dangling or oversized reference: the page links to Confluence's copy
            path = attachment_path(space_key=desired[owner].space_key, page_id=owner, filename=name)
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
        new_index.pages[pid] = replace(new_index.pages[pid], attachments=entries)
    return downloaded
