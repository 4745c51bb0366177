"""Read what the scope selects now, spending as few Confluence calls as possible.

- A run over the whole scope lists each space once (250 pages a request; bodies only on a first or full run,
  or after a converter upgrade) and reads every label and view restriction in one bulk CQL search (200 a request).
- A targeted run (page ids from Forge events) starts from the index and fetches just those pages, with bodies,
  in one request; it asks for ancestors only when a page appeared under a parent we do not know, and re-reads the
  children of a page that went away (Confluence moves them up to its parent).

Blog posts of the spaces that sync their blog join either reading (confluence.sync.blog); the whiteboards, databases
and embeds below selected pages come with the facts search (confluence.sync.elsewhere).

Both also return the unsynced ancestors of the selected pages (pages the scope leaves out, between or above synced
ones): the index keeps them, so a targeted run sees the same hierarchy as a run over the whole scope. Pages with a
view restriction (their own or an ancestor's) are left out unless the scope opts in, and reported by id and title.
A body is written only at a version the run judged (read_bodies, plan.held_back).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from confluence.client import ConfluenceClient
from confluence.content import Page, PageFacts, Space
from confluence.convert import CONVERTER_VERSION
from confluence.gateway import ConfluenceUnavailable
from confluence.models import SyncRun, SyncScope
from confluence.sync import blog, elsewhere
from confluence.sync.attachments import attachments_changed
from confluence.sync.bodies import Bodies, fetch_with_bodies, past_bodies
from confluence.sync.facts import facts_of_ids, facts_of_spaces, subtree_facts
from confluence.sync.hierarchy import missing_parents
from confluence.sync.index import (
    Index,
    UnsyncedPage,
    descendant_ids,
    page_order,
    unsynced_ancestors,
)
from confluence.sync.plan import Selected, held_back
from confluence.sync.scope import ScopeSpec, select_pages

__all__ = ["ConfluenceUnavailable", "Reading", "read", "read_bodies", "read_held_bodies"]


@dataclass
class Reading:
    world: dict[str, Selected]  # the pages the scope selects
    bodies: Bodies  # the storage XHTML in hand (listed with the pages, or fetched with them)
    unsynced: dict[str, UnsyncedPage]  # the selected pages' unsynced ancestors
    # Pages to render again whatever their version says: one of the attachment listings they show files of changed.
    attachments_changed: set[str] = field(default_factory=set)
    # Selected pages left out because they are restricted (page id → title), among the pages the run judged:
    # every page of the scope (`judged` None) or just those a targeted run read.
    restricted: dict[str, str] = field(default_factory=dict)
    judged: set[str] | None = None
    # A targeted run's ids the page lookup did not return: gone pages, or blog posts (confluence.sync.blog).
    missing: list[str] = field(default_factory=list)
    # Held back (plan.held_back): changed, unknown to the search; kept as the index holds them, with no body.
    held: set[str] = field(default_factory=set)


def read(run: SyncRun, client: ConfluenceClient, scope: SyncScope, index: Index) -> Reading:
    spec = ScopeSpec.from_scope(scope)
    if run.is_targeted and index.spaces and index.knows_hierarchy:
        reading = read_targeted(client, spec, index, run.page_ids, boards=elsewhere.about_boards(run))
        if reading is not None:
            kept, posts = blog.read_targeted_posts(
                client, spec, blog=blog.blog_spaces(scope), index=index, missing=reading.missing
            )
            return with_posts(reading, posts, kept=kept)
    return read_scope(client, spec, scope, index, full=run.full)


def with_posts(reading: Reading, posts: blog.Posts, *, kept: Mapping[str, Selected] | None = None) -> Reading:
    """The reading with the blog posts the scope selects (their bodies, and the restricted ones reported)."""
    reading.world.update({**(kept or {}), **posts.selected})
    reading.bodies.update(posts.bodies)
    reading.restricted.update(posts.restricted)
    reading.held |= posts.held
    return reading


def read_scope(client: ConfluenceClient, spec: ScopeSpec, scope: SyncScope, index: Index, *, full: bool):
    """Every page (and blog post, of the spaces that sync their blog) of the scope's spaces."""
    spaces = scope_spaces(client, scope)
    index.spaces = keys = {space.id: space.key for space in spaces}
    with_bodies = full or not index.pages or any(e.converter_version != CONVERTER_VERSION for e in index.pages.values())
    bodies = Bodies()
    listing = {
        space.key: [bodies.take(page) for page in client.iter_space_pages(space.id, body=with_bodies)]
        for space in spaces
    }
    syncing_blog = blog.blog_spaces(scope)
    facts, boards = elsewhere.split_facts(facts_of_spaces(client, spaces, blog=bool(syncing_blog)))
    below = elsewhere.boards_by_parent(spec, boards)
    labels = {pid: fact.labels for pid, fact in facts.items()}
    hierarchy = {
        page.id: UnsyncedPage(page.title, keys[page.space_id], page.parent_id)
        for pages in listing.values()
        for page in pages
    }
    hierarchy.update(missing_parents(client, hierarchy, spaces=keys))
    listed = {page.id for pages in listing.values() for page in pages}
    parents = {pid: page.parent_id for pid, page in hierarchy.items() if pid not in listed}
    unknown = unsearched(listed, facts, index)
    restricted = {pid for pid, fact in facts.items() if fact.restricted} | unknown
    selection = select_pages(spec, pages_by_space=listing, labels=labels, extra_parents=parents, restricted=restricted)
    world = {
        pid: Selected.of_page(page, keys[page.space_id], labels.get(pid, []), elsewhere=below.get(pid, ()))
        for pid, page in selection.selected.items()
    }
    held = held_back(selection.selected.values(), facts, index)
    world.update({pid: Selected.of_entry(pid, index.pages[pid]) for pid in held})
    for pid in [pid for pid in bodies if pid not in selection.selected or pid in held]:
        del bodies[pid]
    reading = Reading(world, bodies, unsynced_ancestors(world, hierarchy), held=held)
    reading.restricted = {pid: page.title for pid, page in selection.restricted.items() if pid not in unknown}
    posts = blog.scope_posts(client, spec, spaces, blog=syncing_blog, facts=facts, index=index, body=with_bodies)
    with_posts(reading, posts)
    if not with_bodies:  # every page is rendered anyway on a first or full run
        reading.attachments_changed = attachments_changed(client, index, space_keys=[s.key for s in spaces])
    return reading


def scope_spaces(client: ConfluenceClient, scope: SyncScope) -> list[Space]:
    """The spaces a run over the whole scope lists: the scope's, and those its picked pages are in now. A picked
    page stays picked when it moves to another space (the scope names the space it was picked in): one bulk read
    of the picks finds where they are (250 a request)."""
    spaces = client.list_spaces(keys=scope.space_keys)
    if scope.pages:
        picked = client.get_pages([str(p["id"]) for p in scope.pages], body=False)
        elsewhere = sorted({page.space_id for page in picked} - {space.id for space in spaces})
        spaces += client.list_spaces(ids=elsewhere)
    return spaces


def read_targeted(
    client: ConfluenceClient, spec: ScopeSpec, index: Index, page_ids: list[str], *, boards: bool = False
) -> Reading | None:
    """What the named pages change, starting from the index; None when a page moved into a space the index does
    not list while the scope picks pages (it may be a pick, or hold one): then the whole scope is read.
    `boards`: an event was about a whiteboard, database or embed, so the boards below the fetched pages are read
    again; otherwise a page keeps those the index records (a moved subtree's come with its facts)."""
    requested = list(dict.fromkeys(page_ids))
    fetched = client.get_pages(requested, body=True)
    if spec.pages and any(p.space_id not in index.spaces for p in fetched):
        return None
    fetched = [p for p in fetched if p.space_id in index.spaces]
    gone = set(requested) - {p.id for p in fetched}
    # Confluence moves the children of a trashed or archived page up to its parent: re-read what the index holds
    # below pages that went away (250 a request).
    below = [p for p in descendant_ids(index, gone) if p not in requested]
    fetched += [p for p in client.get_pages(below, body=False) if p.space_id in index.spaces] if below else []
    gone |= set(below) - {p.id for p in fetched}
    facts = client.page_facts(f"type = page AND id in ({', '.join(sorted(p.id for p in fetched))})") if fetched else {}
    reshaped = read_reshaped_subtrees(client, spec, index, fetched=fetched, facts=facts)
    if reshaped is None:
        return None
    moved, subtree = reshaped
    facts, known = elsewhere.targeted_boards(
        client, spec, index, facts=facts, read=subtree, fetched=[p.id for p in fetched] if boards else []
    )
    reading = targeted_reading(client, spec, index, fetched=fetched + moved, gone=gone, facts=facts)
    reading.world = {pid: replace(page, elsewhere=known.get(pid, ())) for pid, page in reading.world.items()}
    reading.missing = [pid for pid in requested if pid in gone]
    return reading


def read_reshaped_subtrees(
    client: ConfluenceClient, spec: ScopeSpec, index: Index, *, fetched: list[Page], facts: dict[str, PageFacts]
) -> tuple[list[Page], set[str]] | None:
    """A page that moved (to another parent or space), is new to the index, or became restricted brings its subtree
    along: Confluence moves the children with it, and a view restriction covers them. Read that subtree as it is:
    (the pages below not yet fetched, the ids of the pages whose boards the subtree search read); their facts, and
    the boards', join `facts`. None when one is in a space the index does not list while the scope picks pages."""
    unknown = unsearched({p.id for p in fetched}, facts, index)
    withheld = set() if spec.include_restricted else {pid for pid, fact in facts.items() if fact.restricted} | unknown
    reshaped = [p.id for p in fetched if reshaped_page(p, index) or p.id in withheld]
    subtree = subtree_facts(client, reshaped)
    pages = {pid for pid, fact in subtree.items() if fact.kind not in elsewhere.BOARD_KINDS}
    new = sorted(pages - {p.id for p in fetched}, key=page_order)
    below_moved = client.get_pages(new, body=False) if new else []
    if spec.pages and any(p.space_id not in index.spaces for p in below_moved):
        return None
    facts.update(subtree)
    return [p for p in below_moved if p.space_id in index.spaces], pages | set(reshaped)


def targeted_reading(
    client: ConfluenceClient, spec: ScopeSpec, index: Index, *, fetched: list[Page], gone: set[str], facts: dict
) -> Reading:
    """The index's pages with the fetched ones in their current state and the gone ones dropped, through the scope."""
    labels = {pid: list(entry.labels) for pid, entry in index.pages.items()}
    labels.update({pid: fact.labels for pid, fact in facts.items()})
    refreshed = {p.id for p in fetched}
    # The index's blog posts are the blog module's to keep or drop.
    world = {
        pid: Selected.of_entry(pid, entry)
        for pid, entry in index.pages.items()
        if pid not in refreshed | gone and not entry.is_post
    }
    world.update({p.id: Selected.of_page(p, index.spaces[p.space_id], labels.get(p.id, [])) for p in fetched})
    held = held_back(fetched, facts, index)
    world.update({pid: Selected.of_entry(pid, index.pages[pid]) for pid in held})
    known = {pid: page for pid, page in index.unsynced.items() if pid not in refreshed | gone}
    known.update({pid: UnsyncedPage(page.title, page.space_key, page.parent_id) for pid, page in world.items()})
    known.update(missing_parents(client, known, spaces=index.spaces))
    parents = {pid: page.parent_id for pid, page in known.items() if pid not in world}
    by_space: dict[str, list] = {}
    for page in world.values():
        by_space.setdefault(page.space_key, []).append(page)
    unknown = unsearched(refreshed, facts, index)
    restricted = {pid for pid, fact in facts.items() if fact.restricted} | unknown
    selection = select_pages(spec, pages_by_space=by_space, labels=labels, extra_parents=parents, restricted=restricted)
    bodies = Bodies({p.id: p.body for p in fetched if p.body is not None and p.id in set(selection.selected) - held})
    selected = {pid: world[pid] for pid in selection.selected}
    reading = Reading(selected, bodies, unsynced_ancestors(selected, known), judged=refreshed | gone, held=held)
    reading.restricted = {pid: page.title for pid, page in selection.restricted.items() if pid not in unknown}
    return reading


def unsearched(page_ids: set[str], facts: Mapping[str, PageFacts], index: Index) -> set[str]:
    """Pages new to the repository that the search does not know yet (its index lags behind new content): their
    restrictions are unknown, so they wait for a later run. A page the repository holds keeps its place meanwhile:
    a lagging search must not delete it either (nor write a new version of it: held_back)."""
    return {pid for pid in page_ids if pid not in facts and pid not in index.pages}


def reshaped_page(page: Page, index: Index) -> bool:
    """Whether the page's place differs from what the index holds (or the index holds no synced page of it).
    Labels do not count: an excluded label leaves out the page, not its subtree."""
    held = index.pages.get(page.id)
    return held is None or (held.parent_id, held.space_key) != (page.parent_id, index.spaces.get(page.space_id))


def read_bodies(client: ConfluenceClient, reading: Reading, page_ids: list[str], *, spec: ScopeSpec) -> None:
    """Add the bodies of those pages and posts to the reading (the plan renders content the listing carried no body
    of); a page or post deleted since it was listed leaves the reading's world. Content whose version changed since
    the run judged it (or since it was synced: a targeted run renders pages it did not read again, to follow their
    links or inclusions) is judged again first, all in one search: its new body is written only if it passes."""
    asked = [pid for pid in page_ids if pid not in reading.held]
    posts = {pid for pid in asked if pid in reading.world and reading.world[pid].is_post}
    fetched = {page.id: page for page in fetch_with_bodies(client, asked, posts=posts)}
    changed = sorted(pid for pid, p in fetched.items() if p.version != reading.world.get(pid, p).version)
    facts = facts_of_ids(client, changed) if changed else {}
    for pid in changed:
        fact, page = facts.get(pid), fetched.pop(pid)
        restricted = fact is not None and spec.withholds(fact)
        if fact is None:  # the search does not know the new version yet
            reading.held.add(pid)
        elif restricted or spec.labelled_out(fact.labels):  # it leaves the world, unwritten
            reading.restricted.update({pid: page.title} if restricted else {})
            if reading.judged is not None:
                reading.judged.add(pid)
        else:
            fetched[pid] = page
            reading.world[pid] = replace(reading.world[pid], version=page.version, modified_at=page.modified_at)
    reading.bodies.update({pid: page.body or "" for pid, page in fetched.items()})
    kept = reading.bodies.keys() | reading.held
    reading.world = {pid: page for pid, page in reading.world.items() if pid not in asked or pid in kept}


def read_held_bodies(client: ConfluenceClient, reading: Reading, page_ids: list[str]) -> None:
    """Bodies of held content the plan renders again (an included page left, a linked page moved) at the version
    the repository holds, the one judged: its newer version is not. Content whose version is gone leaves the world
    (its file goes until a run can judge it)."""
    # Held means its current version is not the one wanted: no bulk read first.
    found = past_bodies(client, {pid: reading.world[pid] for pid in page_ids})
    reading.bodies.update(found)
    reading.world = {pid: page for pid, page in reading.world.items() if pid not in page_ids or pid in found}
