"""Pages to files: each page the plan renders becomes Markdown at its path, with its new index entry. Pure: the
bodies, the people's names and the attachment paths come in; the files and the index go out.

A page whose Markdown is larger than max_page_bytes() is not written: the repository keeps its previous version (if
it had one, and no other page took its path) with the index entry unchanged, so every later run tries again, and
the run records a warning (SyncRun.warnings) that later runs repeat while the page stays too large. Links from
other pages to a page that is not where they would expect it go to Confluence instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from django.conf import settings

from confluence.convert import CONVERTER_VERSION, ConversionResult
from confluence.models import SyncRun
from confluence.sync import elsewhere
from confluence.sync.index import Index, PageEntry, page_order
from confluence.sync.plan import Placed, Plan, link_key, ref_key
from confluence.sync.render import SiteMap, render_page
from github_sync.commit import FileChanges, git_blob_sha

logger = logging.getLogger(__name__)

# Pages whose Markdown is larger are skipped with a warning (SYNC_MAX_PAGE_BYTES): a page of megabytes is pasted
# data no agent reads whole, and GitHub refuses any file over 100 MiB.
GITHUB_MAX_FILE_BYTES = 100 * 1024 * 1024
PROGRESS_EVERY = 50


def max_page_bytes() -> int:
    """The largest page, in bytes of rendered Markdown, a run writes."""
    return min(settings.SYNC_MAX_PAGE_BYTES, GITHUB_MAX_FILE_BYTES)


@dataclass
class Rendered:
    files: FileChanges = field(default_factory=FileChanges)  # path → bytes, or None for a deletion
    index: Index = field(default_factory=Index)  # the new index
    # Page id → (owner page id, file name) of each attachment the page shows.
    references: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    too_large: dict[str, int] = field(default_factory=dict)  # page id → bytes of Markdown
    warnings: list[dict] = field(default_factory=list)


def render_files(
    plan: Plan,
    placed: Mapping[str, Placed],
    bodies: dict,
    index: Index,
    *,
    site: SiteMap,
    limit: int,
    on_progress: Callable[[int], None] = lambda done: None,
) -> Rendered:
    """Render the pages the plan names; the other selected pages keep their index entries. Consumes `bodies`."""
    to_render = set(plan.to_render)
    rendered = Rendered(index=Index(spaces=dict(index.spaces)))
    done = 0
    for pid in sorted(placed, key=page_order):
        if pid not in to_render:
            rendered.index.pages[pid] = index.pages[pid]
            continue
        # Each body is dropped once rendered, so a large first sync never holds every body and every file at once.
        render_one(rendered, placed[pid], bodies.pop(pid), site=site, limit=limit, placed=placed)
        done += 1
        if done % PROGRESS_EVERY == 0:
            on_progress(done)
    if rendered.too_large:
        keep_previous_versions(rendered, limit=limit, placed=placed, index=index)
    return rendered


def render_one(rendered: Rendered, page: Placed, body: str, *, site: SiteMap, limit: int, placed: Mapping) -> None:
    content, result = render_with_boards(page, body, site)
    if len(content) > limit:
        rendered.too_large[page.id] = len(content)
        return
    rendered.files[page.path] = content
    links = {ref_key(ref, page.space_key) for ref in result.linked_pages}
    rendered.index.pages[page.id] = entry_for(
        page,
        content,
        links=sorted(links - {""}),
        mentions=list(result.mentions),
        lists=listing(result, placed),
        includes=sorted(result.included, key=page_order),
    )
    rendered.references[page.id] = {
        (owner or page.id, name) for owner, name in result.attachments if (owner or page.id) in placed
    }


def render_with_boards(page: Placed, body: str, site: SiteMap) -> tuple[bytes, ConversionResult]:
    """The page's file: its Markdown, then the links to the boards below it (confluence.sync.elsewhere)."""
    content, result = render_page(page, body, site)
    return content + elsewhere.section(page.elsewhere, site_url=site.site_url).encode(), result


def listing(result: ConversionResult, placed: Mapping[str, Placed]) -> dict[str, list[str]]:
    """What the page's page-list macros show: each space they cover → the synced pages listed from it, in order."""
    lists: dict[str, list[str]] = {space: [] for space in result.listed_spaces}
    for pid in result.listed:
        lists.setdefault(placed[pid].space_key, []).append(pid)
    return {space: sorted(ids, key=page_order) for space, ids in sorted(lists.items())}


def entry_for(
    page: Placed,
    content: bytes,
    *,
    links: list[str],
    mentions: Iterable[str] = (),
    lists: dict | None = None,
    includes: Iterable[str] = (),
) -> PageEntry:
    return PageEntry(
        # The page as Confluence describes it,
        title=page.title,
        space_key=page.space_key,
        parent_id=page.parent_id,
        ancestors=list(page.ancestors),
        labels=list(page.labels),
        version=page.version,
        modified_at=page.modified_at,
        webui=page.webui,
        kind=page.kind,
        created_at=page.created_at,
        elsewhere=[list(board) for board in page.elsewhere],
        # its file,
        path=page.path,
        blob=git_blob_sha(content),
        converter_version=CONVERTER_VERSION,
        # and what its content shows of other pages and people.
        links=links,
        mentions=list(mentions),
        lists=dict(lists or {}),
        includes=list(includes),
    )


def keep_previous_versions(rendered: Rendered, *, limit: int, placed: Mapping[str, Placed], index: Index) -> None:
    """Leave each page too large to write as the repository holds it, and warn. A previous version stays unless
    another page now takes its path; the unchanged index entry makes the next run try again."""
    taken = {entry.path.casefold() for entry in rendered.index.pages.values()}
    for pid, size in rendered.too_large.items():
        previous = index.pages.get(pid)
        kept = previous is not None and previous.path.casefold() not in taken
        if kept:
            rendered.index.pages[pid] = previous
        page = placed[pid]
        rendered.warnings.append(
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


def to_render_again(
    rendered: Rendered, placed: Mapping[str, Placed], site: SiteMap, *, listed_paths: Mapping
) -> tuple[list[str], SiteMap]:
    """The pages to render again, and the site to render them with, once the attachments are listed. Rare, so
    their bodies are read again (250 a request) rather than every page's held until its attachments are listed:
    - pages that link to a page too large to write that is not at its path (new, or moved), so their links go to
      the copy the repository keeps, or to Confluence;
    - pages that show a file whose path is not the one its name alone gives (an older attachment of its page takes
      that name, ignoring case, or the file is not in the repository at all: missing or too large)."""
    held = rendered.index.pages
    elsewhere = {pid for pid in rendered.too_large if pid not in held or held[pid].path != placed[pid].path}
    keys = {link_key(pid) for pid in elsewhere}
    keys |= {link_key(None, space_key=placed[pid].space_key, title=placed[pid].title) for pid in elsewhere}
    again = {pid for pid, entry in held.items() if pid not in rendered.too_large and keys.intersection(entry.links)}
    again |= {pid for pid, refs in rendered.references.items() if listed_paths.keys() & refs}
    if not again:
        return [], site
    pages = {pid: page for pid, page in placed.items() if pid not in elsewhere}
    pages |= {pid: replace(placed[pid], path=held[pid].path) for pid in elsewhere if pid in held}
    site = SiteMap.build(
        site.site_url,
        pages,
        attachment_paths=listed_paths,
        closed_accounts=site.closed_accounts,
        user_names=site.user_names,
        sources=site.sources,
        blog_spaces=site.blogs.keys(),
    )
    return sorted(again, key=page_order), site


def render_again(rendered: Rendered, bodies: Mapping[str, str], *, placed: Mapping[str, Placed], site: SiteMap):
    for pid, body in bodies.items():
        content, _ = render_with_boards(placed[pid], body, site)
        rendered.files[placed[pid].path] = content
        rendered.index.pages[pid] = replace(rendered.index.pages[pid], blob=git_blob_sha(content))


def remove_gone(rendered: Rendered, index: Index) -> None:
    """Delete the files of ours the new index no longer names (pages and attachments that moved or went away)."""
    for path in index.paths().keys() - rendered.index.paths().keys():
        rendered.files.setdefault(path, None)
