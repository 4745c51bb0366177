"""Read what the scope selects now, spending as few Confluence calls as possible.

- A run over the whole scope lists each space once (250 pages a request; bodies only on a first or full run,
  or after a converter upgrade) and reads every label in one bulk CQL search.
- A targeted run (page ids from Forge events) starts from the index and fetches just those pages, with bodies,
  in one request; it asks for ancestors only when a page appeared under a parent we do not know.
"""

from __future__ import annotations

from dataclasses import replace

from confluence.client import ConfluenceClient, ConfluenceUnavailable, Page, cql_quote
from confluence.convert import CONVERTER_VERSION
from confluence.index import Index, PageEntry
from confluence.models import SyncRun, SyncScope
from confluence.plan import Desired
from confluence.scope import ScopeSpec, select_pages
from github_sync.commit import FileChanges

__all__ = ["ConfluenceUnavailable", "fetch_bodies", "read"]


def read(run: SyncRun, client: ConfluenceClient, scope: SyncScope, index: Index) -> tuple[dict, dict]:
    """(pages the scope selects → Desired without paths, bodies we already hold → storage XHTML)."""
    spec = ScopeSpec.from_scope(scope)
    if run.is_targeted and index.spaces:
        return read_targeted(client, spec, index, run.page_ids)
    return read_scope(client, spec, scope, index, full=run.full)


def read_scope(client: ConfluenceClient, spec: ScopeSpec, scope: SyncScope, index: Index, *, full: bool):
    spaces = client.list_spaces(keys=scope.space_keys)
    index.spaces = {space.id: space.key for space in spaces}
    stale = any(entry.converter_version != CONVERTER_VERSION for entry in index.pages.values())
    with_bodies = full or not index.pages or stale
    bodies = Bodies()
    listing = {
        space.key: [bodies.take(page) for page in client.iter_space_pages(space.id, body=with_bodies)]
        for space in spaces
    }
    labels = labels_of_spaces(client, [s.key for s in spaces])
    selection = select_pages(spec, pages_by_space=listing, labels=labels)
    keys = {space.id: space.key for space in spaces}
    world = {pid: desired(page, keys[page.space_id], labels.get(pid, [])) for pid, page in selection.selected.items()}
    for pid in [pid for pid in bodies if pid not in selection.selected]:
        del bodies[pid]
    return world, bodies


def read_targeted(client: ConfluenceClient, spec: ScopeSpec, index: Index, page_ids: list[str]):
    fetched = [p for p in client.get_pages(page_ids, body=True) if p.space_id in index.spaces]
    labels = {pid: list(entry.labels) for pid, entry in index.pages.items()}
    if fetched:
        labels.update(client.labels_by_page(f"type = page AND id in ({', '.join(p.id for p in fetched)})"))
    world = {pid: from_entry(pid, entry) for pid, entry in index.pages.items() if pid not in page_ids}
    world.update({p.id: desired(p, index.spaces[p.space_id], labels.get(p.id, [])) for p in fetched})
    parents = unknown_ancestry(client, fetched, world)
    by_space: dict[str, list] = {}
    for page in world.values():
        by_space.setdefault(page.space_key, []).append(page)
    selection = select_pages(spec, pages_by_space=by_space, labels=labels, extra_parents=parents)
    bodies = Bodies({p.id: p.body for p in fetched if p.body is not None and p.id in selection.selected})
    return {pid: world[pid] for pid in selection.selected}, bodies


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


def unknown_ancestry(client: ConfluenceClient, fetched: list[Page], world: dict) -> dict[str, str | None]:
    """Parent links above pages whose parent we do not hold (new pages under excluded or unsynced pages)."""
    parents: dict[str, str | None] = {}
    for page in fetched:
        if page.parent_id and page.parent_id not in world and page.parent_id not in parents:
            chain = client.ancestors(page.id)  # root first
            for child, parent in zip(chain[1:], chain[:-1], strict=False):
                parents[child] = parent
            if chain:
                parents.setdefault(chain[0], None)
    return parents


def labels_of_spaces(client: ConfluenceClient, space_keys: list[str]) -> dict[str, list[str]]:
    if not space_keys:
        return {}
    spaces = ", ".join(cql_quote(key) for key in sorted(space_keys))
    return client.labels_by_page(f"type = page AND space in ({spaces})")


def fetch_bodies(client: ConfluenceClient, page_ids: list[str]) -> dict[str, str]:
    if not page_ids:
        return {}
    return {page.id: page.body or "" for page in client.get_pages(page_ids, body=True)}


def desired(page: Page, space_key: str, labels: list[str]) -> Desired:
    return Desired(
        id=page.id,
        title=page.title,
        space_key=space_key,
        parent_id=page.parent_id,
        version=page.version,
        modified_at=page.modified_at,
        labels=tuple(sorted(labels)),
        webui=page.webui,
    )


def from_entry(page_id: str, entry: PageEntry) -> Desired:
    return Desired(
        id=page_id,
        title=entry.title,
        space_key=entry.space_key,
        parent_id=entry.parent_id,
        version=entry.version,
        modified_at=entry.modified_at,
        labels=tuple(entry.labels),
        webui=entry.webui,
    )
