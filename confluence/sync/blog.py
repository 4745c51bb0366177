"""Blog posts of the spaces whose blog the scope syncs: a whole-space selection with `"blog": true`.

- A run over the whole scope lists each such space's posts (250 a request; bodies when the pages' are read). Their
  labels and restrictions come with the pages' from the same bulk CQL search, which names `blogpost` among its
  types (confluence.sync.facts.facts_of_spaces) only when a space opts in: a scope without an opted-in space makes
  the requests it made before blog posts were synced, and one with them adds just the posts' listings.
- A targeted run (Forge `…:blogpost` events name the post's id, as page events name the page's) asks, in bulk and
  with bodies, for the named ids the page lookup did not return, and for their facts: only when a space opts in.

Posts are judged like pages: an excluded label or an excluded id leaves a post out, and so does a view restriction
unless the scope includes restricted content (such posts are reported like restricted pages). A post new to the
repository that the search does not know yet waits for a later run; one the repository holds that changed keeps the
synced version until the search knows it (plan.held_back). A post whose space stops syncing its blog, or
that was trashed, deleted or archived, is not selected, so the plan removes it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from confluence.client import ConfluenceClient
from confluence.content import Page, PageFacts, Space
from confluence.sync.index import BLOGPOST, Index
from confluence.sync.plan import Selected, held_back
from confluence.sync.scope import ScopeSpec


def blog_spaces(scope) -> set[str]:
    """The keys of the spaces whose blog posts the scope syncs (only whole spaces can opt in)."""
    return set(ScopeSpec.from_scope(scope).blogs)


@dataclass
class Posts:
    selected: dict[str, Selected] = field(default_factory=dict)
    restricted: dict[str, str] = field(default_factory=dict)  # post id → title, left out as restricted
    bodies: dict[str, str] = field(default_factory=dict)  # storage XHTML of selected posts fetched with bodies
    held: set[str] = field(default_factory=set)  # selected as the index holds them (plan.held_back)


def scope_posts(
    client: ConfluenceClient,
    spec: ScopeSpec,
    spaces: list[Space],
    *,
    blog: Collection[str],
    facts: Mapping[str, PageFacts],
    index: Index,
    body: bool,
) -> Posts:
    """The posts a run over the whole scope selects, from one listing per space that syncs its blog."""
    keys = {space.id: space.key for space in spaces if space.key in blog}
    return select_posts(spec, list_posts(client, spaces, blog=blog, body=body), keys=keys, facts=facts, index=index)


def list_posts(client: ConfluenceClient, spaces: list[Space], *, blog: Collection[str], body: bool) -> list[Page]:
    """The current posts of the spaces that sync their blog: one listing per space, 250 posts a request."""
    return [post for space in spaces if space.key in blog for post in client.iter_space_blogposts(space.id, body=body)]


def select_posts(
    spec: ScopeSpec, posts: list[Page], *, keys: Mapping[str, str], facts: Mapping[str, PageFacts], index: Index
) -> Posts:
    """The posts the scope keeps (`keys`: space id → key of the spaces that sync their blog)."""
    chosen = Posts()
    excluded = {pid for pid, _ in spec.excluded_pages}
    unjudged = held_back(posts, facts, index)  # changed, and the search does not know them yet
    for post in posts:
        fact, held = facts.get(post.id), index.pages.get(post.id)
        if post.space_id not in keys or post.id in excluded or (fact is None and held is None):
            continue  # not a syncing blog's, excluded, or unknown to the search yet (its restrictions too)
        labels = fact.labels if fact is not None else list(held.labels)
        if spec.labelled_out(labels):
            continue
        if fact is not None and spec.withholds(fact):
            chosen.restricted[post.id] = post.title
            continue
        if post.id in unjudged:
            chosen.selected[post.id] = Selected.of_entry(post.id, held)
            chosen.held.add(post.id)
            continue
        chosen.selected[post.id] = Selected.of_page(post, keys[post.space_id], labels, kind=BLOGPOST)
        if post.body is not None:
            chosen.bodies[post.id] = post.body
    return chosen


def read_targeted_posts(
    client: ConfluenceClient, spec: ScopeSpec, *, blog: Collection[str], index: Index, missing: list[str]
) -> tuple[dict[str, Selected], Posts]:
    """(The index's posts that stay as they are, the posts among `missing` — ids the page lookup did not return —
    read now). Posts of spaces that no longer sync their blog stay in neither, so the plan removes them."""
    keys = {space_id: key for space_id, key in index.spaces.items() if key in blog}
    pages = {pid for pid, entry in index.pages.items() if not entry.is_post} | index.unsynced.keys()
    asked = [pid for pid in missing if pid not in pages] if keys else []
    fetched = [post for post in client.get_blogposts(asked, body=True) if post.space_id in keys] if asked else []
    ids = ", ".join(post.id for post in fetched)
    facts = client.page_facts(f"type = blogpost AND id in ({ids})") if fetched else {}
    kept = {
        pid: Selected.of_entry(pid, entry)
        for pid, entry in index.pages.items()
        if entry.is_post and entry.space_key in blog and pid not in asked
    }
    return kept, select_posts(spec, fetched, keys=keys, facts=facts, index=index)
