"""From "what the repository holds" and "what the scope selects now" to the list of changes. Pure data.

A page is added, updated, moved (its path changed: renamed, moved to another parent or space — a delete and an
add in one commit, which git shows as a rename), removed (trashed, purged, out of scope, excluded, its space
left the scope), or unchanged. Moved and updated pages are re-rendered; unchanged ones cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from confluence.content import Page, PageFacts
from confluence.sync.index import BLOGPOST, FOLDER, Index, PageEntry, UnsyncedPage, ancestor_titles, page_order
from confluence.sync.layout import Node, page_paths, post_paths


@dataclass(frozen=True)
class Selected:
    """A page the scope selects, as Confluence describes it (or the index, for pages a targeted run did not read)."""

    id: str
    title: str
    space_key: str
    parent_id: str | None
    version: int
    modified_at: str
    labels: tuple[str, ...]
    webui: str
    # "page", or "blogpost" for a post of a space whose blog the scope syncs (no parent; placed by posting month).
    kind: str = field(default="page", kw_only=True)
    created_at: str = field(default="", kw_only=True)  # ISO 8601; a post's posting time
    # The whiteboards, databases and embeds below the page (confluence.sync.elsewhere.Board each), listed after its
    # body as links to Confluence.
    elsewhere: tuple[tuple[str, str, str, str], ...] = field(default=(), kw_only=True)

    @property
    def is_post(self) -> bool:
        return self.kind == BLOGPOST

    @classmethod
    def of_page(cls, page: Page, space_key: str, labels: list[str], *, kind: str = "page", elsewhere=()) -> Selected:
        """A page (or blog post) as Confluence answers it, with the boards below it."""
        return cls(
            id=page.id,
            title=page.title,
            space_key=space_key,
            parent_id=page.parent_id,
            version=page.version,
            modified_at=page.modified_at,
            labels=tuple(sorted(labels)),
            webui=page.webui,
            kind=kind,
            created_at=page.created_at if kind == BLOGPOST else "",
            elsewhere=tuple(elsewhere),
        )

    @classmethod
    def of_entry(cls, page_id: str, entry: PageEntry) -> Selected:
        """A page (or blog post) as the index holds it."""
        return cls(
            id=page_id,
            title=entry.title,
            space_key=entry.space_key,
            parent_id=entry.parent_id,
            version=entry.version,
            modified_at=entry.modified_at,
            labels=tuple(entry.labels),
            webui=entry.webui,
            kind=entry.kind,
            created_at=entry.created_at,
            elsewhere=tuple(tuple(board) for board in entry.elsewhere),
        )


@dataclass(frozen=True)
class Placed(Selected):
    """A selected page placed in the repository: its path, and its Confluence ancestors' titles (front matter)."""

    path: str
    ancestors: tuple[str, ...] = ()


@dataclass
class Plan:
    adds: list[str] = field(default_factory=list)
    updates: list[str] = field(default_factory=list)
    moves: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def to_render(self) -> list[str]:
        return sorted(self.adds + self.updates + self.moves, key=page_order)

    @property
    def is_empty(self) -> bool:
        return not (self.adds or self.updates or self.moves or self.removes)


def held_back(pages: Iterable[Page], facts: Mapping[str, PageFacts], index: Index) -> set[str]:
    """Pages (and posts) the repository holds that changed since, yet the search does not know them: it may lag
    behind a view restriction, so the new version is not written; the index's entry stands until the search knows."""
    return {p.id for p in pages if p.id not in facts and p.id in index.pages and index.pages[p.id].version != p.version}


def place(pages: Mapping[str, Selected], unsynced: Mapping[str, UnsyncedPage]) -> dict[str, Placed]:
    """Fill in each page's path and its Confluence ancestors' titles. Only synced ancestors and folders shape the
    path: a page below pages the scope leaves out lives in the folder of its nearest synced ancestor, and a
    Confluence folder holding synced pages is a directory named like it (no file of its own). Blog posts go into
    their space's blog folder, by posting month."""
    folders = holding_folders(pages, unsynced)
    directories = [*((pid, p) for pid, p in pages.items() if not p.is_post), *folders.items()]
    nodes = {
        pid: Node(pid, p.title, p.space_key, nearest_synced_ancestor(pid, pages, unsynced)) for pid, p in directories
    }
    paths = {pid: path for pid, path in page_paths(nodes).items() if pid not in folders}
    posts = {pid: p for pid, p in pages.items() if p.is_post}
    paths.update(
        post_paths(
            {pid: Node(pid, p.title, p.space_key, None) for pid, p in posts.items()},
            posted={pid: p.created_at for pid, p in posts.items()},
            taken=paths.values(),
        )
    )
    return {
        pid: Placed(**vars(page), path=paths[pid], ancestors=tuple(ancestor_titles(pid, pages, unsynced)))
        for pid, page in pages.items()
    }


def nearest_synced_ancestor(page_id: str, pages: Mapping[str, Selected], unsynced: Mapping[str, UnsyncedPage]):
    """The nearest ancestor that makes a directory: a synced page, or a folder."""
    seen, parent = {page_id}, (pages.get(page_id) or unsynced[page_id]).parent_id
    while parent is not None and parent not in pages and not is_folder(parent, unsynced) and parent not in seen:
        if parent not in unsynced:
            return None
        seen.add(parent)
        parent = unsynced[parent].parent_id
    return parent if parent in pages or is_folder(parent, unsynced) else None


def holding_folders(pages: Mapping[str, Selected], unsynced: Mapping[str, UnsyncedPage]) -> dict[str, UnsyncedPage]:
    """The folders with synced pages below them, each with the folders above it: the directories they make."""
    found: dict[str, UnsyncedPage] = {}
    for pid, page in pages.items():
        above = None if page.is_post else nearest_synced_ancestor(pid, pages, unsynced)
        while above is not None and above not in pages and above not in found:
            found[above] = unsynced[above]
            above = nearest_synced_ancestor(above, pages, unsynced)
    return found


def is_folder(page_id: str | None, unsynced: Mapping[str, UnsyncedPage]) -> bool:
    return page_id in unsynced and unsynced[page_id].kind == FOLDER


def make_plan(
    index: Index,
    placed: Mapping[str, Placed],
    *,
    converter_version: int,
    full: bool,
    named: frozenset[str] = frozenset(),
    held: frozenset[str] = frozenset(),
) -> Plan:
    """`named`: pages an event named, rendered again whatever their version says (an attachment or label change
    makes no new page version, yet what the page shows may have changed). `held`: pages whose new version is not
    judged yet (held_back): nothing of their own renders them now, but what other pages do (an included page changed
    or left, a linked or listed page moved) does, at the version the repository holds (reading.read_held_bodies);
    else a restricted page's content would stay in a held page that included it."""
    plan = Plan()
    for pid in sorted(placed, key=page_order):
        entry = index.pages.get(pid)
        if entry is None:
            plan.adds.append(pid)
        elif entry.path != placed[pid].path:
            plan.moves.append(pid)
        elif pid in held:
            plan.unchanged.append(pid)
        elif full or pid in named or _stale(entry, placed[pid], converter_version):
            plan.updates.append(pid)
        else:
            plan.unchanged.append(pid)
    plan.removes = sorted((pid for pid in index.pages if pid not in placed), key=page_order)
    _reinclude(plan, index)
    _relink(plan, index, placed)
    _relist(plan, index, placed)
    return plan


def _reinclude(plan: Plan, index: Index) -> None:
    """Unchanged pages that show the content of a page rendered now (edited, renamed, moved) or gone (deleted, out
    of scope, restricted: it becomes a link) are rendered again. The index records every source at any depth, so
    one pass catches pages that include a page that includes the changed one."""
    changed = set(plan.adds + plan.updates + plan.moves + plan.removes)
    if not changed:
        return
    again = [pid for pid in plan.unchanged if not changed.isdisjoint(index.pages[pid].includes)]
    if again:
        plan.updates = sorted(plan.updates + again, key=page_order)
        plan.unchanged = [pid for pid in plan.unchanged if pid not in set(again)]


def _relink(plan: Plan, index: Index, placed: Mapping[str, Placed]) -> None:
    """Unchanged pages that link to a page that appeared, moved or went away are rendered again, so their
    relative links (or links back to Confluence) follow it."""
    moved = set()
    for pid in plan.adds + plan.moves + plan.removes:
        for page in (placed.get(pid), index.pages.get(pid)):
            if page is not None:
                moved |= {link_key(pid), link_key(None, space_key=page.space_key, title=page.title)}
    if not moved:
        return
    relinked = [pid for pid in plan.unchanged if moved.intersection(index.pages[pid].links)]
    plan.updates = sorted(plan.updates + relinked, key=page_order)
    plan.unchanged = [pid for pid in plan.unchanged if pid not in set(relinked)]


def _relist(plan: Plan, index: Index, placed: Mapping[str, Placed]) -> None:
    """Unchanged pages with page-list macros are rendered again when a page of a space their lists cover appeared,
    went away, moved (renamed, new parent, other space), or changed its title, parent or labels.

    The index records what each page lists, not the macros' parameters (root, depth, labels, max are in the body, which
    the plan does not hold), so the plan cannot tell whether such a change alters a given listing: any of them in a
    covered space renders the listing page again. That is always correct for what lists show (titles, places,
    labels), and costs only the bodies of the listing pages of changed spaces (one bulk request per 250). An edit
    of a page's body alone renders no listing again, so a one-page edit stays a one-page commit: lists ordered by
    modification time (recently-updated) show the order as of their last render."""
    changed = plan.adds + plan.moves + plan.removes
    # A render for another reason (a new converter, a page an event named, a link to follow) changes no listing.
    changed += [pid for pid in plan.updates if _listed_as_changed(index.pages[pid], placed[pid])]
    spaces = {p.space_key for pid in changed for p in (index.pages.get(pid), placed.get(pid)) if p is not None}
    if not spaces:
        return
    relisted = {pid for pid in plan.unchanged if _covers(index.pages[pid].lists, spaces)}
    if not relisted:
        return
    plan.updates = sorted(plan.updates + list(relisted), key=page_order)
    plan.unchanged = [pid for pid in plan.unchanged if pid not in relisted]


def _covers(lists: Mapping[str, list[str]], spaces: set[str]) -> bool:
    return bool(lists) and ("*" in lists or not spaces.isdisjoint(lists))


def _listed_as_changed(entry: PageEntry, page: Placed) -> bool:
    return entry.title != page.title or entry.parent_id != page.parent_id or tuple(entry.labels) != page.labels


def link_key(page_id: str | None, *, space_key: str = "", title: str = "") -> str:
    """How an index entry names a page its body links to: by id, else by space and title."""
    return f"id:{page_id}" if page_id else f"title:{space_key}:{title}"


def ref_key(ref, space_key: str) -> str:
    """The link key of a converter PageRef on a page of `space_key` ("" for a link to an anchor of the page)."""
    if not ref.page_id and not ref.title:
        return ""
    return link_key(ref.page_id, space_key=ref.space_key or space_key, title=ref.title or "")


def _stale(entry: PageEntry, page: Placed, converter_version: int) -> bool:
    return (
        entry.version != page.version
        or entry.converter_version != converter_version
        or entry.title != page.title
        or tuple(entry.labels) != page.labels
        or tuple(entry.ancestors) != page.ancestors
        or entry.parent_id != page.parent_id
        or tuple(tuple(board) for board in entry.elsewhere) != page.elsewhere
    )
