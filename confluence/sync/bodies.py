"""Storage bodies: how the run holds them, and how it reads them, in bulk or at the versions it judged.

A body is written only at a version the run judged, or the one the repository holds (judged by an earlier run).
Where that is no longer the current version (an edit the search does not know yet, so not judged), the past
version is read by its number: Confluence keeps every version (`GET /pages/{id}?version=N`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from confluence.client import ConfluenceClient
from confluence.content import Page
from confluence.sync.plan import Selected
from github_sync.commit import FileChanges


class Bodies(FileChanges):
    """Page id → storage XHTML, held compressed: a first sync reads every body before it can render any (paths
    and links need the whole hierarchy), and storage markup shrinks about fivefold."""

    def take(self, page: Page) -> Page:
        """Keep the page's body here and return the page without it."""
        if page.body is None:
            return page
        self[page.id] = page.body
        return replace(page, body=None)

    def __getitem__(self, page_id: str) -> str:
        return super().__getitem__(page_id).decode()

    def __setitem__(self, page_id: str, body: str) -> None:
        super().__setitem__(page_id, body.encode())


def fetch_with_bodies(client: ConfluenceClient, page_ids: list[str], *, posts: Collection[str] | None) -> list[Page]:
    """Those pages and blog posts with their bodies (250 a request); one deleted meanwhile is missing from the
    answer. `posts`: which ids are blog posts; when the caller does not say, the ids the page lookup does not
    return are asked for as posts (one request more, only then)."""
    pages = [pid for pid in page_ids if posts is None or pid not in posts]
    found = client.get_pages(pages, body=True) if pages else []
    rest = [pid for pid in set(page_ids) - {p.id for p in found} if posts is None or pid in posts]
    return found + (client.get_blogposts(sorted(rest), body=True) if rest else [])


def bodies_at(client: ConfluenceClient, pages: Mapping[str, Selected]) -> dict[str, str]:
    """The storage XHTML of these pages and posts at the versions they hold: in bulk where that is the current
    version, else one request for each past version (rare). Content whose version cannot be read is left out."""
    posts = {pid for pid, page in pages.items() if page.is_post}
    current = fetch_with_bodies(client, list(pages), posts=posts)
    found = {page.id: page.body or "" for page in current if page.version == pages[page.id].version}
    return found | past_bodies(client, {pid: pages[pid] for pid in sorted(pages.keys() - found.keys())})


def past_bodies(client: ConfluenceClient, pages: Mapping[str, Selected]) -> dict[str, str]:
    """The storage XHTML of these pages and posts at versions that are no longer current, one request each."""
    found = {}
    for pid, page in pages.items():
        past = client.get_version(pid, page.version, post=page.is_post)
        if past is not None and past.version == page.version:
            found[pid] = past.body or ""
    return found
