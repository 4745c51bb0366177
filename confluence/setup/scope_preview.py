"""The scope step's preview: the picked scope resolved against live listings of the spaces it touches, as the sync
engine will resolve it, and how it differs from the saved scope (`ScopeDiff`). Spaces whose blog posts are synced
too have their posts listed and judged as the engine judges them (`BlogCount`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from confluence.client import ConfluenceClient, cql_quote
from confluence.content import Page, Space
from confluence.sync import blog
from confluence.sync.index import Index, page_order
from confluence.sync.scope import ScopeSpec, Selection, fetch_labelled, fetch_listing, fetch_restricted, select_pages

MAX_DIFF_LISTED = 100  # pages named under "added" and "removed" in the preview; the rest are counted


@dataclass(frozen=True)
class ListedPage:
    """A page the preview names (added, removed, restricted)."""

    id: str
    title: str
    space_key: str


@dataclass(frozen=True)
class PageList:
    """Pages the preview names, the first MAX_DIFF_LISTED of them listed and the rest counted."""

    pages: tuple[ListedPage, ...] = ()
    count: int = 0  # may exceed len(pages): restriction data can be a count alone

    @classmethod
    def of(cls, pages) -> PageList:
        pages = sorted(pages, key=lambda p: (p.space_key, p.title.casefold(), page_order(p.id)))
        return cls(pages=tuple(pages), count=len(pages))

    @property
    def listed(self) -> tuple[ListedPage, ...]:
        return self.pages[:MAX_DIFF_LISTED]

    @property
    def more(self) -> int:
        return self.count - len(self.listed)


@dataclass(frozen=True)
class ScopeDiff:
    """What Save changes: the pages the new scope selects that the saved one does not, and the reverse. Both
    scopes are resolved against the same listings, so the difference is the choices', not Confluence's."""

    first: bool  # nothing saved yet: every selected page is added
    saved_count: int
    saved_blogs: bool  # the saved scope syncs the blog posts of some space
    added: PageList
    removed: PageList

    @property
    def unchanged(self) -> bool:
        return not self.added.count and not self.removed.count


@dataclass(frozen=True)
class SpaceCount:
    key: str
    selected: int
    total: int  # current pages of the space


@dataclass(frozen=True)
class BlogCount:
    """A space whose blog posts are synced: how many posts it holds and how many the scope keeps."""

    key: str
    selected: int
    total: int
    restricted: int = 0


@dataclass
class Preview:
    spec: ScopeSpec
    selection: Selection
    listing: dict[str, list[Page]] = field(default_factory=dict)  # space key → its current pages
    labelled: dict[str, list[str]] = field(default_factory=dict)  # page id → labels, for the excluded labels
    restricted_ids: set[str] = field(default_factory=set)  # pages of the listed spaces with a view restriction
    client: ConfluenceClient | None = field(default=None, repr=False)  # reads the saved scope's labels
    diff: ScopeDiff | None = None  # set by ScopeForm.check_preview
    diff_error: str = ""
    blogs: list[BlogCount] = field(default_factory=list)  # the spaces whose blog posts are synced

    @cached_property
    def titles(self) -> dict[str, tuple[str, str]]:
        """Page id → (title, space key), for every page of the listed spaces."""
        return {p.id: (p.title, key) for key, pages in self.listing.items() for p in pages}

    @property
    def space_count(self) -> int:
        return len({p.space_id for p in self.selection.selected.values()})

    @property
    def page_count(self) -> int:
        return len(self.selection.selected)

    @property
    def removes_everything(self) -> bool:
        """Save would select nothing (no page, no post) where the saved scope selects something (pages or a blog),
        or may (it could not be compared): the next run removes every synced page, which Save asks to confirm."""
        if self.page_count or any(count.selected for count in self.blogs):
            return False
        return bool(self.diff_error) or bool(self.diff and (self.diff.saved_count or self.diff.saved_blogs))

    @property
    def summary(self) -> str:
        pages = f"{self.page_count} page{'s' if self.page_count != 1 else ''}"
        spaces = f"{self.space_count} space{'s' if self.space_count != 1 else ''}"
        posts = sum(count.selected for count in self.blogs)
        if self.blogs:
            pages += f" and {posts} blog post{'s' if posts != 1 else ''}"
        return f"{pages} in {spaces} will be synced; {self.selection.excluded} excluded"

    @property
    def restricted(self) -> PageList:
        """Selected pages left out because of a view restriction (their own or an ancestor's)."""
        return PageList.of(self._listed(page_id) for page_id in self.selection.restricted)

    @property
    def space_counts(self) -> list[SpaceCount]:
        """Per listed space, how many of its pages the selection keeps: spaces with none are left out unless the
        saved scope had some there (its line then reads 0 of N)."""
        selected: dict[str, int] = {}
        for page_id in self.selection.selected:
            key = self.titles[page_id][1]
            selected[key] = selected.get(key, 0) + 1
        touched = set(selected) | {p.space_key for p in self.diff.removed.pages} if self.diff else set(selected)
        return [
            SpaceCount(key, selected.get(key, 0), len(pages))
            for key, pages in sorted(self.listing.items())
            if key in touched
        ]

    def compare_with(self, saved: ScopeSpec | None) -> None:
        """Resolve the saved scope against this preview's listings and keep the difference."""
        if saved is None or saved.is_empty:
            added = PageList.of(self._listed(pid) for pid in self.selection.selected)
            self.diff = ScopeDiff(first=True, saved_count=0, saved_blogs=False, added=added, removed=PageList())
            return
        labelled = dict(self.labelled)
        missing = sorted(set(saved.excluded_labels) - set(self.spec.excluded_labels))
        if missing and self.client is not None:
            labelled.update(fetch_labelled(self.client, list(self.listing), missing))
        before = select_pages(
            saved, pages_by_space=self.listing, labels=labelled, restricted=self.restricted_ids
        ).selected
        after = self.selection.selected
        self.diff = ScopeDiff(
            first=False,
            saved_count=len(before),
            saved_blogs=bool(saved.blogs),
            added=PageList.of(self._listed(pid) for pid in after.keys() - before.keys()),
            removed=PageList.of(self._listed(pid) for pid in before.keys() - after.keys()),
        )

    def _listed(self, page_id: str) -> ListedPage:
        title, key = self.titles.get(page_id, ("", ""))
        return ListedPage(id=page_id, title=title or f"Page {page_id}", space_key=key)


def preview_scope(client: ConfluenceClient, spec: ScopeSpec, *, involved: list[Space]) -> Preview:
    """Resolve the scope against live listings of the spaces it touches, as the sync engine will."""
    listing = fetch_listing(client, involved)
    labelled = fetch_labelled(client, list(listing), list(spec.excluded_labels))
    # Restricted pages are left out unless the connection opted in (issue 16): the preview says how many.
    restricted = set() if spec.include_restricted else fetch_restricted(client, list(listing))
    selection = select_pages(spec, pages_by_space=listing, labels=labelled, restricted=restricted)
    return Preview(
        spec=spec,
        selection=selection,
        blogs=count_posts(client, spec, involved=involved),
        listing=listing,
        labelled=labelled,
        restricted_ids=restricted,
        client=client,
    )


def count_posts(client: ConfluenceClient, spec: ScopeSpec, *, involved: list[Space]) -> list[BlogCount]:
    """The posts of the spaces whose blog the scope syncs, judged as a run over the whole scope judges them (labels,
    restrictions): one listing per such space and one search for their facts; no request when none syncs its blog."""
    spaces = [space for space in involved if space.key in spec.blogs and space.key in spec.spaces]
    if not spaces:
        return []
    posts = blog.list_posts(client, spaces, blog=spec.blogs, body=False)
    keys = ", ".join(cql_quote(space.key) for space in spaces)
    facts = client.page_facts(f"type = blogpost AND space in ({keys})")
    chosen = blog.select_posts(spec, posts, keys={space.id: space.key for space in spaces}, facts=facts, index=Index())
    return [
        BlogCount(
            key=space.key,
            selected=sum(1 for post in chosen.selected.values() if post.space_key == space.key),
            total=sum(1 for post in posts if post.space_id == space.id),
            restricted=sum(1 for post in posts if post.space_id == space.id and post.id in chosen.restricted),
        )
        for space in spaces
    ]
