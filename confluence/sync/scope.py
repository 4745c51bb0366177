"""Which pages a scope selects: whole spaces, page trees, minus excluded pages, subtrees and labels.

`select_pages` is pure (plain data in, plain data out) so the preview, the sync engine and the tests agree on
one definition. `fetch_listing` reads what it needs from Confluence: one body-less listing per space (250 pages a
request) and, only when labels are excluded, one bulk CQL search for the labels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from confluence.client import ConfluenceClient, cql_quote
from confluence.content import Page, Space
from confluence.sync.index import page_order


@dataclass(frozen=True)
class ScopeSpec:
    spaces: tuple[str, ...] = ()  # space keys synced whole
    pages: tuple[tuple[str, bool], ...] = ()  # (page id, with descendants)
    excluded_pages: tuple[tuple[str, bool], ...] = ()  # (page id, with descendants)
    excluded_labels: tuple[str, ...] = ()
    include_restricted: bool = False
    blogs: tuple[str, ...] = ()  # keys of whole spaces whose blog posts are synced too (confluence.sync.blog)

    @classmethod
    def from_scope(cls, scope) -> ScopeSpec:
        return cls(
            spaces=tuple(s["key"] for s in scope.spaces),
            blogs=tuple(s["key"] for s in scope.spaces if s.get("blog")),
            pages=tuple((str(p["id"]), bool(p.get("descendants", True))) for p in scope.pages),
            excluded_pages=tuple((str(p["id"]), bool(p.get("descendants", True))) for p in scope.excluded_pages),
            excluded_labels=tuple(scope.excluded_labels),
            include_restricted=scope.include_restricted,
        )

    @property
    def is_empty(self) -> bool:
        return not self.spaces and not self.pages

    @cached_property
    def unwanted_labels(self) -> frozenset[str]:
        return frozenset(label.lower() for label in self.excluded_labels)

    def labelled_out(self, labels: Iterable[str]) -> bool:
        """Whether content carrying these labels is left out (excluded labels match whatever their case)."""
        return not self.unwanted_labels.isdisjoint(label.lower() for label in labels)

    def withholds(self, fact) -> bool:
        """Whether content with these facts (`PageFacts`) stays out of the repository as restricted: a view
        restriction of its own or an ancestor's, unless the scope includes restricted content."""
        return fact.restricted and not self.include_restricted


@dataclass
class Selection:
    selected: dict[str, Page] = field(default_factory=dict)  # page id → page
    excluded: int = 0  # pages the inclusions reached but exclusions removed
    restricted: dict[str, Page] = field(default_factory=dict)  # selected but restricted, so left out

    def spaces(self) -> set[str]:
        return {page.space_id for page in self.selected.values()}


def descendants(page_id: str, children: dict[str, list[str]]) -> set[str]:
    found, stack = set(), [page_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def children_of(pages: dict[str, Page], extra_parents: dict[str, str | None]) -> dict[str, list[str]]:
    """Parent id → the ids of its children, among the candidates and the pages that only complete the hierarchy."""
    children: dict[str, list[str]] = defaultdict(list)
    for page_id, parent_id in extra_parents.items():
        if parent_id and page_id not in pages:
            children[parent_id].append(page_id)
    for page in pages.values():
        if page.parent_id:
            children[page.parent_id].append(page.id)
    return children


def select_pages(
    spec: ScopeSpec,
    *,
    pages_by_space: dict[str, list[Page]],
    labels: dict[str, list[str]] | None = None,
    extra_parents: dict[str, str | None] | None = None,
    restricted: set[str] | frozenset[str] = frozenset(),
) -> Selection:
    """Apply the scope to the pages of the spaces it touches (keyed by space key).

    `extra_parents` completes the hierarchy with pages that are not candidates themselves (the ancestors of a
    page a targeted run fetched), so an exclusion of a subtree still applies to a page created inside it.
    `restricted`: pages with a view restriction of their own or inherited, left out unless the scope opts in.
    """
    pages = {p.id: p for listing in pages_by_space.values() for p in listing}
    children = children_of(pages, extra_parents or {})
    included: set[str] = set()
    for key in spec.spaces:
        included |= {p.id for p in pages_by_space.get(key, [])}
    for page_id, with_descendants in spec.pages:
        if page_id in pages:
            included.add(page_id)
        if with_descendants:
            included |= descendants(page_id, children) & pages.keys()
    excluded: set[str] = set()
    for page_id, with_descendants in spec.excluded_pages:
        excluded.add(page_id)
        if with_descendants:
            excluded |= descendants(page_id, children)
    if spec.excluded_labels and labels is not None:
        excluded |= {pid for pid in included if spec.labelled_out(labels.get(pid, []))}
    kept = included - excluded
    withheld = set() if spec.include_restricted else kept & set(restricted)
    return Selection(
        selected={pid: pages[pid] for pid in sorted(kept - withheld, key=page_order)},
        excluded=len(included & excluded),
        restricted={pid: pages[pid] for pid in sorted(withheld, key=page_order)},
    )


def fetch_restricted(client: ConfluenceClient, space_keys: list[str]) -> set[str]:
    """Pages of those spaces with a view restriction, their own or an ancestor's: one CQL search a 200 pages."""
    if not space_keys:
        return set()
    spaces = ", ".join(cql_quote(key) for key in sorted(space_keys))
    facts = client.page_facts(f"type = page AND space in ({spaces})")
    return {page_id for page_id, fact in facts.items() if fact.restricted}


def fetch_listing(client: ConfluenceClient, spaces: list[Space]) -> dict[str, list[Page]]:
    """Body-less listings of current pages, keyed by space key."""
    return {space.key: list(client.iter_space_pages(space.id, body=False)) for space in spaces}


def fetch_labelled(client: ConfluenceClient, space_keys: list[str], labels: list[str]) -> dict[str, list[str]]:
    """Pages of those spaces that carry any of `labels`, with their labels: one CQL search, 250 results a call."""
    if not space_keys or not labels:
        return {}
    spaces = ", ".join(cql_quote(key) for key in sorted(space_keys))
    wanted = ", ".join(cql_quote(label) for label in sorted(labels))
    return client.labels_by_page(f"type = page AND space in ({spaces}) AND label in ({wanted})")
